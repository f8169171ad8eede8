"""What every widget shares: PNG encoding, frame grids, and display when a cell ends with one."""

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


__all__ = ["to_png", "figure_png", "grid", "_Shown"]
