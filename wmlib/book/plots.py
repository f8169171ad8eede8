"""The figures the notebooks and the README show (matplotlib, no display needed).

Each function draws one figure from arrays (no model runs and no file is read
here), returns it, and saves it as PNG when given a path, so ``figures/`` can
be rebuilt from the command line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import paper


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


def plot_reconstructions(frames: np.ndarray, recon: np.ndarray, path=None, title: str | None = None):
    """Real frames, V's reconstructions (``models.vae.reconstruct``) and where the error lies."""
    frames, recon = np.asarray(frames), np.asarray(recon)
    n = len(frames)
    fig, axes = _figure(3, n, figsize=(1.6 * n, 5.2), squeeze=False)
    _draw_reconstruction_rows(axes, frames, recon, "")
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def reconstructions_figure(rows, path="figures/vae_reconstructions.png", title: str | None = None):
    """One block of real / reconstructed / error rows per ``(label, frames, recon)`` in ``rows``."""
    n = max((len(real) for _, real, _ in rows), default=1)
    fig, axes = _figure(3 * len(rows), n, figsize=(1.6 * n, 5.2 * len(rows)), squeeze=False)
    for k, (label, real, recon) in enumerate(rows):
        _draw_reconstruction_rows(axes[3 * k:3 * k + 3, :len(real)], real, recon, label)
        for ax in axes[3 * k:3 * k + 3, len(real):].flat:
            ax.axis("off")
    if title:
        fig.suptitle(title)
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


# ----------------------------------------------------------------------------- C in the dream

def plot_temperature(rows, path=None, title: str | None = None, cap: int | None = None,
                     random_policy=paper.DOOM_RANDOM_POLICY, solved: int = paper.DOOM_SOLVED):
    """Dream and real score against tau, ours (solid) beside the paper's (dashed); ``cap``: our episode cap.

    ``rows``: the temperature table's rows (``tau``, ``dream_mean``, ``dream_std``, ``real_mean``,
    ``real_std``, ``paper_dream``, ``paper_real``).
    """
    fig, ax = _figure(figsize=(8.5, 4))
    x = np.arange(len(rows))
    for name, color, dx in (("dream", "tab:blue", -0.06), ("real", "tab:orange", 0.06)):
        ax.errorbar(x + dx, [r[f"{name}_mean"] for r in rows], [r[f"{name}_std"] for r in rows], color=color,
                    marker="o", capsize=3, label=f"{name} (ours)")
        reported = [(i, r[f"paper_{name}"]) for i, r in zip(x, rows) if r[f"paper_{name}"]]
        if reported:
            ax.errorbar([i + 2 * dx for i, _ in reported], [p[0] for _, p in reported], [p[1] for _, p in reported],
                        color=color, marker="s", ls="--", capsize=3, alpha=0.5, label=f"{name} (paper)")
    ax.axhline(random_policy[0], color="grey", ls=":", lw=1, label="random policy (paper)")
    ax.axhline(solved, color="green", ls=":", lw=1, label=f"solved (> {solved})")
    if cap:
        ax.axhline(cap, color="black", ls="-.", lw=0.8, label=f"our episode cap ({cap})")
    ax.set_xticks(x, [f"{r['tau']:.2f}" for r in rows])
    ax.set_xlabel("temperature tau of the dream C was trained in")
    ax.set_ylabel("steps survived")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_seeds(groups: dict, path=None, xlabel: str = "round 0's C, real steps (100 test games)",
               solved: int = paper.DOOM_SOLVED, fontsize: int = 7):
    """One row per group ({label: [score per CMA-ES seed]}): each seed a dot, the mean a bar with its value;
    the line where a score counts as solved."""
    fig, ax = _figure(figsize=(6, 1.2 + 0.75 * len(groups)))
    for i, (label, scores) in enumerate(groups.items()):
        mean = float(np.mean(scores))
        ax.scatter(scores, [i] * len(scores), color=f"C{i}", s=18)
        ax.plot([mean] * 2, [i - 0.3, i + 0.3], color=f"C{i}")
        ax.text(mean, i + 0.35, f"mean {mean:.0f} ({len(scores)} seeds)", ha="center", fontsize=7)
    ax.set_yticks(range(len(groups)), list(groups), fontsize=fontsize)
    ax.set_ylim(-0.6, len(groups) - 0.2)
    ax.axvline(solved, ls=":", color="black")
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    _save(fig, path)
    return fig


# ----------------------------------------------------------------------------- the agent's loop

def agent_loop_figure(highlight: str | None = None, frame=None, z=None, h=None, action=None, dream: bool = False,
                      world: str = "carracing", step: int | None = None, params: dict | None = None,
                      path=None):
    """The agent as a diagram: world -> frame -> V -> z -> C (reading M's h) -> action -> world; M -> h.

    ``highlight`` lights one stage (``"frame"``, ``"V"``, ``"C"``, ``"world"``, ``"M"``); ``frame``,
    ``z``, ``h`` and ``action`` are drawn beside the boxes when given (the animated widget
    passes one step's values). ``dream=True`` draws the world as M's own sample. ``params``
    ({"V": n, "M": n, "C": n}) writes each part's size under its name.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig = Figure(figsize=(9, 4.2))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 5.0)
    ax.axis("off")
    lit, dim = "#ffd54f", "#eeeeee"
    size = lambda k: f"\n{params[k]:,} params" if params and k in params else ""
    boxes = {  # name: (x, y, label)
        "world": (1.2, 3.5, "M's sample\n(the dream)" if dream else "the world\n(" + world + ")"),
        "V": (4.0, 3.5, "V: VAE\n(draws z only)" if dream else "V: VAE" + size("V")),
        "C": (7.2, 3.5, "C: linear" + size("C")),
        "M": (6.0, 1.2, "M: MDN-RNN" + size("M")),
    }
    lights = {"frame": "world", "V": "V", "C": "C", "world": "world", "M": "M"}
    for name, (x, y, label) in boxes.items():
        on = highlight is not None and lights.get(highlight) == name
        face = lit if on else ("#f5f5f5" if (dream and name == "V") else "white")
        ax.add_patch(FancyBboxPatch((x - 0.9, y - 0.45), 1.8, 0.9, boxstyle="round,pad=0.05",
                                    facecolor=face, edgecolor="black", lw=2.0 if on else 1.0))
        ax.text(x, y, label, ha="center", va="center", fontsize=9,
                color="grey" if (dream and name == "V") else "black")

    def arrow(a, b, label, stage, rad=0.0, where=0.5, dy=0.15):
        on = highlight == stage
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, lw=2.5 if on else 1.0,
                                     color="tab:red" if on else "black", connectionstyle=f"arc3,rad={rad}"))
        mx, my = a[0] + where * (b[0] - a[0]), a[1] + where * (b[1] - a[1])
        ax.text(mx, my + dy, label, ha="center", fontsize=9, color="tab:red" if on else "black")

    arrow((2.1, 3.5), (3.1, 3.5), "z" if dream else "frame", "frame")
    arrow((4.9, 3.5), (6.3, 3.5), "z", "V")
    arrow((7.2, 3.95), (1.2, 3.95), "action a", "C", rad=0.12, dy=0.55)
    arrow((4.3, 3.05), (5.6, 1.65), "z", "V", dy=0.0, where=0.35)
    arrow((7.0, 3.05), (6.5, 1.65), "a", "C", dy=0.0, where=0.4)
    arrow((6.9, 1.2), (7.7, 3.05), "h", "M", dy=-0.3, where=0.6)
    if dream:
        arrow((5.1, 1.5), (2.0, 3.05), "next z ~ M (tau)", "world", rad=-0.1, dy=0.1, where=0.55)
    if step is not None:
        ax.text(0.1, 4.9, f"step {step}", fontsize=10, va="top")
    if frame is not None:
        inset = fig.add_axes([0.02, 0.08, 0.2, 0.4])
        inset.imshow(np.asarray(frame), interpolation="nearest")
        inset.set_xticks([]), inset.set_yticks([])
        for s in inset.spines.values():
            s.set_color("tab:red" if highlight == "frame" else "black")
            s.set_linewidth(2.5 if highlight == "frame" else 1.0)
        inset.set_title("V's drawing of z" if dream else "the frame", fontsize=8)
    if z is not None:
        inset = fig.add_axes([0.26, 0.07, 0.2, 0.25])
        z = np.asarray(z).reshape(-1)
        inset.bar(np.arange(len(z)), z, color="tab:red" if highlight == "V" else "tab:blue")
        inset.set_ylim(-4, 4), inset.set_xticks([]), inset.tick_params(labelsize=7)
        inset.set_title(f"z: {len(z)} numbers", fontsize=8)
    if h is not None:
        inset = fig.add_axes([0.8, 0.1, 0.18, 0.28])
        h = np.asarray(h).reshape(-1)[:32]
        inset.bar(np.arange(len(h)), h, color="tab:red" if highlight == "M" else "tab:green")
        inset.set_ylim(-1, 1), inset.set_xticks([]), inset.tick_params(labelsize=7)
        inset.set_title("h: M's memory (first 32)", fontsize=8)
    if action is not None:
        a = np.asarray(action).reshape(-1)
        text = (f"a = {a[0]:+.2f}" if len(a) == 1 else f"steer {a[0]:+.2f}  gas {a[1]:.2f}  brake {a[2]:.2f}")
        ax.text(7.0, 4.75, text, ha="center", fontsize=9, color="tab:red" if highlight == "C" else "black",
                bbox=dict(facecolor="white", edgecolor="none"))
    _save(fig, path)
    return fig


__all__ = ["pixel_error", "plot_reconstructions", "reconstructions_figure", "plot_vae_log", "plot_kl_per_dim",
           "plot_temperature", "agent_loop_figure"]
