"""M: the temperature explorer over one coordinate's mixture (notebook 02)."""
from __future__ import annotations

import io

import numpy as np

from .base import _Shown, figure_png, grid, to_png

# ----------------------------------------------------------------------------- M: temperature

def rare_mode_score(logpi, mu, logsigma) -> np.ndarray:
    """How clearly each mixture [..., K] has a second, separate mode -> [...].

    The weight of the best non-dominant component, counted fully only when its
    mean sits at least two (summed) standard deviations from the dominant one's.
    """
    logpi, mu, sigma = (np.asarray(t, np.float64) for t in (logpi, mu, np.exp(np.asarray(logsigma, np.float64))))
    pi = np.exp(logpi)
    top = np.argmax(pi, -1)[..., None]
    gap = np.abs(mu - np.take_along_axis(mu, top, -1)) / (sigma + np.take_along_axis(sigma, top, -1))
    score = pi * np.minimum(gap / 2, 1.0)
    np.put_along_axis(score, top, 0.0, -1)
    return score.max(-1)


FIREBALL_BAND = (29, 36)   # the rows of Take Cover's wall torches (yellow too): not counted


def fireball_pixels(frames: np.ndarray) -> np.ndarray:
    """Fireball-coloured pixels (bright yellow-orange) per 64x64 Doom frame -> int [N].

    The torches on the far wall share the colour, so their band of rows is left
    out. On the laptop V's reconstructions a count >= 8 flags a fireball that
    the real frame shows too (no false alarms on the frames we checked); small,
    distant fireballs are missed, as V misses them.
    """
    x = np.asarray(frames, np.int16).reshape(-1, 64, 64, 3)
    mask = (x[..., 0] > 160) & (x[..., 1] > 130) & (x[..., 0] - x[..., 2] > 60)
    mask[:, FIREBALL_BAND[0]:FIREBALL_BAND[1]] = False
    return mask.sum((1, 2))


def shows_fireball(frames: np.ndarray, min_pixels: int = 8) -> np.ndarray:
    """Which Doom frames show a fireball -> bool [N] (see ``fireball_pixels``)."""
    return fireball_pixels(frames) >= min_pixels


class TemperatureExplorer(_Shown):
    """M's predicted mixture over one latent coordinate, redrawn as the temperature slides.

    ``logpi, mu, logsigma`` are one step's prediction, each [z, K]. Lowering tau
    sharpens the choice of component (weights softmax(logpi / tau)) and narrows
    each one (std * sqrt(tau)): a rare mode fades away, which is why a dream at
    low tau is too easy to survive. The dashed curve is tau = 1 for reference.

    With ``vae`` it also samples ``samples`` whole next codes from the mixtures
    at the current tau (the same random numbers at every tau) and shows V's
    decoding of each; with a ``detector`` (frames -> bool, e.g. ``shows_fireball``)
    it counts the pictures that show ``what``, so the rare future is seen dying
    on frames, not only on a curve.
    State as plain values: ``.x``, ``.density`` (what is plotted), ``.weights``,
    ``.samples``, ``.detected``.
    """

    def __init__(self, logpi, mu, logsigma, dim: int | None = None, tau: float = 1.0,
                 tau_range=(0.1, 2.0), points: int = 400, vae=None, samples: int = 16, seed: int = 0,
                 detector=None, what: str = "a fireball"):
        import ipywidgets as W

        self.logpi, self.mu, self.logsigma = (np.asarray(t, np.float32).reshape(-1, np.shape(mu)[-1])
                                              for t in (logpi, mu, logsigma))
        self.points, self.vae, self.n_samples, self.seed = points, vae, int(samples), int(seed)
        self.detector, self.what = detector, what
        if dim is None:
            dim = int(np.argmax(rare_mode_score(self.logpi, self.mu, self.logsigma)))
        self.dim = W.Dropdown(options=list(range(len(self.mu))), value=int(dim), description="z dim")
        self.tau = W.FloatSlider(value=float(tau), min=tau_range[0], max=tau_range[1], step=0.05,
                                 description="tau", continuous_update=True, readout_format=".2f")
        self.image = W.Image(format="png")
        self.frames_image = W.Image(format="png")
        self.caption, self.frames_caption = W.HTML(), W.HTML()
        self.dim.observe(self._redraw, names="value")
        self.tau.observe(self._redraw_all, names="value")
        rows = [W.HBox([self.tau, self.dim]), self.image, self.caption]
        if vae is not None:
            rows += [self.frames_caption, self.frames_image]
        self.widget = W.VBox(rows)
        self._redraw_all()

    def _parts(self, tau: float):
        import torch

        from ...models.mdnrnn import mixture_density, temper

        d = self.dim.value
        lp, mu, ls = (torch.from_numpy(t[d]) for t in (self.logpi, self.mu, self.logsigma))
        x = torch.from_numpy(self.x)
        weights = temper(lp, ls, tau)[0].exp().numpy()
        return weights, mixture_density(lp, mu, ls, x, tau).numpy()

    @property
    def x(self) -> np.ndarray:
        """The plotted range: wide enough for every component at the widest temperature."""
        d = self.dim.value
        spread = 4 * np.exp(self.logsigma[d]) * np.sqrt(self.tau.max)
        return np.linspace((self.mu[d] - spread).min(), (self.mu[d] + spread).max(), self.points, dtype=np.float32)

    @property
    def density(self) -> np.ndarray:
        """The mixture density over ``x`` at the current tau."""
        return self._parts(self.tau.value)[1]

    @property
    def weights(self) -> np.ndarray:
        """The component weights at the current tau, [K]."""
        return self._parts(self.tau.value)[0]

    def sample_codes(self, tau: float) -> np.ndarray:
        """``samples`` next codes drawn at ``tau`` -> [N, z] (the same random numbers at every tau)."""
        import torch

        from ...models.mdnrnn import sample_mixture

        parts = [torch.from_numpy(t).expand(self.n_samples, *t.shape) for t in (self.logpi, self.mu, self.logsigma)]
        gen = torch.Generator().manual_seed(self.seed)
        return sample_mixture(*parts, tau=float(tau), generator=gen).numpy()

    def frames_at(self, tau: float) -> np.ndarray:
        """V's decoding of the sampled next codes at ``tau`` -> uint8 [N, 64, 64, 3]."""
        from ...models.vae import decode_codes

        if self.vae is None:
            raise ValueError("pass vae= to see the sampled next frames")
        return decode_codes(self.vae, self.sample_codes(tau))

    def detected_at(self, tau: float) -> int:
        """How many of the sampled next frames at ``tau`` show what the detector looks for."""
        if self.detector is None:
            raise ValueError("pass detector= (frames -> bool per frame) to count")
        return int(np.asarray(self.detector(self.frames_at(tau))).sum())

    @property
    def samples(self) -> np.ndarray:
        return self.frames_at(self.tau.value)

    @property
    def detected(self) -> int:
        return self.detected_at(self.tau.value)

    def figure(self, tau: float | None = None, size=(6, 3), fixed_scale: bool = False):
        """M's mixture at ``tau`` (default: the slider's), with tau = 1 dashed for reference.

        ``fixed_scale``: the same density axis at every tau (for an animation)."""
        from matplotlib.figure import Figure

        tau = self.tau.value if tau is None else float(tau)
        fig = Figure(figsize=size)
        ax = fig.add_subplot()
        x, (weights, dens), (_, ref) = self.x, self._parts(tau), self._parts(1.0)
        ax.plot(x, ref, "--", color="grey", lw=1, label="tau = 1")
        ax.fill_between(x, dens, alpha=0.3)
        ax.plot(x, dens, lw=2, label=f"tau = {tau:.2f}")
        if fixed_scale:
            ax.set_ylim(0, 1.15 * max(float(ref.max()), float(self._parts(self.tau.min)[1].max())))
        d = self.dim.value
        ax.vlines(self.mu[d], 0, ax.get_ylim()[1] * 0.08 * (1 + 9 * weights), color="black", lw=1)
        ax.set_xlabel(f"next z[{d}]")
        ax.set_ylabel("density")
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        return fig

    def _marked(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The sampled frames with a red border on each that the detector flags, and the flags."""
        marked = frames.copy()
        if self.detector is None:
            return marked, None
        hits = np.asarray(self.detector(frames), bool)
        for i in np.flatnonzero(hits):
            marked[i, :2] = marked[i, -2:] = (255, 0, 0)
            marked[i, :, :2] = marked[i, :, -2:] = (255, 0, 0)
        return marked, hits

    book_caption = "The temperature dial swept from hot to cold and back: M's mixture over one coordinate " \
                   "(dashed: tau = 1) and, with V, the next frames sampled at that tau."

    def book_frames(self, taus=(2.0, 1.3, 1.0, 0.6, 0.3, 0.1), samples: int = 8):
        """For the static site: the plot (and the first ``samples`` sampled frames) at each tau, cold and back."""
        from PIL import Image

        pictures = []
        for tau in taus:
            fig = np.asarray(Image.open(io.BytesIO(figure_png(self.figure(tau, size=(5, 2.2), fixed_scale=True), dpi=60)))
                             .convert("RGB"))
            parts = [fig]
            if self.vae is not None:
                parts.append(grid(self._marked(self.frames_at(tau)[:samples])[0], 8))
            width = max(p.shape[1] for p in parts)
            pad = lambda p: np.pad(p, ((0, 2), (0, width - p.shape[1]), (0, 0)), constant_values=255)
            pictures.append(np.concatenate([pad(p) for p in parts], axis=0))
        return pictures + pictures[-2:0:-1]

    def _redraw(self, *_):
        self.image.value = figure_png(self.figure(), dpi=90)
        w = ", ".join(f"{v:.3f}" for v in sorted(self.weights, reverse=True))
        self.caption.value = f"component weights at tau = {self.tau.value:.2f}: {w} (ticks: component means)"

    def _redraw_all(self, *_):
        self._redraw()
        if self.vae is None:
            return
        frames = self.frames_at(self.tau.value)
        marked, hits = self._marked(frames)  # a red border on each frame that shows it
        if hits is not None:
            count = (f"<b>{int(hits.sum())} of {len(frames)}</b> show {self.what} "
                     f"(red frame)")
        else:
            count = f"{len(frames)} samples"
        self.frames_image.value = to_png(grid(marked, 8), 2)
        self.frames_caption.value = (f"V draws {len(frames)} next frames sampled from M at tau = "
                                     f"{self.tau.value:.2f}: {count}")


__all__ = ["TemperatureExplorer", "rare_mode_score", "fireball_pixels", "shows_fireball"]
