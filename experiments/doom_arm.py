"""An experiment arm on a finished fresh Doom root: copy it, redo its round 1's C, say what was chosen.

Shared by ``experiments/doom_restarts.sh`` and ``experiments/doom_same_episodes.py``:

    python experiments/doom_arm.py copy <fresh root> <arm> [--redo-c]   # copy the root's doom/ folder
    python experiments/doom_arm.py choice <arm> [--rounds R] [--top K]   # what the validation games chose

``--redo-c`` keeps round 1's games and M (``mdnrnn.pt``) and removes everything else of round 1,
and its row of the rounds table, so ``iterate`` evolves round 1's C afresh on the same dream.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def copy_fresh_root(src, arm, redo_c: bool = False) -> bool:
    """Copy ``src``/doom into ``arm`` unless it is there (False: the arm exists and is resumed)."""
    src, arm = Path(src), Path(arm)
    if (arm / "doom").exists():
        return False
    shutil.copytree(src / "doom", arm / "doom")
    if redo_c:
        r1 = arm / "doom/laptop/iterate/round-1"
        for p in r1.iterdir():
            if p.name != "mdnrnn.pt":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        table = arm / "doom/laptop/iterate/rounds.json"
        table.write_text(json.dumps([r for r in json.loads(table.read_text()) if r["round"] == 0]))
    return True


def describe_choice(arm, k: int = 1, top: int = 6) -> str:
    """Round k's candidates, the chosen one, and the best validation means (most games first)."""
    c = json.loads((Path(arm) / f"doom/laptop/iterate/round-{k}/choice.json").read_text())
    best = sorted(c["validation"].items(), key=lambda kv: (-kv[1]["episodes"], -kv[1]["mean"]))[:top]
    return (f"round {k}: {len(c['validation'])} candidates; chosen {c['chosen']}; "
            + ", ".join(f"{w} {v['mean']:.1f} ({v['episodes']})" for w, v in best))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    cp = sub.add_parser("copy")
    cp.add_argument("src")
    cp.add_argument("arm")
    cp.add_argument("--redo-c", action="store_true")
    ch = sub.add_parser("choice")
    ch.add_argument("arm")
    ch.add_argument("--rounds", type=int, default=1)
    ch.add_argument("--top", type=int, default=6)
    args = ap.parse_args()
    if args.cmd == "copy":
        copy_fresh_root(args.src, args.arm, args.redo_c)
    else:
        for k in range(1, args.rounds + 1):
            print(describe_choice(args.arm, k, args.top))


if __name__ == "__main__":
    main()
