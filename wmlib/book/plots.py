"""The figures the notebooks and the README show (matplotlib, no display needed).

Each function draws one figure, returns it, and saves it as PNG when given a
path, so ``figures/`` can be rebuilt from the command line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(*args, **kwargs):
    import matplotlib.pyplot as plt  # picks an off-screen backend by itself when there is no display

    return plt.subplots(*args, **kwargs)


def _save(fig, path) -> None:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")


# ----------------------------------------------------------------------------- V

def pixel_error(real: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """Squared error per pixel (mean over the 3 channels, values in [0, 1]) -> [B, 64, 64]."""
    diff = real.astype(np.float32) / 255 - recon.astype(np.float32) / 255
    return (diff ** 2).mean(-1)


def _draw_reconstruction_rows(axes, real, recon, label: str, vmax: float | None = None) -> None:
    """Three rows of ``axes``: real frames, reconstructions, per-pixel error maps."""
    err = pixel_error(real, recon)
    vmax = vmax or max(float(err.max()), 1e-6)
    for j in range(len(real)):
        axes[0, j].imshow(real[j], interpolation="nearest")
        axes[1, j].imshow(recon[j], interpolation="nearest")
        axes[2, j].imshow(err[j], cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        axes[2, j].set_xlabel(f"mse {err[j].mean():.4f}", fontsize=8)
    for i, name in enumerate(("real", "V's reconstruction", "squared error")):
        axes[i, 0].set_ylabel(f"{label}\n{name}" if i == 0 else name, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])


def plot_reconstructions(vae, frames: np.ndarray, path=None, title: str | None = None):
    """Real frames, V's reconstructions and where the error lies; saved to ``path`` if given."""
    from ..models.vae import reconstruct

    frames = np.asarray(frames)
    recon = reconstruct(vae, frames)
    n = len(frames)
    fig, axes = _figure(3, n, figsize=(1.6 * n, 5.2), squeeze=False)
    _draw_reconstruction_rows(axes, frames, recon, "")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def heldout_frames(cfg, n: int = 8) -> np.ndarray:
    """``n`` frames spread evenly over the held-out episodes of ``cfg``'s dataset."""
    from ..worlds.data import load_dataset

    ds = load_dataset(cfg)
    _, val_idx = ds.split(cfg.vae.val_episodes)
    idx = ds.frame_indices(val_idx)
    pick = idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int)]
    return ds.gather_frames(pick)


def reconstructions_figure(cfgs, path="figures/vae_reconstructions.png", n: int = 8):
    """Held-out frames and V's reconstructions for each config (world) in one figure."""
    from ..training.vae import load_vae
    from ..models.vae import reconstruct

    fig, axes = _figure(3 * len(cfgs), n, figsize=(1.6 * n, 5.2 * len(cfgs)), squeeze=False)
    for k, cfg in enumerate(cfgs):
        real = heldout_frames(cfg, n)
        recon = reconstruct(load_vae(cfg), real)
        _draw_reconstruction_rows(axes[3 * k:3 * k + 3, :len(real)], real, recon, f"{cfg.world}")
        for ax in axes[3 * k:3 * k + 3, len(real):].flat:
            ax.axis("off")
    profile = cfgs[0].profile if cfgs else ""
    fig.suptitle(f"V on held-out frames ({profile} profile)")
    _save(fig, path)
    return Path(path) if path is not None else fig


def plot_vae_log(log: dict, ax=None, title: str | None = None):
    """V's loss curve: training loss, its two terms, and the held-out loss per epoch."""
    if ax is None:
        _, ax = _figure(figsize=(6, 3.5))
    train, val = log.get("train", []), log.get("val", [])
    steps = [p["step"] for p in train]
    style = dict(marker="." if len(train) < 30 else None)  # few points (ci): show each one
    ax.plot(steps, [p["loss"] for p in train], label="train loss", **style)
    ax.plot(steps, [p["recon"] for p in train], label="train reconstruction", alpha=0.7, **style)
    ax.plot(steps, [p["kl_raw"] for p in train], label="train KL (before the floor)", alpha=0.7, **style)
    if val:
        ax.plot([p["step"] for p in val], [p["loss"] for p in val], "o--", label="held-out loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("per image")
    ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_kl_per_dim(kl: np.ndarray, ax=None, title: str | None = None, floor: float | None = None):
    """Bar chart of the mean KL of each latent dimension, most active first."""
    if ax is None:
        _, ax = _figure(figsize=(7, 3))
    order = np.argsort(-kl)
    ax.bar(np.arange(len(kl)), kl[order])
    ax.set_xticks(np.arange(len(kl)))
    ax.set_xticklabels([str(i) for i in order], fontsize=6, rotation=90)
    ax.set_xlabel("latent dimension (sorted by KL)")
    ax.set_ylabel("mean KL (nats)")
    if floor is not None:
        ax.axhline(floor, color="gray", ls=":", label=f"floor / z_size = {floor:.2f}")
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
