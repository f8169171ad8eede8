"""M trained longer in the iterative round: does round 1's C transfer better when M is fine-tuned N epochs?

The default round fine-tunes M for ``iterate.mdnrnn_epochs=10`` epochs on random play plus
C's 100 real games. This copies a finished `reproduce doom` root (``--source``; its V, M,
round-0 C and round 1's recorded games are kept, round 1's M and C are dropped) into
``--dest`` and re-runs round 1 there with ``--epochs`` epochs of fine-tuning, through the
library's own ``iterate``: the same play data, seeds and C sizes as the default round.

    python experiments/doom_round_m_epochs.py --epochs 40 --dest /tmp/wm-longm

Prints the rounds table (real score over 100 test games, mean +- std) and writes it to
``artifacts-experiments/round-m-epochs/epochs-<N>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="/tmp/wm-fresh-doom2/artifacts", help="a finished `reproduce doom` root")
    ap.add_argument("--dest", required=True, help="where the copy goes (about 1.3 GB); reused when it exists")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    dest = Path(args.dest) / "doom" / "laptop"
    if not dest.exists():
        src = Path(args.source) / "doom" / "laptop"
        if not (src / "iterate" / "data" / "dataset.json").exists():
            raise SystemExit(f"{src} has no iterative round's games: run `bash experiments/reproduce_timed.sh doom`")
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("round-[1-9]*", "temperature", "*.png"))
        table = dest / "iterate" / "rounds.json"
        table.write_text(json.dumps([r for r in json.loads(table.read_text()) if r["round"] == 0], indent=2))
    os.environ["WM_ARTIFACTS"] = str(Path(args.dest).resolve())

    from wmlib.config import get_config
    from wmlib.training.iterate import format_rounds, iterate

    cfg = get_config("doom", "laptop").with_overrides(iterate=dict(mdnrnn_epochs=args.epochs),
                                                      evolution=dict(workers=args.workers))
    rows = iterate(cfg, 1, progress=False)
    print(format_rounds(rows))
    out = Path("artifacts-experiments/round-m-epochs")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"epochs-{args.epochs}.json").write_text(json.dumps(dict(args=vars(args), rounds=rows), indent=2))


if __name__ == "__main__":
    main()
