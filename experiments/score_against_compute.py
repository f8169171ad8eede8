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

from wmlib import paper
from wmlib.book import compute_curve as cc

ROOT = Path(__file__).resolve().parents[1]


def _rows(arms, unit: str) -> None:
    for a in arms:
        seeds = " / ".join(f"{s:.1f}" for s in a.seeds)
        print(f"  {a.label:<52} {a.compute:>9.1f} {unit}  {a.mean:6.1f} +- {a.spread:5.1f}  ({seeds}; {a.source})")


def _when(fit, score, unit, scale=1.0) -> str:
    x = fit.compute_for(score)
    return "never (the line does not climb)" if math.isinf(x) else f"{x:,.0f} {unit} ({x * scale / 60:,.1f} h)"


def doom(figures: bool) -> None:
    arms = cc.doom_arms()
    m_arms = [a for a in arms if a.lever == "M's epochs"]
    fit = cc.fit_doublings(m_arms)
    t = cc.doom_minutes()
    print("Doom: round 0's real steps (100 test games, each CMA-ES seed) against minutes from a fresh clone")
    print(f"  (stages other than M {t['other']:.1f} min, M {t['m_per_epoch']:.3f} min per epoch: history stages_m160)")
    _rows(arms, "min")
    print(f"  line through the {fit.arms} M arms (each M's mean): {fit.per_doubling:+.1f} real steps per doubling "
          f"of the minutes, residual {fit.residual:.1f} (M's own draw)")
    for name, goal in [("solved", paper.DOOM_SOLVED), ("the paper", paper.DOOM_TEMPERATURE[1.15][1][0])]:
        print(f"  {name} ({goal}) at {_when(fit, goal, 'min')}")
    if figures:
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        cc.plot_arms(arms, ax, "minutes from a fresh clone (2-core box)", fit=fit,
                     targets={f"solved ({paper.DOOM_SOLVED})": paper.DOOM_SOLVED,
                              f"paper ({paper.DOOM_TEMPERATURE[1.15][1][0]})": paper.DOOM_TEMPERATURE[1.15][1][0]})
        ax.axvline(45, color="grey", lw=0.6)
        ax.set_ylabel("real steps, 100 test games")
        fig.tight_layout()
        fig.savefig(ROOT / "figures" / "doom_score_against_compute.png", dpi=120)


def car(figures: bool) -> None:
    arms = cc.car_arms()
    fit = cc.fit_doublings(arms)
    per = cc.car_minutes_per_track()
    print("CarRacing: V+M's score (100 official test tracks, each CMA-ES seed) against the real tracks evolution drove")
    _rows(arms, "tracks")
    print(f"  line through the {fit.arms} arms: {fit.per_doubling:+.1f} per doubling of the tracks, residual {fit.residual:.1f}")
    for goal in (850, paper.CARRACING_SCORES["World Model, full (C reads z and h)"][0]):
        print(f"  {goal} at {_when(fit, goal, 'tracks', per)} at {per * 60:.2f} s per track on 2 cores")
    print(f"  the paper's evolution: {cc.paper_car_tracks():,} tracks; the shipped C: "
          f"{cc.shipped_car_score()['mean']:.1f} +- {cc.shipped_car_score()['std']:.1f} over 100 other tracks")
    if figures:
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        full = paper.CARRACING_SCORES["World Model, full (C reads z and h)"][0]
        cc.plot_arms(arms, ax, "real tracks driven by C's evolution", fit=fit,
                     targets={"850": 850, f"paper ({full})": full})
        ax.set_ylabel("V+M score, 100 official tracks")
        fig.tight_layout()
        fig.savefig(ROOT / "figures" / "carracing_score_against_compute.png", dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-figures", action="store_true")
    args = ap.parse_args()
    doom(not args.no_figures)
    print()
    car(not args.no_figures)


if __name__ == "__main__":
    main()
