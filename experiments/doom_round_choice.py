"""What the real validation games chose in each iterative round of a finished Doom root.

    python experiments/doom_round_choice.py artifacts-restarts3 --rounds 1

Per round: how many candidates played, the chosen one, and the best validation means (most games
first). Reads each round's ``choice.json`` (written by ``python -m wmlib iterate`` or
``reproduce doom --rounds N``); it plays nothing.
"""
from __future__ import annotations

import argparse

from wmlib import paths
from wmlib.artifacts import read_json
from wmlib.config import get_config


def describe_choice(root, k: int = 1, top: int = 6) -> str:
    """Round k's candidates, the chosen one, and the best validation means (most games first)."""
    path = paths.round_dir(get_config("doom", "laptop", root), k) / "choice.json"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: round {k} of {root} has not chosen its C "
                         f"(python -m wmlib reproduce doom --rounds {k} --artifacts {root})")
    c = read_json(path)
    best = sorted(c["validation"].items(), key=lambda kv: (-kv[1]["episodes"], -kv[1]["mean"]))[:top]
    return (f"round {k}: {len(c['validation'])} candidates; chosen {c['chosen']}; "
            + ", ".join(f"{w} {v['mean']:.1f} ({v['episodes']})" for w, v in best))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="a finished Doom artifacts root")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    for k in range(1, args.rounds + 1):
        print(describe_choice(args.root, k, args.top))


if __name__ == "__main__":
    main()
