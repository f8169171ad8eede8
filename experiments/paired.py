"""Two Doom Cs on the same 100 real test games: the paired difference of their scores.

    python experiments/paired.py artifacts-experiments/levers/fresh-w40cos-t1.3 artifacts-experiments/levers/fresh-w40cos
    python experiments/paired.py <arm or fresh root> <other> --rounds 1 0   # round 1 of the first, round 0 of the second

Each argument is an arm folder (or a fresh root's ``artifacts``), or a score file itself (e.g. a
``dream-tau1.15/score-deployed.json``): an arm's ``doom/laptop/iterate/round-<k>/score.json`` holds the real returns game by game, on the profile's
test seeds, so the same index is the same game. Prints both means, the mean difference +- the standard
error of the paired difference, and in how many games the first lived longer.
A car controller's ``controller-<mode>/test-deployed-100.json`` works the same way (its 100 test tracks):

    python experiments/paired.py artifacts-experiments/car/fresh-s1/carracing/laptop/controller-{zh,z}/test-deployed-100.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def test_returns(arm, k: int = 0) -> np.ndarray:
    score = Path(arm) if str(arm).endswith(".json") else Path(arm) / f"doom/laptop/iterate/round-{k}/score.json"
    if not score.exists():
        raise SystemExit(f"{score} does not exist: is {arm} a finished arm (round {k} scored)?")
    data = json.loads(score.read_text())
    return np.asarray(data["real"]["returns"] if "real" in data else data["returns"], float)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--rounds", type=int, nargs=2, default=(0, 0), metavar=("K1", "K2"))
    args = ap.parse_args()
    a, b = test_returns(args.first, args.rounds[0]), test_returns(args.second, args.rounds[1])
    if len(a) != len(b):
        raise SystemExit(f"{len(a)} games against {len(b)}: not the same test games")
    d = a - b
    print(f"{a.mean():.1f} +- {a.std():.1f} vs {b.mean():.1f} +- {b.std():.1f}: paired {d.mean():+.1f} +- "
          f"{d.std(ddof=1) / np.sqrt(len(d)):.1f} (the first ahead in {(d > 0).sum()} of {len(d)} games or tracks)")


if __name__ == "__main__":
    main()
