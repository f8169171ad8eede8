"""V: the latent explorer and bend-the-track (notebook 01)."""
from __future__ import annotations

import numpy as np

from .base import _Shown, figure_png, grid, to_png

# ----------------------------------------------------------------------------- V

def most_active_dims(mu: np.ndarray, logvar: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` latent dimensions with the largest mean KL over the given codes."""
    from ...models.vae import kl_per_dim
    import torch

    kl = kl_per_dim(torch.as_tensor(np.asarray(mu, np.float32)),
                    torch.as_tensor(np.asarray(logvar, np.float32))).mean(0).numpy()
    return np.argsort(-kl)[:n]


def principal_directions(mu: np.ndarray, k: int = 3) -> dict:
    """The top-``k`` principal directions of a set of codes, each scaled to one
    standard deviation of the codes along it (so "+2" means two std)."""
    mu = np.asarray(mu, np.float64)
    centred = mu - mu.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    std = s / np.sqrt(max(len(mu) - 1, 1))
    return {f"principal direction {i + 1}": (vt[i] * std[i]).astype(np.float32)
            for i in range(min(k, len(s)))}


def code_bars(code: np.ndarray, reference: np.ndarray | None = None, title: str = "the code z",
              limit: float = 4.0, size=(3.6, 2.6)):
    """The code as a bar chart, one bar per latent dimension (the reference, if any, as grey outlines)."""
    from matplotlib.figure import Figure

    code = np.asarray(code, np.float32).reshape(-1)
    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    dims = np.arange(len(code))
    if reference is not None:
        ax.bar(dims, np.asarray(reference).reshape(-1), width=0.9, color="none", edgecolor="grey", lw=0.6)
    ax.bar(dims, code, width=0.7, color=np.where(code >= 0, "tab:blue", "tab:orange"))
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylim(-limit, limit)
    ax.set_xlim(-1, len(code))
    ax.set_xlabel(f"latent dimension (0-{len(code) - 1})", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


class LatentExplorer(_Shown):
    """Sliders on V's most active latent dimensions; the decoded frame follows live.

    ``mu``/``logvar`` are codes of real frames: they choose the dimensions (by
    KL) and each slider's range (the codes' span on that dimension, padded, and
    at least -3..3). The other dimensions stay at the code of the picked frame
    (the ``frame`` slider; ``start`` at first). "randomise z" draws a whole new
    code from the prior N(0, I): what V draws for a code no frame produced.
    Pass the real ``frames`` to see each one beside its decoding.
    """

    def __init__(self, vae, mu, logvar, n_sliders: int = 8, start: int = 0, scale: int = 4,
                 frames: np.ndarray | None = None, seed: int = 0):
        import ipywidgets as W

        self.vae, self.scale = vae, scale
        self.mu = np.asarray(mu, np.float32)
        self.frames = None if frames is None else np.asarray(frames, np.uint8)
        self.rng = np.random.default_rng(seed)
        self.base = self.mu[start].copy()
        self.dims = most_active_dims(self.mu, logvar, n_sliders)
        lo, hi = self.mu.min(0), self.mu.max(0)
        pad = 0.25 * (hi - lo) + 0.5
        lo, hi = np.minimum(lo - pad, -3.0), np.maximum(hi + pad, 3.0)
        self.sliders = [
            W.FloatSlider(value=float(self.base[d]), min=float(lo[d]), max=float(hi[d]),
                          step=0.05, description=f"z[{d}]", continuous_update=True)
            for d in self.dims]
        self.picker = W.IntSlider(value=int(start), min=0, max=len(self.mu) - 1, description="frame",
                                  continuous_update=False)
        self.image, self.real_image = W.Image(format="png"), W.Image(format="png")
        self.reset_button = W.Button(description="reset")
        self.random_button = W.Button(description="randomise z")
        self.reset_button.on_click(lambda _: self.reset())
        self.random_button.on_click(lambda _: self.randomise())
        self.picker.observe(lambda ch: self.pick(ch["new"]), names="value")
        self._hold = False
        for s in self.sliders:
            s.observe(self._redraw, names="value")
        self.source = W.HTML()
        pictures = [W.VBox([W.Label("V's decoding"), self.image])]
        if self.frames is not None:
            pictures.insert(0, W.VBox([W.Label("the real frame"), self.real_image]))
        self.widget = W.VBox([
            W.HBox([self.picker, self.random_button, self.reset_button]),
            W.HBox([*pictures, W.VBox(self.sliders)]), self.source])
        self.pick(start)

    @property
    def code(self) -> np.ndarray:
        """The latent code the sliders describe, [z]."""
        z = self.base.copy()
        for d, s in zip(self.dims, self.sliders):
            z[d] = s.value
        return z

    @property
    def frame(self) -> np.ndarray:
        """V's decoding of the current code, uint8 [64, 64, 3]."""
        from ...models.vae import decode_codes

        return decode_codes(self.vae, self.code[None])[0]

    def _set_base(self, base: np.ndarray, text: str) -> None:
        self.base = np.asarray(base, np.float32).copy()
        self._hold = True
        try:
            for d, s in zip(self.dims, self.sliders):
                s.value = float(np.clip(self.base[d], s.min, s.max))
                self.base[d] = s.value
        finally:
            self._hold = False
        self._text = text
        self._redraw()

    def pick(self, index: int) -> None:
        """Start from the code of real frame ``index``."""
        index = int(index)
        if self.picker.value != index:
            self.picker.value = index  # observed: comes back here
            return
        self._index = index
        self._set_base(self.mu[index], f"the code of real frame {index}")

    def randomise(self) -> None:
        """A fresh code from V's prior, N(0, I), in every dimension."""
        self._index = None
        self._set_base(self.rng.standard_normal(len(self.base)).astype(np.float32),
                       "a random code drawn from N(0, I): no real frame made it")

    def reset(self) -> None:
        """Back to the picked frame's code."""
        if getattr(self, "_index", None) is None:
            self._set_base(self.base, self._text)
        else:
            self._set_base(self.mu[self._index], f"the code of real frame {self._index}")

    def _redraw(self, *_):
        if self._hold:
            return
        self.image.value = to_png(self.frame, self.scale)
        if self.frames is not None:
            index = getattr(self, "_index", None)
            blank = np.full_like(self.frames[0], 255)
            self.real_image.value = to_png(self.frames[index] if index is not None else blank, self.scale)
        self.source.value = f"Showing {self._text}, with your slider settings."


class BendTheTrack(_Shown):
    """Pick a real frame, slide its code along a latent direction, watch the picture change.

    Shows the real frame, the code itself (its 32 or 64 numbers as bars: grey
    outlines the frame's own code, colour the moved one), the frame decoded
    from the moved code, and a strip of decodings across the direction's range.
    """

    def __init__(self, vae, frames: np.ndarray, directions: dict | None = None, span: float = 3.0,
                 strip: int = 7, scale: int = 3):
        import ipywidgets as W

        from ...models.vae import encode_frames

        self.vae = vae
        self.frames = np.asarray(frames, np.uint8)
        self.mu, _ = encode_frames(vae, self.frames)
        self.directions = directions or principal_directions(self.mu, 3)
        self.span, self.n_strip, self.scale = span, strip, scale
        self.limit = float(max(3.0, np.abs(self.mu).max() + span * max(np.abs(d).max() for d in self.directions.values())))
        self.index = W.IntSlider(value=0, min=0, max=len(self.frames) - 1, description="frame")
        self.direction = W.Dropdown(options=list(self.directions), description="direction")
        self.amount = W.FloatSlider(value=0.0, min=-span, max=span, step=0.1, description="amount")
        self.real_image, self.moved_image, self.strip_image = (W.Image(format="png") for _ in range(3))
        self.bars_image = W.Image(format="png")
        for w in (self.index, self.direction, self.amount):
            w.observe(self._redraw, names="value")
        label = lambda text: W.Label(text)
        self.widget = W.VBox([
            W.HBox([self.index, self.direction, self.amount]),
            W.HBox([W.VBox([label("real frame"), self.real_image]),
                    W.VBox([label(f"its code: {self.mu.shape[1]} numbers"), self.bars_image]),
                    W.VBox([label("decoded from the moved code"), self.moved_image])]),
            label(f"along the direction, from -{span:g} to +{span:g}"),
            self.strip_image,
        ])
        self._redraw()

    def code_at(self, amount: float) -> np.ndarray:
        return self.mu[self.index.value] + amount * self.directions[self.direction.value]

    @property
    def code(self) -> np.ndarray:
        """The moved code, [z]: what the decoder reads."""
        return self.code_at(self.amount.value)

    @property
    def frame(self) -> np.ndarray:
        """The decoded frame at the current amount, uint8 [64, 64, 3]."""
        from ...models.vae import decode_codes

        return decode_codes(self.vae, self.code[None])[0]

    @property
    def strip(self) -> np.ndarray:
        """Decodings at ``strip`` evenly spaced amounts, uint8 [strip, 64, 64, 3]."""
        from ...models.vae import decode_codes

        amounts = np.linspace(-self.span, self.span, self.n_strip)
        return decode_codes(self.vae, np.stack([self.code_at(a) for a in amounts]))

    def _redraw(self, *_):
        self.real_image.value = to_png(self.frames[self.index.value], self.scale)
        self.moved_image.value = to_png(self.frame, self.scale)
        fig = code_bars(self.code, self.mu[self.index.value], limit=self.limit, size=(3.6, 2.5),
                        title=f"z moved {self.amount.value:+.1f} along direction {self.direction.index + 1}")
        self.bars_image.value = figure_png(fig)
        self.strip_image.value = to_png(np.concatenate(list(self.strip), axis=1), 2)


__all__ = ["to_png", "figure_png", "grid", "code_bars", "LatentExplorer", "BendTheTrack", "most_active_dims",
           "principal_directions"]
