"""Curious data against random play and the current exploration, at equal real episodes.

    python experiments/curiosity.py --artifacts <root> --out curiosity.json [--seeds 0 1 2]
        [--arms current random curious] [--profile laptop] [--games 100] [--set section.field=value ...]

``<root>`` holds a finished round 0 of Doom at the profile (random play, V, M and the dream-trained C:
``python -m wmlib reproduce doom``). Each arm and seed plays ONE iterative round in a folder of its own,
``<out>-arms/<arm>-s<seed>/``, that links to the root's round-0 stages (read, never retrained) and keeps
its own ``iterate/``: the round's ``iterate.episodes`` new real games are played by
``iterate.explore_policy=<arm>`` with ``iterate.seed=<seed>``, then M is fine-tuned on them, C evolved in
the new M's dream and chosen by the profile's validation games, as ``python -m wmlib iterate`` does.
Every arm plays the same number of real games for M's data (the curious search's games ARE its data).

Per arm and seed the JSON holds what iterate records, and M judged on its own C's next games:

* ``m_next``: M of round 1 on the real games round 1's C plays next (the test games;
  ``iterate.judge_next_games``): NLL per dim, death recall and precision;
* ``real``, ``dream``, ``gap``: round 1's C over the test games and dreams (``score_round``), dream - real;
* ``new_m_heldout``: round 0's M on the arm's new games (``judge_m``): how surprising the data was;
* ``curious``: the curious search's surprise by generation (did it rise? did the M after it learn from it?).

``round0`` holds round 0's M judged on round 0's C's games, the point every arm starts from, and
``summary`` each arm's mean and std over the seeds. Arms run one after another (each uses the profile's
workers); a killed run resumes where it stopped (every stage is get-or-build).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from wmlib import paths
from wmlib.artifacts import write_json
from wmlib.config import apply_settings, get_config
from wmlib.training.explore import EXPLORE_POLICIES, arm_root
from wmlib.training.iterate import iterate, judge_next_games, score_round

METRICS = (("m_next", "nll"), ("m_next", "done_recall"), ("real", "mean"), ("dream", "mean"), ("gap", None),
           ("new_m_heldout", "nll"), ("new_m_heldout", "done_recall"))


def run_arm(base_cfg, settings, arm: str, seed: int, folder: Path, games: int) -> dict:
    root = arm_root(base_cfg, folder)
    cfg = apply_settings(get_config(base_cfg.world, base_cfg.profile, artifacts=str(root)),
                         list(settings) + [f"iterate.explore_policy={arm}", f"iterate.seed={seed}"])
    row = iterate(cfg, rounds=1)[1]
    validation = sum(v["episodes"] for v in row.get("chosen", {}).get("validation", {}).values())
    return dict(root=str(root), m_next=judge_next_games(cfg, 1, games), real=row["real"], dream=row["dream"],
                gap=row["dream"]["mean"] - row["real"]["mean"], new_m_heldout=row["new_m_heldout"],
                curious=row.get("curious"), games=dict(data=cfg.iterate.episodes, validation=validation),
                minutes=sum(row["seconds"].values()) / 60)


def pick(run: dict, section: str, field: str | None):
    value = run[section] if field is None else run[section][field]
    return None if value is None else float(value)


def summarise(runs: dict) -> dict:
    """Per arm, each metric's mean and std over the seeds that have it."""
    out = {}
    for arm, by_seed in runs.items():
        out[arm] = {}
        for section, field in METRICS:
            values = [v for v in (pick(r, section, field) for r in by_seed.values()) if v is not None]
            name = section if field is None else f"{section}.{field}"
            out[arm][name] = dict(mean=float(np.mean(values)) if values else None,
                                  std=float(np.std(values)) if values else None, seeds=len(values))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True, help="a root with Doom's round 0 done at --profile")
    ap.add_argument("--out", required=True, help="the JSON to write; the arms' folders go beside it (<out>-arms/)")
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--arms", nargs="+", default=list(EXPLORE_POLICIES), choices=EXPLORE_POLICIES)
    ap.add_argument("--games", type=int, default=None, help="real games judging each round-1 M (default: "
                    "dream.real_episodes, the test games)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="settings for every arm, as on the library's commands")
    args = ap.parse_args(argv)
    base = apply_settings(get_config("doom", args.profile, artifacts=args.artifacts), args.set)
    if not paths.round_mdnrnn(base, 0).exists():
        sys.exit(f"{paths.run_dir(base)} has no round 0 (no M at {paths.round_mdnrnn(base, 0)}): run "
                 f"`python -m wmlib reproduce doom --profile {args.profile} --artifacts {args.artifacts}` first")
    games = base.dream.real_episodes if args.games is None else args.games
    out = Path(args.out).resolve()
    arms_dir = out.parent / f"{out.stem}-arms"
    score_round(base, 0)  # round 0's score, shared by every arm (played here once if the root has none)
    result = dict(root=str(Path(args.artifacts).resolve()), profile=args.profile, settings=args.set,
                  seeds=args.seeds, arms=args.arms, games=games, round0=judge_next_games(base, 0, games), runs={})
    for seed in args.seeds:
        for arm in args.arms:
            print(f"--- {arm}, seed {seed}", flush=True)
            result["runs"].setdefault(arm, {})[str(seed)] = run_arm(base, args.set, arm, seed,
                                                                    arms_dir / f"{arm}-s{seed}", games)
            result["summary"] = summarise(result["runs"])
            write_json(out, result)  # after every arm: a killed run keeps what it measured
    for arm, s in result["summary"].items():
        print(f"{arm:>8}: " + ", ".join(f"{k} {v['mean']:.3f} +- {v['std']:.3f}" for k, v in s.items()
                                        if v["mean"] is not None))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
