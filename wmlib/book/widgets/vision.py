"""V: the latent explorer, bend-the-track (edit a frame, see its code) and latent directions (notebook 01)."""
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

    book_caption = "The latent explorer: the most active dimension of a real frame's code slides from one end " \
                   "of its range to the other, and V decodes each code."

    def book_frames(self, steps: int = 9):
        """For the static site: the first slider swept over its range and back (the real frame beside)."""
        from ...models.vae import decode_codes

        s, d = self.sliders[0], self.dims[0]
        values = np.linspace(s.min, s.max, steps)
        codes = np.repeat(self.code[None], steps, 0)
        codes[:, d] = values
        decoded = decode_codes(self.vae, codes)
        index = getattr(self, "_index", None)
        if self.frames is not None and index is not None:
            real = np.repeat(self.frames[index][None], steps, 0)
            gap = np.full((steps, 64, 2, 3), 255, np.uint8)
            decoded = np.concatenate([real, gap, decoded], axis=2)
        frames = list(decoded)
        return frames + frames[-2:0:-1]


# ----------------------------------------------------------------------------- bend the track: edit the frame

CAR_COLOURS = {"road": (102, 102, 102), "grass": (100, 202, 100)}  # CarRacing's own, at 64x64
CAR_ROW = 50  # the row of a 64x64 CarRacing frame where the car sits: the rows above are the track ahead


def paint_disc(frame: np.ndarray, x: float, y: float, colour, radius: float) -> np.ndarray:
    """Paint a filled disc of ``colour`` centred at pixel (x, y) onto ``frame`` (uint8 [H, W, 3], in place)."""
    h, w = frame.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (xx - x) ** 2 + (yy - y) ** 2 <= float(radius) ** 2
    frame[inside] = np.asarray(colour, np.uint8)
    return frame


def road_share(frames: np.ndarray, colour=CAR_COLOURS["road"], tolerance: int = 8) -> np.ndarray:
    """The share of each frame's pixels that are road-grey -> float [N] (to open on a frame with a road)."""
    x = np.asarray(frames, np.int16).reshape(-1, 64, 64, 3)
    return (np.abs(x - np.asarray(colour, np.int16)).max(-1) <= tolerance).mean((1, 2))


def bend_weight(y, pivot: int = CAR_ROW) -> np.ndarray:
    """How much of a bend row ``y`` takes: 0 at the car's row and below, 1 at the top, growing as a square."""
    return np.clip((pivot - np.asarray(y, np.float64)) / pivot, 0.0, 1.0) ** 2


def bend_rows(frame: np.ndarray, amount: float, pivot: int = CAR_ROW, fill=CAR_COLOURS["grass"]) -> np.ndarray:
    """Bend the track ahead of the car: each row above ``pivot`` slides sideways by ``amount * bend_weight``.

    Positive ``amount`` bends right. The car's own rows stay put; what slides in from the side is ``fill``.
    Returns a new frame."""
    frame = np.asarray(frame, np.uint8)
    out = frame.copy()
    w = frame.shape[1]
    for y, shift in enumerate(np.round(amount * bend_weight(np.arange(frame.shape[0]), pivot)).astype(int)):
        if shift == 0:
            continue
        out[y] = np.asarray(fill, np.uint8)
        if abs(shift) < w:
            if shift > 0:
                out[y, shift:] = frame[y, :w - shift]
            else:
                out[y, :w + shift] = frame[y, -shift:]
    return out


class BendTheTrack(_Shown):
    """Edit a real CarRacing frame with the mouse, and watch what V makes of it.

    Paint road (grey) or grass (green) onto the 64x64 frame, or drag a bend (the ``bend`` tool: grab
    the road and pull it sideways; the rows ahead of the car follow, the car's own rows stay). Every
    edit is encoded by V and decoded again: the bars are the edited frame's code (grey outlines: the
    code of the frame as it was), the picture on the right is V's decoding of that code.

    The mouse handler (``on_mouse``, fed by ipyevents) calls the same methods a test calls without a
    browser: ``paint(x, y, colour, radius)``, ``stroke(points, colour, radius)``, ``bend(amount)``,
    ``reset()``; state as plain values: ``.canvas`` (the edited frame), ``.code``, ``.original_code``,
    ``.decoded``. Coordinates are frame pixels (0-63), x to the right, y down.
    """

    book_caption = "Bend the track: the frame is bent right, then left, and a road is painted across it; " \
                   "each edited frame (left) is encoded by V and decoded (right)."

    def __init__(self, vae, frames: np.ndarray, start: int | None = None, scale: int = 5, radius: int = 3,
                 colours: dict | None = None, pivot: int = CAR_ROW, max_bend: float = 32.0):
        import ipywidgets as W

        from ...models.vae import encode_frames

        self.vae, self.scale, self.pivot = vae, int(scale), int(pivot)
        self.frames = np.asarray(frames, np.uint8).reshape(-1, 64, 64, 3)
        if start is None:  # the frame with the most road on it
            start = int(np.argmax(road_share(self.frames))) if "road" in (colours or CAR_COLOURS) else 0
        self.colours = dict(colours or CAR_COLOURS)
        self.fill = self.colours.get("grass", CAR_COLOURS["grass"])
        self._mu, _ = encode_frames(vae, self.frames)
        self.limit = float(max(3.0, np.abs(self._mu).max() + 1.0))
        self.index = W.IntSlider(value=int(start), min=0, max=len(self.frames) - 1, description="frame",
                                 continuous_update=False)
        self.tool = W.ToggleButtons(options=[*self.colours, "bend"], value=next(iter(self.colours)),
                                    description="mouse")
        self.radius = W.IntSlider(value=int(radius), min=1, max=10, description="brush")
        self.bend_amount = W.FloatSlider(value=0.0, min=-max_bend, max=max_bend, step=1.0, description="bend",
                                         continuous_update=True, readout_format="+.0f")
        self.reset_button = W.Button(description="reset frame")
        px = f"{64 * self.scale}px"
        self.canvas_image = W.Image(format="png", layout=W.Layout(width=px, height=px))
        self.decoded_image = W.Image(format="png", layout=W.Layout(width=px, height=px))
        self.bars_image = W.Image(format="png")
        self.caption = W.HTML()
        self.index.observe(lambda ch: self.pick(ch["new"]), names="value")
        self.bend_amount.observe(self._on_bend, names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.events = self._watch_mouse()
        self._hold, self._last, self._drag = False, None, None
        self.widget = W.VBox([
            W.HBox([self.index, self.reset_button]),
            W.HBox([self.tool, self.radius]),
            self.bend_amount,
            W.HBox([W.VBox([W.Label("your frame: paint on it"), self.canvas_image]),
                    W.VBox([W.Label("its code, as V encodes it"), self.bars_image]),
                    W.VBox([W.Label("V's decoding of that code"), self.decoded_image])]),
            self.caption])
        self.pick(start)

    # ------------------------------------------------------------------ state

    @property
    def canvas(self) -> np.ndarray:
        """The edited frame, uint8 [64, 64, 3]: the picked frame, its paint, and the current bend."""
        if self._bend == 0:
            return self._base.copy()
        return bend_rows(self._base, self._bend, self.pivot, self.fill)

    @property
    def original_code(self) -> np.ndarray:
        """V's code (the mean) of the picked frame before any edit, [z]."""
        return self._mu[self.index.value]

    def _encode(self, frame: np.ndarray) -> np.ndarray:
        from ...models.vae import encode_frames

        return encode_frames(self.vae, frame[None])[0][0]

    @property
    def code(self) -> np.ndarray:
        """V's code (the mean) of the edited frame, [z]: all V keeps of it."""
        return self._encode(self.canvas)

    @property
    def decoded(self) -> np.ndarray:
        """V's decoding of the edited frame's code, uint8 [64, 64, 3]."""
        from ...models.vae import decode_codes

        return decode_codes(self.vae, self.code[None])[0]

    # ------------------------------------------------------------------ edits

    def pick(self, index: int) -> None:
        """Start again from real frame ``index``."""
        index = int(index)
        if self.index.value != index:
            self.index.value = index  # observed: comes back here
            return
        self._base = self.frames[index].copy()
        self._set_bend(0.0)
        self._redraw()

    def reset(self) -> None:
        """Undo every edit: back to the picked frame."""
        self.pick(self.index.value)

    def _set_bend(self, amount: float) -> None:
        self._bend = float(amount)
        self._hold = True
        try:
            self.bend_amount.value = float(np.clip(amount, self.bend_amount.min, self.bend_amount.max))
        finally:
            self._hold = False

    def _bake(self) -> None:
        """Make the current bend part of the frame, so paint lands where the reader sees it."""
        if self._bend != 0:
            self._base = self.canvas
            self._set_bend(0.0)

    def _colour(self, colour):
        if colour is None:
            colour = self.tool.value if self.tool.value in self.colours else next(iter(self.colours))
        return self.colours[colour] if isinstance(colour, str) else tuple(int(c) for c in colour)

    def paint(self, x: float, y: float, colour=None, radius: float | None = None, redraw: bool = True) -> None:
        """Paint a disc at frame pixel (x, y): ``colour`` "road", "grass" or an RGB triple (default: the tool)."""
        self._bake()
        paint_disc(self._base, x, y, self._colour(colour), self.radius.value if radius is None else radius)
        if redraw:
            self._redraw()

    def stroke(self, points, colour=None, radius: float | None = None) -> None:
        """Paint along a line through ``points`` [(x, y), ...] (a mouse drag), then redraw once."""
        points = [tuple(map(float, p)) for p in points]
        r = self.radius.value if radius is None else radius
        for (x0, y0), (x1, y1) in zip(points, points[1:] or points):
            n = int(max(abs(x1 - x0), abs(y1 - y0)) / max(r / 2, 0.5)) + 1
            for t in np.linspace(0, 1, n + 1):
                self.paint(x0 + t * (x1 - x0), y0 + t * (y1 - y0), colour, r, redraw=False)
        self._redraw()

    def bend(self, amount: float) -> None:
        """Bend the track ahead of the car by ``amount`` pixels at the top row (positive: to the right)."""
        self._set_bend(amount)
        self._redraw()

    def _on_bend(self, change) -> None:
        if not self._hold:
            self._bend = float(change["new"])
            self._redraw()

    # ------------------------------------------------------------------ the mouse

    def _watch_mouse(self):
        try:
            from ipyevents import Event
        except ImportError:  # the widget still works with its sliders and buttons
            return None
        ev = Event(source=self.canvas_image, watched_events=["mousedown", "mousemove", "mouseup", "mouseleave"],
                   prevent_default_action=True, throttle_or_debounce="throttle", wait=40)
        ev.on_dom_event(self.on_mouse)
        return ev

    def _xy(self, event: dict) -> tuple[float, float]:
        """Frame pixel of a mouse event: the image's own pixels (ipyevents' dataX) or the element's offset."""
        x = event.get("dataX", event.get("arrayX", event.get("offsetX", 0.0)))
        y = event.get("dataY", event.get("arrayY", event.get("offsetY", 0.0)))
        return float(x) / self.scale, float(y) / self.scale

    def on_mouse(self, event: dict) -> None:
        """What the canvas does with a mouse event (a dict as ipyevents sends it)."""
        kind = event.get("type")
        if kind in ("mouseup", "mouseleave"):
            self._last = self._drag = None
            return
        pressed = kind == "mousedown" or (kind == "mousemove" and int(event.get("buttons", 0)) & 1)
        if not pressed:
            self._last = self._drag = None
            return
        x, y = self._xy(event)
        if self.tool.value == "bend":
            if kind == "mousedown" or self._drag is None:
                self._drag = (x, max(bend_weight(y, self.pivot), 0.25), self._bend)
                return
            x0, weight, start = self._drag
            self.bend(start + (x - x0) / weight)  # the grabbed point follows the mouse
            return
        if kind == "mousedown" or self._last is None:
            self.paint(x, y)
        else:
            self.stroke([self._last, (x, y)])
        self._last = (x, y)

    # ------------------------------------------------------------------ drawing

    def _redraw(self, *_):
        if self._hold:
            return
        from ...models.vae import decode_codes

        canvas = self.canvas
        code = self._encode(canvas)
        self.canvas_image.value = to_png(canvas, self.scale)
        self.decoded_image.value = to_png(decode_codes(self.vae, code[None])[0], self.scale)
        change = float(np.abs(code - self.original_code).sum())
        fig = code_bars(code, self.original_code, limit=self.limit, size=(3.6, 2.5),
                        title="z of your frame (grey: before the edit)")
        self.bars_image.value = figure_png(fig)
        self.caption.value = (f"Frame {self.index.value}, bend {self._bend:+.0f} px at the top. "
                              f"Your edits moved the code by {change:.2f} in total (sum over its "
                              f"{len(code)} numbers).")

    def book_frames(self):
        """A scripted edit for the static site: bend right, bend left, then paint a road across."""
        from ...models.vae import decode_codes, encode_frames

        base = self.canvas
        edits = [bend_rows(base, a, self.pivot, self.fill) for a in (0, 6, 12, 18, 24, 12, 0, -12, -24, -12, 0)]
        painted = base.copy()
        for x in range(0, 66, 2):  # a road painted across, left to right
            painted = paint_disc(painted.copy(), x, 18, self.colours.get("road", (102, 102, 102)), 4)
            if x % 8 == 0:
                edits.append(painted)
        edits = np.stack(edits)
        decoded = decode_codes(self.vae, encode_frames(self.vae, edits)[0])
        gap = np.full((len(edits), 64, 2, 3), 255, np.uint8)
        return list(np.concatenate([edits, gap, decoded], axis=2))


class LatentDirections(_Shown):
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

    book_caption = "The code of a real frame moved along a direction, from one end to the other, decoded by V."

    def book_frames(self):
        """The strip, played forth and back: the picture as the code slides along the direction."""
        strip = list(self.strip)
        return strip + strip[-2:0:-1]


__all__ = ["to_png", "figure_png", "grid", "code_bars", "LatentExplorer", "BendTheTrack", "LatentDirections",
           "most_active_dims", "principal_directions", "paint_disc", "bend_rows", "road_share", "bend_weight", "CAR_COLOURS",
           "CAR_ROW"]
