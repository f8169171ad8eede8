"""Interactive explorers for the notebooks (ipywidgets).

Each explorer is a small class that owns its widgets and exposes its state as
plain values (``.code``, ``.frame``, ...), so the logic is tested without a
browser: set a slider's ``.value`` and read the frame back. In a notebook,
put the object last in a cell (or call ``display(obj)``) to show it.
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


class LatentExplorer(_Shown):
    """Sliders on V's most active latent dimensions; the decoded frame follows live.

    ``mu``/``logvar`` are codes of real frames: they choose the dimensions (by
    KL) and each slider's range (the codes' span on that dimension, padded).
    The other dimensions stay at the code of frame ``start``.
    """

    def __init__(self, vae, mu, logvar, n_sliders: int = 8, start: int = 0, scale: int = 4):
        import ipywidgets as W

        self.vae = vae
        self.scale = scale
        mu = np.asarray(mu, np.float32)
        self.base = mu[start].copy()
        self.dims = most_active_dims(mu, logvar, n_sliders)
        lo, hi = mu.min(0), mu.max(0)
        pad = 0.25 * (hi - lo) + 0.5
        self.sliders = [
            W.FloatSlider(value=float(self.base[d]), min=float(lo[d] - pad[d]), max=float(hi[d] + pad[d]),
                          step=0.05, description=f"z[{d}]", continuous_update=True)
            for d in self.dims]
        self.image = W.Image(format="png")
        self.reset_button = W.Button(description="reset")
        self.reset_button.on_click(lambda _: self.reset())
        for s in self.sliders:
            s.observe(self._redraw, names="value")
        self.widget = W.HBox([self.image, W.VBox([*self.sliders, self.reset_button])])
        self._redraw()

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

    def reset(self) -> None:
        for d, s in zip(self.dims, self.sliders):
            s.value = float(self.base[d])

    def _redraw(self, *_):
        self.image.value = to_png(self.frame, self.scale)


class BendTheTrack(_Shown):
    """Pick a real frame, slide its code along a latent direction, watch the picture change.

    Shows the real frame, the frame decoded from its moved code, and a strip of
    decodings across the whole range of the direction.
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
        self.index = W.IntSlider(value=0, min=0, max=len(self.frames) - 1, description="frame")
        self.direction = W.Dropdown(options=list(self.directions), description="direction")
        self.amount = W.FloatSlider(value=0.0, min=-span, max=span, step=0.1, description="amount")
        self.real_image, self.moved_image, self.strip_image = (W.Image(format="png") for _ in range(3))
        for w in (self.index, self.direction, self.amount):
            w.observe(self._redraw, names="value")
        label = lambda text: W.Label(text)
        self.widget = W.VBox([
            W.HBox([self.index, self.direction, self.amount]),
            W.HBox([W.VBox([label("real frame"), self.real_image]),
                    W.VBox([label("decoded from the moved code"), self.moved_image])]),
            label(f"along the direction, from -{span:g} to +{span:g}"),
            self.strip_image,
        ])
        self._redraw()

    def code_at(self, amount: float) -> np.ndarray:
        return self.mu[self.index.value] + amount * self.directions[self.direction.value]

    @property
    def frame(self) -> np.ndarray:
        """The decoded frame at the current amount, uint8 [64, 64, 3]."""
        from ..models.vae import decode_codes

        return decode_codes(self.vae, self.code_at(self.amount.value)[None])[0]

    @property
    def strip(self) -> np.ndarray:
        """Decodings at ``strip`` evenly spaced amounts, uint8 [strip, 64, 64, 3]."""
        from ..models.vae import decode_codes

        amounts = np.linspace(-self.span, self.span, self.n_strip)
        return decode_codes(self.vae, np.stack([self.code_at(a) for a in amounts]))

    def _redraw(self, *_):
        self.real_image.value = to_png(self.frames[self.index.value], self.scale)
        self.moved_image.value = to_png(self.frame, self.scale)
        self.strip_image.value = to_png(np.concatenate(list(self.strip), axis=1), 2)


__all__ = ["to_png", "LatentExplorer", "BendTheTrack", "most_active_dims", "principal_directions"]


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


class TemperatureExplorer(_Shown):
    """M's predicted mixture over one latent coordinate, redrawn as the temperature slides.

    ``logpi, mu, logsigma`` are one step's prediction, each [z, K]. Lowering tau
    sharpens the choice of component (weights softmax(logpi / tau)) and narrows
    each one (std * sqrt(tau)): a rare mode fades away, which is why a dream at
    low tau is too easy to survive. The dashed curve is tau = 1 for reference.
    State as plain values: ``.x``, ``.density`` (what is plotted), ``.weights``.
    """

    def __init__(self, logpi, mu, logsigma, dim: int | None = None, tau: float = 1.0,
                 tau_range=(0.1, 2.0), points: int = 400):
        import ipywidgets as W

        self.logpi, self.mu, self.logsigma = (np.asarray(t, np.float32).reshape(-1, np.shape(mu)[-1])
                                              for t in (logpi, mu, logsigma))
        self.points = points
        if dim is None:
            dim = int(np.argmax(rare_mode_score(self.logpi, self.mu, self.logsigma)))
        self.dim = W.Dropdown(options=list(range(len(self.mu))), value=int(dim), description="z dim")
        self.tau = W.FloatSlider(value=float(tau), min=tau_range[0], max=tau_range[1], step=0.05,
                                 description="tau", continuous_update=True, readout_format=".2f")
        self.image = W.Image(format="png")
        self.caption = W.HTML()
        for w in (self.dim, self.tau):
            w.observe(self._redraw, names="value")
        self.widget = W.VBox([W.HBox([self.tau, self.dim]), self.image, self.caption])
        self._redraw()

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
        fig = self.figure()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        self.image.value = buf.getvalue()
        w = ", ".join(f"{v:.3f}" for v in sorted(self.weights, reverse=True))
        self.caption.value = f"component weights at tau = {self.tau.value:.2f}: {w} (ticks: component means)"


__all__ += ["TemperatureExplorer", "rare_mode_score"]


# ----------------------------------------------------------------------------- the dream

class DreamPlayer(_Shown):
    """Play Doom inside M's dream yourself: left / stay / right step a ``DreamEnv``.

    Each click feeds your action to M, which samples the next code at the env's
    temperature; V decodes it into the frame shown, and M's death probability for
    that step is drawn as a bar (the dream ends when it passes the env's
    threshold, or at the cap). A click after the end starts a new dream.
    State as plain values: ``.frame``, ``.done_prob``, ``.steps``, ``.ended``,
    ``.died``, ``.probs`` (this dream's death probabilities), ``.dreams``.
    """

    ACTIONS = {"left": -1.0, "stay": 0.0, "right": 1.0}

    def __init__(self, env, seed: int = 0, scale: int = 4):
        import ipywidgets as W

        if env.vae is None:
            raise ValueError("the player shows V's decoding of the dream: build the DreamEnv with vae=load_vae(cfg)")
        if env.action_space.shape != (1,):
            raise ValueError("DreamPlayer plays Doom's dream (one action: left / stay / right)")
        self.env, self.seed, self.scale = env, int(seed), scale
        self.buttons = {name: W.Button(description=name, layout=W.Layout(width="80px")) for name in self.ACTIONS}
        for name, button in self.buttons.items():
            button.on_click(lambda _, name=name: self.step(name))
        self.new_button = W.Button(description="new dream", layout=W.Layout(width="100px"))
        self.new_button.on_click(lambda _: self.new_dream())
        self.image = W.Image(format="png")
        self.death = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="p(death)")
        self.status = W.HTML()
        self.widget = W.VBox([W.HBox([self.image, W.VBox([self.death, self.status])]),
                              W.HBox([*self.buttons.values(), self.new_button])])
        self.dreams = 0
        self.new_dream()

    @property
    def frame(self) -> np.ndarray:
        """V's decoding of the dream's current code, uint8 [64, 64, 3]."""
        return self.env.decode()

    @property
    def done_prob(self) -> float:
        return self.probs[-1] if self.probs else 0.0

    def new_dream(self) -> None:
        self.dreams += 1
        self.env.reset(seed=self.seed + self.dreams)
        self.steps, self.ended, self.died, self.probs = 0, False, False, []
        self._redraw()

    def step(self, action: str) -> None:
        """Take ``action`` (left / stay / right) in the dream; after the end, start a new one."""
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}: use one of {', '.join(self.ACTIONS)}")
        if self.ended:
            self.new_dream()
            return
        _, _, terminated, truncated, info = self.env.step(np.array([self.ACTIONS[action]], np.float32))
        self.steps += 1
        self.probs.append(float(info["done_prob"]))
        self.ended, self.died = bool(terminated or truncated), bool(terminated)
        self._redraw()

    def _redraw(self) -> None:
        self.image.value = to_png(self.frame, self.scale)
        self.death.value = self.done_prob
        self.death.bar_style = "danger" if self.done_prob > self.env.done_threshold else "info"
        text = (f"dream {self.dreams}, step {self.steps} (tau = {self.env.tau:g}); "
                f"M's death probability {self.done_prob:.3f}")
        if self.died:
            text += f"<br><b>M says you died</b> after {self.steps} steps: click any button for a new dream"
        elif self.ended:
            text += f"<br><b>you survived the dream's cap</b> of {self.env.max_steps} steps: click for a new dream"
        self.status.value = text


__all__ += ["DreamPlayer"]
