"""Dreams that begin anywhere along real games: does C stop cheating M's dream, with iterative training?

A fresh clone's Doom pipeline evolves a C that holds "right" (the dream never kills
it there; the real game does, at the wall). This experiment copies such a finished
pipeline root (``--source``, e.g. the one ``experiments/reproduce_timed.sh doom``
leaves in /tmp/wm-fresh-doom/artifacts) into its own folder, then runs the paper's
iterative rounds with the dream's starts set by ``--start-from``:

* ``first``: every dream begins at a recorded first frame (the paper);
* ``anywhere``: every ``--stride``-th step of the recorded games (random play, and
  from round 1 on, the games C itself played), with M's state after the real steps
  before it (``dream.start_from="anywhere"``). Round 0's C is re-evolved in that dream.

    python experiments/doom_starts.py --name anywhere --start-from anywhere --rounds 3
    python experiments/doom_starts.py --name first --start-from first --rounds 3

Run both side by side with ``--workers 1`` on a 2-core machine. Prints the rounds
table (real score over 100 games, mean +- std) and writes ``summary.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="run folder: artifacts-experiments/starts/<name>")
    ap.add_argument("--source", default="/tmp/wm-fresh-doom/artifacts",
                    help="a finished `reproduce doom` artifacts root to start from (copied, never changed)")
    ap.add_argument("--start-from", default="anywhere", choices=["first", "anywhere"])
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    root = Path("artifacts-experiments/starts") / args.name
    if not (root / "doom").exists():
        src = Path(args.source) / "doom" / "laptop"
        if not (src / "mdnrnn" / "mdnrnn.pt").exists():
            raise SystemExit(f"{src} holds no finished pipeline: run `bash experiments/reproduce_timed.sh doom` first")
        dst = root / "doom" / "laptop"
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("iterate", "temperature", "*.png"))
        if args.start_from != "first":  # round 0's C is evolved in the dream it will be judged in
            shutil.rmtree(dst / "dream-tau1.15", ignore_errors=True)
    os.environ["WM_ARTIFACTS"] = str(root.resolve())

    from wmlib.config import get_config
    from wmlib.training.dream import train_in_dream
    from wmlib.training.iterate import format_rounds, iterate

    cfg = get_config("doom", "laptop").with_overrides(
        dream=dict(start_from=args.start_from, start_stride=args.stride),
        evolution=dict(workers=args.workers))
    times = {}
    t0 = time.perf_counter()
    train_in_dream(cfg, progress=False)
    times["round 0: C in the dream"] = round((time.perf_counter() - t0) / 60, 2)
    rows = iterate(cfg, args.rounds, progress=True)
    print(format_rounds(rows))
    (root / "summary.json").write_text(json.dumps(dict(args=vars(args), minutes=times, rounds=rows), indent=2))


if __name__ == "__main__":
    main()
