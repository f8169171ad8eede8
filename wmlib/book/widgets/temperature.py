"""The temperature table, one tau at a time (notebook 05)."""
from __future__ import annotations

import numpy as np

from .base import _Shown, figure_png, grid, to_png

# ----------------------------------------------------------------------------- the temperature table, one tau at a time

class TauStepper(_Shown):
    """Step through the temperature sweep: for the chosen tau, the paper's bars beside ours
    (dream and real, mean +- std), and that tau's controller in its dream and in the real game.

    ``rows``: the sweep's rows (``temperature_sweep(cfg)["rows"]``); ``films``: per tau,
    ``dict(dream=frames, real=frames)`` (uint8 [T, H, W, 3]) of one dream and one real game.
    State as plain values: ``.tau`` (the tau shown) and ``.row`` (its row).
    """

    def __init__(self, rows, films: dict, frames: int = 8):
        import ipywidgets as W

        if not rows:
            raise ValueError("no sweep rows to step through: run temperature_sweep(cfg) first")
        self.rows = {round(float(r["tau"]), 2): r for r in rows}
        missing = [t for t in self.rows if t not in {round(float(k), 2) for k in films}]
        if missing:
            raise ValueError(f"no films for tau {missing}: record a dream and a real game for every tau of the rows")
        self.films = {round(float(k), 2): v for k, v in films.items()}
        self.n_frames = int(frames)
        self.slider = W.SelectionSlider(options=[(f"{t:.2f}", t) for t in self.rows], description="tau")
        self.bars, self.strip = W.Image(format="png"), W.Image(format="png")
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.widget = W.VBox([self.slider, W.HBox([self.bars, self.strip])])
        self.show(self.slider.value)

    def show(self, tau: float) -> None:
        from matplotlib.figure import Figure
        from PIL import Image

        self.tau, self.row = float(tau), self.rows[round(float(tau), 2)]
        fig = Figure(figsize=(3.2, 2.6))
        ax = fig.add_subplot()
        labels, means, stds, colors = [], [], [], []
        for who, color in (("ours", "tab:blue"), ("paper", "tab:grey")):
            for world in ("dream", "real"):
                if who == "ours":
                    m, s = self.row[f"{world}_mean"], self.row[f"{world}_std"]
                elif self.row.get(f"paper_{world}"):
                    m, s = self.row[f"paper_{world}"]
                else:
                    continue
                labels.append(f"{world}\n{who}"); means.append(m); stds.append(s); colors.append(color)
        ax.bar(range(len(means)), means, yerr=stds, color=colors, capsize=3)
        ax.set_xticks(range(len(means)), labels, fontsize=7)
        ax.set_ylabel("steps survived", fontsize=8)
        ax.set_title(f"tau {self.tau:.2f}", fontsize=9)
        fig.tight_layout()
        self.bars.value = figure_png(fig)
        film = self.films[round(self.tau, 2)]
        strips = []
        for frames in (film["dream"], film["real"]):
            frames = np.asarray(frames, np.uint8)
            picks = np.linspace(0, len(frames) - 1, self.n_frames).astype(int)
            small = [np.asarray(Image.fromarray(frames[i]).resize((64, 64))) for i in picks]
            strips.append(grid(np.stack(small), self.n_frames))
        self.strip.value = to_png(np.concatenate([strips[0], np.full((4, strips[0].shape[1], 3), 255, np.uint8),
                                                  strips[1]]), scale=2)


__all__ = ["TauStepper"]
