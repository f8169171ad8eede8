"""Real score against compute for both worlds, from the recorded histories: each lever's arms, the line
through them (score per doubling of compute) and where that line would reach the paper.

    python experiments/score_against_compute.py            # prints both tables, writes the two figures
    python experiments/score_against_compute.py --no-figures

Figures: figures/doom_score_against_compute.png, figures/carracing_score_against_compute.png.
The numbers are read with wmlib.book.compute_curve (notebook 07 and 03 draw the same).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from wmlib.book import compute_curve as cc

ROOT = Path(__file__).resolve().parents[1]


def _rows(arms, unit: str) -> None:
    for a in arms:
        seeds = " / ".join(f"{s:.1f}" for s in a.seeds)
        print(f"  {a.label:<52} {a.compute:>9.1f} {unit}  {a.mean:6.1f} +- {a.spread:5.1f}  ({seeds}; {a.source})")


def _when(fit, score, unit, scale=1.0) -> str:
    x = fit.compute_for(score)
    return "never (the line does not climb)" if math.isinf(x) else f"{x:,.0f} {unit} ({x * scale / 60:,.1f} h)"


def _figure(curve, name: str) -> None:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    cc.draw(curve, ax)
    fig.tight_layout()
    fig.savefig(ROOT / "figures" / f"{name}_score_against_compute.png", dpi=120)


def doom(figures: bool) -> None:
    curve, t = cc.doom_curve(), cc.doom_minutes()
    print("Doom: round 0's real steps (100 test games, each CMA-ES seed) against minutes from a fresh clone")
    print(f"  (stages other than M {t['other']:.1f} min, M {t['m_per_epoch']:.3f} min per epoch: history stages_m160)")
    _rows(curve.arms, "min")
    print(f"  line through the {curve.fit.arms} M arms (each M's mean): {curve.fit.per_doubling:+.1f} real steps per "
          f"doubling of the minutes, residual {curve.fit.residual:.1f} (M's own draw)")
    for name, goal in curve.targets.items():
        print(f"  {name} ({goal}) at {_when(curve.fit, goal, 'min')}")
    if figures:
        _figure(curve, "doom")


def car(figures: bool) -> None:
    curve, per = cc.car_curve(), cc.car_minutes_per_track()
    print("CarRacing: V+M's score (100 official test tracks, each CMA-ES seed) against the real tracks evolution drove")
    _rows(curve.arms, "tracks")
    print(f"  line through the {curve.fit.arms} arms: {curve.fit.per_doubling:+.1f} per doubling of the tracks, "
          f"residual {curve.fit.residual:.1f}")
    for goal in curve.targets.values():
        print(f"  {goal} at {_when(curve.fit, goal, 'tracks', per)} at {per * 60:.2f} s per track on 2 cores")
    shipped = cc.shipped_car_score()
    print(f"  the paper's evolution: {cc.paper_car_tracks():,} tracks; the shipped C: "
          f"{shipped['mean']:.1f} +- {shipped['std']:.1f} over 100 other tracks")
    if figures:
        _figure(curve, "carracing")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-figures", action="store_true")
    args = ap.parse_args()
    doom(not args.no_figures)
    print()
    car(not args.no_figures)


if __name__ == "__main__":
    main()
