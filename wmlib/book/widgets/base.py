"""What every widget shares: PNG encoding, frame grids, and display when a cell ends with one."""

from __future__ import annotations

import io
import os

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


BOOK_ENV = "WM_BOOK"  # set by the site build: pages have no kernel, so widgets also show an animation


def gif_bytes(frames, fps: float = 8, scale: int = 2) -> bytes:
    """uint8 frames [N, H, W, 3] (or a list of them) -> an animated GIF that loops."""
    from PIL import Image

    imgs = []
    for f in frames:
        img = Image.fromarray(np.asarray(f, np.uint8))
        if scale != 1:
            img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
        imgs.append(img.convert("P", palette=Image.ADAPTIVE))
    if not imgs:
        raise ValueError("an animation needs at least one frame")
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()


def gif_html(frames, fps: float = 8, scale: int = 2, caption: str = ""):
    """An animated GIF embedded in the page (no file to lose), with an optional caption."""
    import base64

    from IPython.display import HTML

    data = base64.b64encode(gif_bytes(frames, fps, scale)).decode()
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return HTML(f'<figure class="wm-animation"><img src="data:image/gif;base64,{data}" alt="{caption or "animation"}"/>'
                f"{cap}</figure>")


def book_build() -> bool:
    """True while the site is being built (``WM_BOOK=1``)."""
    return os.environ.get(BOOK_ENV, "") == "1"


class _Shown:
    """Display the explorer's widget when the object ends a notebook cell.

    In the published book (``WM_BOOK=1``) the widget is followed by an animation of what it
    shows (``book_frames``), since a static page cannot run its Python callbacks."""

    widget = None
    book_caption = ""

    def book_frames(self):
        """Frames (uint8 [H, W, 3]) that animate this widget for the static site; None: no animation."""
        return None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
        if book_build():
            frames = self.book_frames()
            if frames is not None and len(frames):
                display(gif_html(frames, caption=self.book_caption))


__all__ = ["to_png", "figure_png", "grid", "gif_bytes", "gif_html", "book_build", "BOOK_ENV", "_Shown"]
