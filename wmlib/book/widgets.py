"""Interactive explorers for the notebooks (ipywidgets).

Each explorer is a small class that owns its widgets and exposes its state as
plain values (``.code``, ``.frame``, ...), so the logic is tested without a
browser: set a slider's ``.value`` (or ``.click()`` a button) and read the
frame back. In a notebook, put the object last in a cell (or call
``display(obj)``) to show it. Every explorer works on the models that ship with
the book (``wmlib.book.pretrained``) as well as on the reader's own.

The explainer's interactive figures and the authors' article, and what gives them:

* bend the track (a frame, its code as bars, the decoding): ``BendTheTrack``
* V's z sliders, randomise z, pick a frame (both worlds): ``LatentExplorer``
* the temperature slider over one coordinate's mixture, tied to decoded
  next frames and a fireball count: ``TemperatureExplorer(..., vae=...)``
* the loop diagram, animated (reality or the dream): ``AgentLoop``
* the dream, played by hand or by the trained C with a tau slider and Play,
  Doom and CarRacing: ``DreamPlayer``
"""
from __future__ import annotations

import io

import numpy as np


def to_png(frame: np.ndarray, scale: int = 4) -> bytes:
    """uint8 [H, W, 3] -> PNG bytes, enlarged with sharp pixels for the screen."""
    from PIL import Image

    img = Image.fromarray(np.asarray(frame, np.uint8))
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def figure_png(fig, dpi: int = 80) -> bytes:
    """A matplotlib Figure -> PNG bytes (no pyplot state, nothing shown)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def grid(frames: np.ndarray, cols: int) -> np.ndarray:
    """uint8 [N, H, W, 3] -> one picture with ``cols`` frames per row (blank-padded), 1-px gaps."""
    frames = np.asarray(frames, np.uint8)
    n, h, w, _ = frames.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, 3), 255, np.uint8)
    for i, f in enumerate(frames):
        r, c = divmod(i, cols)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = f
    return out


class _Shown:
    """Display the explorer's widget when the object ends a notebook cell."""

    widget = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


# ----------------------------------------------------------------------------- V

def most_active_dims(mu: np.ndarray, logvar: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` latent dimensions with the largest mean KL over the given codes."""
    from ..models.vae import kl_per_dim
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
        from ..models.vae import decode_codes

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

        from ..models.vae import encode_frames

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
        from ..models.vae import decode_codes

        return decode_codes(self.vae, self.code[None])[0]

    @property
    def strip(self) -> np.ndarray:
        """Decodings at ``strip`` evenly spaced amounts, uint8 [strip, 64, 64, 3]."""
        from ..models.vae import decode_codes

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

        from ..models.mdnrnn import mixture_density, temper

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

        from ..models.mdnrnn import sample_mixture

        parts = [torch.from_numpy(t).expand(self.n_samples, *t.shape) for t in (self.logpi, self.mu, self.logsigma)]
        gen = torch.Generator().manual_seed(self.seed)
        return sample_mixture(*parts, tau=float(tau), generator=gen).numpy()

    def frames_at(self, tau: float) -> np.ndarray:
        """V's decoding of the sampled next codes at ``tau`` -> uint8 [N, 64, 64, 3]."""
        from ..models.vae import decode_codes

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

    def figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 3))
        ax = fig.add_subplot()
        x, (weights, dens), (_, ref) = self.x, self._parts(self.tau.value), self._parts(1.0)
        ax.plot(x, ref, "--", color="grey", lw=1, label="tau = 1")
        ax.fill_between(x, dens, alpha=0.3)
        ax.plot(x, dens, lw=2, label=f"tau = {self.tau.value:.2f}")
        d = self.dim.value
        ax.vlines(self.mu[d], 0, ax.get_ylim()[1] * 0.08 * (1 + 9 * weights), color="black", lw=1)
        ax.set_xlabel(f"next z[{d}]")
        ax.set_ylabel("density")
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        return fig

    def _redraw(self, *_):
        self.image.value = figure_png(self.figure(), dpi=90)
        w = ", ".join(f"{v:.3f}" for v in sorted(self.weights, reverse=True))
        self.caption.value = f"component weights at tau = {self.tau.value:.2f}: {w} (ticks: component means)"

    def _redraw_all(self, *_):
        self._redraw()
        if self.vae is None:
            return
        frames = self.frames_at(self.tau.value)
        marked = frames.copy()
        if self.detector is not None:
            hits = np.asarray(self.detector(frames), bool)
            for i in np.flatnonzero(hits):  # a red border on each frame that shows it
                marked[i, :2] = marked[i, -2:] = (255, 0, 0)
                marked[i, :, :2] = marked[i, :, -2:] = (255, 0, 0)
            count = (f"<b>{int(hits.sum())} of {len(frames)}</b> show {self.what} "
                     f"(red frame)")
        else:
            count = f"{len(frames)} samples"
        self.frames_image.value = to_png(grid(marked, 8), 2)
        self.frames_caption.value = (f"V draws {len(frames)} next frames sampled from M at tau = "
                                     f"{self.tau.value:.2f}: {count}")


__all__ += ["TemperatureExplorer", "rare_mode_score", "fireball_pixels", "shows_fireball"]


# ----------------------------------------------------------------------------- the dream

DOOM_ACTIONS = {"left": (-1.0,), "stay": (0.0,), "right": (1.0,)}
CAR_ACTIONS = {"left": (-1.0, 0.3, 0.0), "straight": (0.0, 0.5, 0.0), "right": (1.0, 0.3, 0.0),
               "brake": (0.0, 0.0, 0.8)}


def as_controller(controller, world: str, z_size: int, hidden: int):
    """A ``Controller``, or a flat parameter vector whose length says the mode ("zh" or "z")."""
    from ..models.controller import Controller, param_count

    if controller is None or isinstance(controller, Controller):
        return controller
    params = np.asarray(controller, np.float64).reshape(-1)
    for mode in ("zh", "z"):
        if len(params) == param_count(world, z_size, hidden, mode):
            return Controller(world, z_size, hidden, mode).set_flat(params)
    raise ValueError(f"{len(params)} parameters fit no {world} controller for z = {z_size}, LSTM {hidden} "
                     f"(zh: {param_count(world, z_size, hidden, 'zh')}, z: {param_count(world, z_size, hidden, 'z')})")


def describe_action(world: str, action) -> str:
    a = np.asarray(action, np.float32).reshape(-1)
    if world == "doom":
        word = "left" if a[0] < -1 / 3 else "right" if a[0] > 1 / 3 else "stay"
        return f"{word} (a = {a[0]:+.2f})"
    return f"steer {a[0]:+.2f}, gas {a[1]:.2f}, brake {a[2]:.2f}"


class DreamPlayer(_Shown):
    """Play inside M's dream (a ``DreamEnv``), by hand or with a trained C as autopilot.

    Doom: left / stay / right; CarRacing: left / straight / right / brake. Each
    press feeds that action to M, which samples the next code at the temperature
    of the ``tau`` slider; V decodes it into the frame shown, and for Doom M's
    death probability for that step is drawn as a bar (the dream ends when it
    passes the env's threshold, or at the cap; the car's M has no death head).

    ``controller`` (a ``Controller`` or a flat parameter vector, e.g. the shipped
    C) switches the **autopilot** on: **Play** then lets C drive by itself, one
    step per tick. Press a direction while it drives and you take over for
    ``override_steps`` steps, then C has the wheel again; switch the autopilot
    off to drive alone (Play then repeats your last choice). After a dream ends,
    the next press or tick starts a new one.
    State as plain values: ``.frame``, ``.done_prob``, ``.steps``, ``.ended``,
    ``.died``, ``.probs`` (this dream's death probabilities), ``.dreams``,
    ``.drivers`` (who chose each step: "you" or "C"), ``.last_action``.
    """

    ACTIONS = {"left": -1.0, "stay": 0.0, "right": 1.0}  # Doom's buttons (kept for older callers)

    def __init__(self, env, seed: int = 0, scale: int = 4, controller=None, tau_range=(0.0, 2.0),
                 interval: int = 300, override_steps: int = 10):
        import ipywidgets as W

        if env.vae is None:
            raise ValueError("the player shows V's decoding of the dream: build the DreamEnv with vae=load_vae(cfg)")
        self.env, self.seed, self.scale = env, int(seed), scale
        self.world = env.world
        self.actions = DOOM_ACTIONS if self.world == "doom" else CAR_ACTIONS
        if env.action_space.shape != (len(next(iter(self.actions.values()))),):
            raise ValueError(f"a {self.world} dream needs {self.world} actions, got {env.action_space}")
        self.has_death = env.m.has_done
        self.controller = as_controller(controller, self.world, env.z_size, env.hidden)
        self.override_steps = int(override_steps)
        self.held, self.override = next(iter(k for k in self.actions if k in ("stay", "straight"))), 0
        width = "80px"
        self.buttons = {name: W.Button(description=name, layout=W.Layout(width=width)) for name in self.actions}
        for name, button in self.buttons.items():
            button.on_click(lambda _, name=name: self.step(name))
        self.new_button = W.Button(description="new dream", layout=W.Layout(width="100px"))
        self.new_button.on_click(lambda _: self.new_dream())
        self.autopilot = W.ToggleButton(value=self.controller is not None, description="autopilot (C)",
                                        disabled=self.controller is None, icon="car",
                                        tooltip="the trained C drives; press a direction to take over")
        self.autopilot.observe(lambda _: self._redraw(), names="value")
        self.play = W.Play(value=0, min=0, max=10**9, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.play.observe(lambda _: self.tick(), names="value")
        hi = max(float(tau_range[1]), env.tau)
        self.tau = W.FloatSlider(value=env.tau, min=float(tau_range[0]), max=hi, step=0.05, description="tau",
                                 readout_format=".2f", continuous_update=False)
        self.tau.observe(self._set_tau, names="value")
        self.image = W.Image(format="png")
        self.death = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="p(death)")
        if not self.has_death:
            self.death.layout.display = "none"
        self.status = W.HTML()
        self.widget = W.VBox([W.HBox([self.image, W.VBox([self.death, self.status])]),
                              W.HBox([*self.buttons.values(), self.new_button]),
                              W.HBox([self.play, self.autopilot, self.tau])])
        self.dreams = 0
        self.new_dream()

    @property
    def frame(self) -> np.ndarray:
        """V's decoding of the dream's current code, uint8 [64, 64, 3]."""
        return self.env.decode()

    @property
    def done_prob(self) -> float:
        return self.probs[-1] if self.probs else 0.0

    def autopilot_action(self) -> np.ndarray | None:
        """What C would do now, or None without a controller."""
        if self.controller is None:
            return None
        z, c, h = self.env.split_obs(self.obs)
        return np.asarray(self.controller.act(z, h, c), np.float32).reshape(-1)

    def new_dream(self) -> None:
        self.dreams += 1
        self.obs, _ = self.env.reset(seed=self.seed + self.dreams)
        self.steps, self.ended, self.died, self.probs, self.drivers = 0, False, False, [], []
        self.last_action, self.override = None, 0
        self._redraw()

    def _advance(self, action, driver: str) -> None:
        action = np.asarray(action, np.float32).reshape(-1)
        self.obs, _, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        self.last_action = action
        self.drivers.append(driver)
        self.probs.append(float(info["done_prob"]))
        self.ended, self.died = bool(terminated or truncated), bool(terminated)
        self._redraw()

    def step(self, action: str) -> None:
        """You press ``action``: one step with it (C lets go for ``override_steps``); after the end, a new dream."""
        if action not in self.actions:
            raise ValueError(f"unknown action {action!r}: use one of {', '.join(self.actions)}")
        if self.ended:
            self.new_dream()
            return
        self.held = action
        self.override = self.override_steps if self.autopilot.value else 0
        self._advance(self.actions[action], "you")

    def tick(self) -> None:
        """One step on its own (what Play does): C drives unless you took over; after the end, a new dream."""
        if self.ended:
            self.new_dream()
            return
        if self.autopilot.value and self.controller is not None and self.override <= 0:
            self._advance(self.autopilot_action(), "C")
            return
        self.override = max(0, self.override - 1)
        self._advance(self.actions[self.held], "you")

    def _set_tau(self, change) -> None:
        self.env.tau = float(change["new"])
        self._redraw()

    def _redraw(self) -> None:
        self.image.value = to_png(self.frame, self.scale)
        self.death.value = self.done_prob
        self.death.bar_style = "danger" if self.done_prob > self.env.done_threshold else "info"
        text = f"dream {self.dreams}, step {self.steps} (tau = {self.env.tau:g})"
        if self.has_death:
            text += f"; M's death probability {self.done_prob:.3f}"
        if self.last_action is not None:
            who = "you" if self.drivers[-1] == "you" else "the autopilot (C)"
            text += f"<br>last step: {describe_action(self.world, self.last_action)}, chosen by {who}"
        if self.controller is not None and not self.ended:
            mode = "on" if self.autopilot.value else "off"
            text += f"<br>autopilot {mode}; C would now do: {describe_action(self.world, self.autopilot_action())}"
            if self.autopilot.value and self.override > 0:
                text += f" (you hold the wheel for {self.override} more steps)"
        if self.died:
            text += f"<br><b>M says you died</b> after {self.steps} steps: click any button for a new dream"
        elif self.ended:
            text += f"<br><b>you survived the dream's cap</b> of {self.env.max_steps} steps: click for a new dream"
        self.status.value = text


__all__ += ["DreamPlayer", "as_controller", "describe_action"]


# ----------------------------------------------------------------------------- the loop, animated

LOOP_STAGES = ("frame", "V", "C", "world", "M")


def record_loop(vae, mdnrnn, controller, steps: int, env=None, dream=None, seed: int = 0) -> dict:
    """Play the agent's loop for ``steps`` steps and keep what flows round it.

    Reality (``env``, a real world with 64x64 frames): z is V's mean code of the
    frame. Dream (``dream``, a ``DreamEnv``): z is M's sample and the frame is V's
    drawing of it. -> dict(kind, world, frames, z, h, actions, rewards), one row per step.
    """
    import torch

    from ..models.vae import decode_codes, encode_frames

    if (env is None) == (dream is None):
        raise ValueError("pass exactly one of env= (reality) or dream= (a DreamEnv)")
    world = "doom" if mdnrnn.action_size == 1 else "carracing"
    controller = as_controller(controller, world, mdnrnn.z_size, mdnrnn.hidden)
    out = {k: [] for k in ("frames", "z", "h", "actions", "rewards")}
    if dream is not None:
        obs, _ = dream.reset(seed=seed)
        for _ in range(steps):
            z, c, h = dream.split_obs(obs)
            a = np.asarray(controller.act(z, h, c), np.float32)
            out["frames"].append(decode_codes(vae, z[None])[0])
            out["z"].append(z), out["h"].append(h), out["actions"].append(a)
            obs, r, terminated, truncated, _ = dream.step(a)
            out["rewards"].append(r)
            if terminated or truncated:
                break
    else:
        frame, _ = env.reset(seed=seed)
        state = mdnrnn.initial_state(1)
        with torch.no_grad():
            for t in range(steps):
                z = encode_frames(vae, frame[None])[0][0]
                h, c = state[0][0, 0].numpy(), state[1][0, 0].numpy()
                a = np.asarray(controller.act(z, h, c), np.float32)
                out["frames"].append(np.asarray(frame)), out["z"].append(z), out["h"].append(h)
                out["actions"].append(a)
                restart = torch.tensor([1.0 if t == 0 else 0.0])
                _, _, state = mdnrnn.step(torch.from_numpy(z)[None], torch.from_numpy(a)[None], state, restart)
                frame, r, terminated, truncated, _ = env.step(a)
                out["rewards"].append(float(r))
                if terminated or truncated:
                    break
    rec = {k: np.stack(v) for k, v in out.items()}
    return dict(rec, kind="dream" if dream is not None else "reality", world=world)


class AgentLoop(_Shown):
    """The loop diagram, animated: frame -> V -> z -> C (with M's h) -> action -> world, and M -> h.

    ``traces`` are ``record_loop`` results (say one in reality and one in the
    dream). Each tick of **Play** (or **next**) lights the next stage of the loop
    and shows the numbers that flow out of it: the frame, the code z (bars),
    C's action, M's memory h (its first 32 units). The ``world`` toggle swaps
    reality for the dream: the world's box becomes M's own sample.
    State as plain values: ``.t`` (step), ``.stage`` (one of ``LOOP_STAGES``), ``.trace``.
    """

    def __init__(self, *traces, interval: int = 700):
        import ipywidgets as W

        if not traces:
            raise ValueError("pass at least one trace from record_loop")
        self.traces = {t["kind"]: t for t in traces}
        self.play = W.Play(value=0, min=0, max=10**9, step=1, interval=int(interval), description="play",
                           show_repeat=False)
        self.next_button = W.Button(description="next stage")
        self.next_button.on_click(lambda _: setattr(self.play, "value", self.play.value + 1))
        self.kind = W.ToggleButtons(options=list(self.traces), description="world")
        self.image, self.caption = W.Image(format="png"), W.HTML()
        self.play.observe(self._redraw, names="value")
        self.kind.observe(self._redraw, names="value")
        self.widget = W.VBox([W.HBox([self.play, self.next_button, self.kind]), self.image, self.caption])
        self._redraw()

    @property
    def trace(self) -> dict:
        return self.traces[self.kind.value]

    @property
    def t(self) -> int:
        return (self.play.value // len(LOOP_STAGES)) % len(self.trace["z"])

    @property
    def stage(self) -> str:
        return LOOP_STAGES[self.play.value % len(LOOP_STAGES)]

    def figure(self):
        from .plots import agent_loop_figure

        tr, t = self.trace, self.t
        return agent_loop_figure(highlight=self.stage, frame=tr["frames"][t], z=tr["z"][t], h=tr["h"][t],
                                 action=tr["actions"][t], dream=tr["kind"] == "dream", world=tr["world"], step=t)

    def _redraw(self, *_):
        self.image.value = figure_png(self.figure(), dpi=75)
        words = {"frame": "the world shows a frame" if self.trace["kind"] == "reality" else
                 "the dream's current code, drawn by V (only for you: C never sees pixels)",
                 "V": "V squeezes the frame into the code z" if self.trace["kind"] == "reality" else
                 "in the dream z comes straight from M: V's encoder is not needed",
                 "C": "C reads z and M's memory h and picks the action",
                 "world": "the world answers the action with the next frame" if self.trace["kind"] == "reality"
                 else "M samples the next z at temperature tau: the dream answers",
                 "M": "M reads z and the action and updates its memory h"}
        self.caption.value = f"step {self.t}, stage <b>{self.stage}</b>: {words[self.stage]}"


__all__ += ["record_loop", "AgentLoop", "LOOP_STAGES"]


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


__all__ += ["TauStepper"]
