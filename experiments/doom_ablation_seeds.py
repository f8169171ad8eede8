"""The transfer levers' ablation at three CMA-ES seeds: each lever off, one at a time, on one M.

    # the lever-on arm: a finished default root and its CMA-ES seeds (doom_round0_restarts.py made them)
    python experiments/doom_round0_restarts.py artifacts --seeds 1 2 --group 2
    # one root per lever off, data, V, series and M linked from the default's, three seeds each
    python experiments/doom_round0_restarts.py artifacts-thr --seeds 0 1 2 --set dream.done_rule=threshold
    python experiments/doom_ablation_seeds.py --on artifacts \
        --arm "the threshold done rule|dream.done_rule=threshold|artifacts-thr" ... --history ablation_seeds

A seed's root is ``<root>-seedS`` where that folder exists, else ``<root>`` itself (the seed ``reproduce``
ran there). Every C played the same 100 test games, so each lever-off seed pairs with the lever-on C of
the same CMA-ES seed: the paired difference +- its standard error over the games. Prints the table;
``--history NAME`` writes it to ``wmlib/pretrained/doom/history`` (notebook 07 draws it).

The levers that change the data or M's input (long random holds, M reading the discrete action) need a
new V or M and are not in this table: their one-seed rows are in history ``levers``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from wmlib.artifacts import write_json
from wmlib.book.history import history_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doom_round0_restarts as restarts  # noqa: E402  (beside this script)
from car_from_v_only import machine  # noqa: E402
from paired import paired_difference, test_returns  # noqa: E402


def seed_root(root: Path, seed: int) -> Path:
    """The seed's folder ``doom_round0_restarts`` made, else the root (the seed ``reproduce`` ran there)."""
    candidate = restarts.seed_root(root, seed)
    return candidate if candidate.exists() else root


def arm_returns(root: Path, seeds: list[int]) -> list[np.ndarray]:
    return [test_returns(seed_root(root, s)) for s in seeds]


def score(r: np.ndarray) -> dict:
    return {"mean": round(float(r.mean()), 1), "std": round(float(r.std()), 1)}


def build(on: Path, arms: list[tuple[str, str, Path]], seeds: list[int], on_label: str) -> list[dict]:
    base = arm_returns(on, seeds)
    rows = [{"setting": on_label, "set": None,
             "seeds": [score(r) for r in base], "mean": round(float(np.mean([r.mean() for r in base])), 1),
             "paired": None}]
    for label, setting, root in arms:
        rets = arm_returns(root, seeds)
        pairs = [paired_difference(r, b) for r, b in zip(rets, base)]
        rows.append({"setting": label, "set": setting, "seeds": [score(r) for r in rets],
                     "mean": round(float(np.mean([r.mean() for r in rets])), 1),
                     "paired": [{"diff": round(d, 1), "se": round(se, 1)} for d, se in pairs]})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--on", type=Path, required=True, help="the lever-on root (its seeds beside it)")
    ap.add_argument("--arm", action="append", default=[], metavar="LABEL|KEY=VALUE[ KEY=VALUE]|ROOT",
                    help="a lever off: its label, the --set values it ran with, and its root")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--history", default=None)
    ap.add_argument("--measured", default=None, help="the conditions, in words (default: the CPU's name)")
    ap.add_argument("--m", default="one M", help="which M, in words (the table's title)")
    ap.add_argument("--on-label", default="every lever on (the laptop default)")
    args = ap.parse_args()
    arms = []
    for a in args.arm:
        try:
            label, settings, root = a.split("|")
        except ValueError:
            raise SystemExit(f"--arm {a!r}: give LABEL|KEY=VALUE[ KEY=VALUE]|ROOT (three parts, '|' between)")
        arms.append((label, settings, Path(root)))
    rows = build(args.on, arms, args.seeds, args.on_label)
    for r in rows:
        seeds = " / ".join(f"{s['mean']:.1f}" for s in r["seeds"])
        paired = "" if r["paired"] is None else "  paired " + ", ".join(
            f"{p['diff']:+.1f} +- {p['se']:.1f}" for p in r["paired"])
        print(f"{r['setting']:<45} {seeds}  (mean {r['mean']:.1f}){paired}")
    if args.history:
        sets = " ".join(f"--arm \"{label}|{s}|<root>\"" for label, s, _ in arms)
        doc = {
            "title": f"Transfer levers off, three CMA-ES seeds each, on {args.m}",
            "question": "With M and its data fixed, what does each lever that acts on the dream or on C's input "
                        "buy, beyond one run's luck?",
            "section": "The levers at three seeds",
            "measured": args.measured or f"{machine()}; {args.m}: data, V, series and M shared by every arm; "
                        "every C on the same 100 test games",
            "command": "python experiments/doom_round0_restarts.py <root> --seeds 0 1 2 --set KEY=VALUE (one root "
                       f"per lever, linked to the default's); python experiments/doom_ablation_seeds.py --on <default "
                       f"root> {sets} --history {args.history}",
            "columns": [{"key": "setting", "label": "setting"}, {"key": "set", "label": "--set"},
                        {"key": "seeds", "label": "real, CMA-ES seeds " + " / ".join(map(str, args.seeds))},
                        {"key": "mean", "label": "mean over seeds"},
                        {"key": "paired", "label": "paired against the lever on, per seed"}],
            "rows": rows,
            "source": "experiments/doom_ablation_seeds.py",
        }
        path = history_dir("doom") / f"{args.history}.json"
        write_json(path, doc)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
