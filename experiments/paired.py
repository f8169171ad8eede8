"""Two Cs on the same 100 real test games (or tracks): the paired difference of their scores.

    python experiments/paired.py artifacts-m160 artifacts                # round 0 of two Doom artifacts roots
    python experiments/paired.py artifacts-restarts3 artifacts --rounds 1 1
    python experiments/paired.py artifacts-car-g80/carracing/laptop/controller-{zh,z}/test-deployed-100.json

Each argument is a Doom artifacts root (the ``--artifacts`` a recipe ran in) or a score file itself. A root's
round ``k`` is its iterative round's ``score.json``; round 0 falls back to the dream-trained C's
``score-deployed.json`` when no round was run. Both hold the real returns game by game on the profile's
test seeds, so the same index is the same game; a car C's ``test-deployed-100.json`` likewise holds its
100 test tracks. Prints both means, the mean difference +- the standard error of the paired difference,
and in how many games the first lived longer.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from wmlib import paths
from wmlib.config import get_config


def score_file(arm, k: int = 0) -> Path:
    """The score file of ``arm`` (a JSON file as given, or round ``k`` of a Doom artifacts root)."""
    if str(arm).endswith(".json"):
        return Path(arm)
    cfg = get_config("doom", "laptop", arm)
    path = paths.round_score(cfg, k)
    if k == 0 and not path.exists():
        path = paths.dream_score(cfg, cfg.dream.tau, "deployed")
    return path


def test_returns(arm, k: int = 0) -> np.ndarray:
    score = score_file(arm, k)
    if not score.exists():
        raise SystemExit(f"{score} does not exist: is {arm} a finished run (round {k} scored)?")
    data = json.loads(score.read_text())
    return np.asarray(data["real"]["returns"] if "real" in data else data["returns"], float)


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean of a - b, its standard error over the games or tracks): a and b on the same episodes, in order."""
    d = np.asarray(a, float) - np.asarray(b, float)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--rounds", type=int, nargs=2, default=(0, 0), metavar=("K1", "K2"))
    args = ap.parse_args()
    a, b = test_returns(args.first, args.rounds[0]), test_returns(args.second, args.rounds[1])
    if len(a) != len(b):
        raise SystemExit(f"{len(a)} games against {len(b)}: not the same test games")
    diff, se = paired_difference(a, b)
    print(f"{a.mean():.1f} +- {a.std():.1f} vs {b.mean():.1f} +- {b.std():.1f}: paired {diff:+.1f} +- {se:.1f} "
          f"(the first ahead in {(a > b).sum()} of {len(a)} games or tracks)")


if __name__ == "__main__":
    main()
