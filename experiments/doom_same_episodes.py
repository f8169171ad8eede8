"""Common random numbers in the dream: round 1's CMA-ES with every candidate dreaming the same episodes.

``evolution.same_episodes``: a generation's candidates dream the same starts with the same noise,
so they are ranked on their actions, not on which dreams they drew (a dream's length varies by
hundreds of steps from one key to the next). This re-evolves round 1 of a finished fresh root
(its round-1 games and M are kept; only C is evolved afresh, same seed, same budget), then the
usual validation games choose the round's C and the 100 test games score it.

    bash experiments/reproduce_timed.sh doom                # the fresh root: /tmp/wm-fresh-doom/artifacts
    python experiments/doom_same_episodes.py                # -> artifacts-experiments/same-episodes/r1
    python experiments/doom_same_episodes.py --restarts 3   # three CMA-ES runs, as experiments/doom_restarts.sh 3
    python experiments/doom_same_episodes.py --off --name default-again   # the control: same code, lever off

Prints the round's row (real and dream score) and what the validation games chose; the paired
difference against another arm's test games: ``--against <arm folder>``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from doom_arm import copy_fresh_root, describe_choice  # the sibling helper: copy a root, read its choice


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/tmp/wm-fresh-doom/artifacts", help="a fresh root with round 1 done")
    ap.add_argument("--name", default=None, help="arm folder under artifacts-experiments/same-episodes")
    ap.add_argument("--restarts", type=int, default=1)
    ap.add_argument("--off", action="store_true", help="the lever off (a control arm)")
    ap.add_argument("--against", default=None, help="another arm (or root) whose round-1 test games to pair with")
    args = ap.parse_args()

    from wmlib.config import get_config
    from wmlib.training.iterate import iterate

    arm = Path("artifacts-experiments/same-episodes") / (args.name or f"r{args.restarts}")
    copy_fresh_root(args.root, arm, redo_c=True)  # a copy of the root whose round-1 C is evolved afresh
    cfg = get_config("doom", "laptop", artifacts=arm).with_overrides(
        evolution=dict(same_episodes=not args.off), iterate=dict(restarts=args.restarts))
    row = iterate(cfg, 1, progress=False)[-1]
    print(f"{arm}: same_episodes={not args.off}, restarts={args.restarts}: real {row['real']['mean']:.1f} +- "
          f"{row['real']['std']:.1f}, dream {row['dream']['mean']:.1f} +- {row['dream']['std']:.1f}; "
          + describe_choice(arm, 1, top=4))
    if args.against:
        mine = _test_returns(arm)
        other = _test_returns(Path(args.against))
        d = mine - other
        print(f"paired against {args.against}: {d.mean():+.1f} +- {d.std(ddof=1) / np.sqrt(len(d)):.1f} "
              f"(longer in {(d > 0).sum()} of {len(d)} games)")


def _test_returns(arm: Path) -> np.ndarray:
    score = json.loads((arm / "doom/laptop/iterate/round-1/score.json").read_text())
    return np.asarray(score["real"]["returns"], float)


if __name__ == "__main__":
    main()
