"""Commands for the first stage: collect random-play data, measure random baselines."""
from __future__ import annotations

from .artifacts import write_json
from .config import WORLDS, get_config


def add_commands(sub, parent):
    p = sub.add_parser("collect", parents=[parent], help="record random-play episodes as shards")
    p.add_argument("world", help=f"one of {', '.join(WORLDS)}")
    p.add_argument("--episodes", type=int, default=None, help="episodes in total (default: profile)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: profile)")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("baseline", parents=[parent], help="random-policy score over N episodes")
    p.add_argument("world", help=f"one of {', '.join(WORLDS)}")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skill", type=int, default=4, choices=range(1, 6), help="Doom difficulty (default 4)")
    p.set_defaults(func=cmd_baseline)


def cmd_collect(args):
    from .worlds.data import collect, summarize

    cfg = get_config(args.world, args.profile)
    ds = collect(cfg, episodes=args.episodes, workers=args.workers)
    print(summarize(ds))
    print(f"data in {ds.root}")


def cmd_baseline(args):
    from .worlds.baseline import random_baseline

    cfg = get_config(args.world, args.profile)
    res = random_baseline(cfg.world, episodes=args.episodes, workers=args.workers, skill=args.skill)
    r = res["returns"]
    print(f"{cfg.world} random policy over {len(r)} episodes: "
          f"return {r.mean():.1f} +- {r.std():.1f} (steps {res['lengths'].mean():.1f})")
    # Kept for the README's results table (`python -m wmlib results`).
    path = baseline_path(cfg.world, len(r), args.skill)
    write_json(path, dict(world=cfg.world, episodes=len(r), skill=args.skill, mean=float(r.mean()),
                          std=float(r.std()), command=f"python -m wmlib baseline {cfg.world} --episodes {len(r)}"
                          + (f" --skill {args.skill}" if cfg.world == "doom" else "")))
    print(f"saved {path}")


def baseline_path(world: str, episodes: int, skill: int = 4):
    from .artifacts import artifacts_root

    name = f"random-{episodes}" + (f"-skill{skill}" if world == "doom" else "") + ".json"
    return artifacts_root() / world / "baselines" / name
