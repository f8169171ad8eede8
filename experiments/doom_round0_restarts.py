"""Round 0's C chosen among several CMA-ES runs on real validation games: what it buys the default.

    python experiments/doom_round0_restarts.py artifacts --seeds 0 1 2 3 4 5 6 7 8 --group 3 --out restarts.json

``artifacts`` is a finished Doom laptop root (data, V, M; ``reproduce doom`` made one). For every CMA-ES
seed, round 0's C is evolved in M's dream in a folder of its own beside it (``<root>-seedS``: the stage
store keeps one seed per folder; data, V, series and M are links to the root's, so M is the same for every seed)
with ``train-in-dream doom --set evolution.seed=S`` (any ``--set`` / ``--recipe`` given here is passed on),
which also scores it on the profile's 100 test games. Every seed's C then plays the same
``--games`` real validation games (``iterate``'s validation seeds, never the test games). Seeds are cut
into groups of ``--group`` in the order given; in each group the C with the best validation mean is the
group's choice, and its test score is what "``--group`` runs chosen on real games" scores. Prints and
writes per seed (test, validation) and per group (the chosen seed's test score), with the means.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from wmlib import paths
from wmlib.artifacts import link_stages
from wmlib.config import get_config

ROOT = Path(__file__).resolve().parents[1]


def seed_root(root: Path, seed: int) -> Path:
    return root.parent / f"{root.name}-seed{seed}"


def prepare(root: Path, seed: int, profile: str) -> Path:
    """A folder for one seed whose data, V, series and M are links to the root's (read, never retrained)."""
    out = seed_root(root, seed)
    link_stages(paths.run_dir(get_config("doom", profile, str(root))),
                paths.run_dir(get_config("doom", profile, str(out))), ("data", "vae", "series", "mdnrnn"))
    return out


def evolve(out: Path, seed: int, profile: str, extra: list[str]) -> float:
    clock = time.time()
    cmd = [sys.executable, "-m", "wmlib", "train-in-dream", "doom", "--profile", profile, "--artifacts", str(out),
           "--set", f"evolution.seed={seed}", *extra]
    with open(out / "train-in-dream.log", "a") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return time.time() - clock


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--group", type=int, default=3, help="CMA-ES runs per choice")
    ap.add_argument("--games", type=int, default=None, help="validation games (default iterate.validation_games)")
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--set", action="append", default=[], help="passed on to train-in-dream")
    ap.add_argument("--recipe", default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from wmlib.agent.pool import RolloutPool
    from wmlib.config import apply_recipe, apply_settings
    from wmlib.training.dream import dream_params, real_spec
    from wmlib.training.iterate import validate

    extra = [a for s in args.set for a in ("--set", s)] + (["--recipe", args.recipe] if args.recipe else [])
    rows = {}
    for seed in args.seeds:
        out = prepare(args.root, seed, args.profile)
        seconds = evolve(out, seed, args.profile, extra)
        cfg = get_config("doom", args.profile, str(out))
        if args.recipe:
            cfg = apply_recipe(cfg, args.recipe)
        cfg = apply_settings(cfg, args.set + [f"evolution.seed={seed}"])
        score = json.loads(paths.dream_score(cfg, cfg.dream.tau, "deployed").read_text())
        rows[seed] = dict(root=str(out), seconds=round(seconds, 1), test=score["real"]["mean"],
                          test_std=score["real"]["std"], dream=score["dream"]["mean"],
                          params=dream_params(cfg, cfg.dream.tau))
        print(f"seed {seed}: test {score['real']['mean']:.1f} +- {score['real']['std']:.1f} "
              f"(dream {score['dream']['mean']:.1f}), {seconds / 60:.1f} min", flush=True)
    games = args.games or cfg.iterate.validation_games
    with RolloutPool(real_spec(cfg), "processes", cfg.evolution.workers) as pool:
        val = validate(pool, {str(s): r["params"] for s, r in rows.items()}, games)["validation"]
    for s, r in rows.items():
        r["validation"] = val[str(s)]["mean"]
        del r["params"]
    groups = []
    for i in range(0, len(args.seeds) - args.group + 1, args.group):
        members = args.seeds[i:i + args.group]
        chosen = max(members, key=lambda s: rows[s]["validation"])
        groups.append(dict(seeds=members, chosen=chosen, test=rows[chosen]["test"],
                           mean_of_members=float(np.mean([rows[s]["test"] for s in members]))))
    tests = [r["test"] for r in rows.values()]
    summary = dict(root=str(args.root), profile=args.profile, set=args.set, recipe=args.recipe, games=games,
                   seeds=rows, groups=groups, one_run=dict(mean=float(np.mean(tests)), std=float(np.std(tests))),
                   chosen=dict(mean=float(np.mean([g["test"] for g in groups])) if groups else None,
                               std=float(np.std([g["test"] for g in groups])) if groups else None))
    for s, r in rows.items():
        print(f"seed {s}: validation {r['validation']:.1f} over {games} games, test {r['test']:.1f}")
    for g in groups:
        print(f"group {g['seeds']}: chose seed {g['chosen']} -> test {g['test']:.1f} "
              f"(the group's mean {g['mean_of_members']:.1f})")
    print(f"one run: {summary['one_run']['mean']:.1f} +- {summary['one_run']['std']:.1f} over {len(tests)} seeds; "
          + (f"best of {args.group} on validation: {summary['chosen']['mean']:.1f} +- {summary['chosen']['std']:.1f} "
             f"over {len(groups)} groups" if groups else ""))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
