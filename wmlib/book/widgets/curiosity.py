"""M's surprise along a real game, step by step (notebook 08).

    game = played_surprise(spec, params, seed, pos_weight)   # wmlib.agent.curiosity: one real game, scored
    SurpriseTrace(game)                                       # a slider (and Play) over its steps

At step t the explorer shows the frame the agent saw, M's surprise along the whole game with a
marker at t, in its two parts (the next code's NLL and, for Doom, the done head's loss), and the
numbers at t. State as plain values: ``.t``, ``.surprise`` (the value at t), ``.game``.
"""
from __future__ import annotations

import numpy as np

from .base import _Shown, figure_png, to_png


def _word(world_action) -> str:
    a = float(np.asarray(world_action).reshape(-1)[0])
    return "left" if a < -1 / 3 else "right" if a > 1 / 3 else "stay"


class SurpriseTrace(_Shown):
    """One real game and M's surprise along it: a slider over the steps, the frame, the curve and a marker.

    ``game``: what ``agent.curiosity.played_surprise`` returns (frames [T+1, H, W, 3], surprise, z, done [T],
    actions, done_prob, steps, died). ``label``: who played it, for the title.
    """

    book_caption = "M's surprise along one real game: the frame at each step and the surprise curve"

    def __init__(self, game: dict, label: str = "", interval: int = 80, scale: int = 2):
        import ipywidgets as W

        steps = int(game["steps"])
        if steps < 1 or len(game["surprise"]) != steps or len(game["frames"]) < steps:
            raise ValueError("SurpriseTrace needs a scored game: pass what played_surprise(spec, params, seed) returns")
        self.game, self.label, self.scale = game, label, int(scale)
        self.play = W.Play(value=0, min=0, max=steps - 1, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.slider = W.IntSlider(value=0, min=0, max=steps - 1, description="step", continuous_update=True)
        W.jslink((self.play, "value"), (self.slider, "value"))
        self.slider.observe(lambda _: self._redraw(), names="value")
        self.image, self.curve, self.status = W.Image(format="png"), W.Image(format="png"), W.HTML()
        self.widget = W.VBox([W.HBox([self.play, self.slider]), W.HBox([self.image, self.curve]), self.status])
        self._redraw()

    @property
    def t(self) -> int:
        return int(self.slider.value)

    @property
    def surprise(self) -> float:
        return float(self.game["surprise"][self.t])

    def frame(self, t: int | None = None) -> np.ndarray:
        """The frame the agent saw before acting at step t, uint8 [H, W, 3]."""
        return np.asarray(self.game["frames"][self.t if t is None else t], np.uint8)

    def figure(self, t: int | None = None):
        """The surprise along the game with a marker at step t (a matplotlib Figure, not shown): the next
        code's part on top and, with a done head, its part below (a death's spike would flatten the rest)."""
        from matplotlib.figure import Figure

        t = self.t if t is None else t
        g = self.game
        parts = [("the next code's NLL (nats / dim)", g["z"], "tab:purple")]
        if g.get("done_prob") is not None:
            parts.append(("the done head's loss (nats)", g["done"], "tab:red"))
        fig = Figure(figsize=(4.6, 1.5 + 1.1 * len(parts)))
        axes = fig.subplots(len(parts), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (label, y, color) in zip(axes, parts):
            ax.plot(y, lw=0.8, color=color)
            ax.axvline(t, color="black", lw=0.8)
            if np.isfinite(y[t]):
                ax.plot([t], [y[t]], "o", color="black", ms=4)
            ax.set_ylabel(label, fontsize=6)
            ax.tick_params(labelsize=6)
        axes[0].set_title(f"{self.label or 'one real game'}: M's surprise, step {t}", fontsize=7)
        axes[-1].set_xlabel("step", fontsize=7)
        fig.tight_layout()
        return fig

    def describe(self, t: int | None = None) -> str:
        t = self.t if t is None else t
        g = self.game
        text = f"step {t} of {g['steps']}: {_word(g['actions'][t])}; surprise {g['surprise'][t]:.2f} nats"
        if np.isfinite(g["z"][t]):
            text += f" (next code {g['z'][t]:.2f} per dim"
        else:
            text += " (the last step: no next code"
        text += f", done head {g['done'][t]:.2f})" if g.get("done_prob") is not None else ")"
        if g.get("done_prob") is not None:
            text += f"; M's death belief {g['done_prob'][t]:.2f}"
        if t == g["steps"] - 1:
            text += "; the game ended here" + (" (a death)" if g["died"] else " (the cap)")
        return text

    def _redraw(self) -> None:
        self.image.value = to_png(self.frame(), self.scale)
        self.curve.value = figure_png(self.figure())
        self.status.value = self.describe()

    def book_frames(self, n: int = 30) -> list:
        """``n`` steps from the start to the end: the frame beside the curve (the site's animation)."""
        from PIL import Image
        import io

        out = []
        for t in np.linspace(0, self.game["steps"] - 1, n).astype(int):
            curve = np.asarray(Image.open(io.BytesIO(figure_png(self.figure(int(t))))).convert("RGB"))
            frame = np.repeat(np.repeat(self.frame(int(t)), self.scale, 0), self.scale, 1)
            h = max(curve.shape[0], frame.shape[0])
            pad = lambda x: np.pad(x, ((0, h - x.shape[0]), (0, 0), (0, 0)), constant_values=255)
            out.append(np.concatenate([pad(frame), pad(curve)], axis=1))
        return out


__all__ = ["SurpriseTrace"]
