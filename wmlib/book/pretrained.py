"""The trained V, M and C that ship with the book, loaded, so every widget shows something real on first open.

Each world's folder (``wmlib/pretrained/<world>/``) holds ``vae.pt``, ``mdnrnn.pt``
and ``controller.pt`` (fp16 state dicts: plain tensors and sizes, loaded with
``weights_only=True``, so no pickled code ever runs) and ``card.json`` +
``MODEL_CARD.md`` (data, profile, parameter counts, and the scores measured on
these very fp16 weights). ``book.export`` writes them (``python -m wmlib
export-pretrained``; ``book.shipped_files`` names them and lays out their contents); ``book.model_card`` scores them and writes the card.

``vae_for(cfg)`` and ``world_model_for(cfg)`` (V, M and the first-frame codes
together) return the reader's own models at ``cfg``'s profile when they exist and
the shipped ones otherwise, with a word saying which.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import paths
from ..artifacts import load_checkpoint, read_json
from ..config import Config
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from ..training.mdnrnn import load_mdnrnn
from ..training.series import load_series
from ..training.vae import load_vae
from .shipped_files import CONTROLLER_MODE, PARTS, SHIPPED_ROOT, shipped_dir, shipped_file


def _missing(world: str, part: str, root: Path | None = None) -> FileNotFoundError:
    return FileNotFoundError(
        f"no shipped {part} for {world} in {shipped_dir(world, root)}: reinstall wmlib from the repository "
        f"(the files are package data), or train your own (`python -m wmlib reproduce {world}`)")


def load_shipped_checkpoint(world: str, part: str, root: Path | None = None) -> dict:
    """The shipped checkpoint of `part` (vae, mdnrnn, controller) as saved: weights and what ships beside
    them (M also carries the first-frame codes dreams start from)."""
    path = shipped_file(shipped_dir(world, root), part)
    if not path.exists():
        raise _missing(world, part, root)
    return load_checkpoint(path)


# ----------------------------------------------------------------------------- loading

def load_shipped_vae(world: str, device="cpu", root: Path | None = None) -> ConvVAE:
    return ConvVAE.from_checkpoint(load_shipped_checkpoint(world, "vae", root), device)


def load_shipped_mdnrnn(world: str, device="cpu", root: Path | None = None) -> MDNRNN:
    return MDNRNN.from_checkpoint(load_shipped_checkpoint(world, "mdnrnn", root), device)


def load_shipped_controller_params(world: str, root: Path | None = None) -> np.ndarray:
    ckpt = load_shipped_checkpoint(world, "controller", root)
    return ckpt["params"].float().numpy().astype(np.float64)


def shipped_card(world: str, root: Path | None = None) -> dict:
    path = shipped_dir(world, root) / "card.json"
    if not path.exists():
        raise _missing(world, "model card", root)
    return read_json(path)


def has_shipped(world: str, root: Path | None = None) -> bool:
    return all(shipped_file(shipped_dir(world, root), p).exists() for p in PARTS)


# ----------------------------------------------------------------------------- own model, else shipped

def vae_for(cfg: Config, device="cpu"):
    """(V, source): the reader's V at this profile if trained, else the shipped one."""
    if paths.vae_file(cfg).exists():
        return load_vae(cfg, device), f"your V ({cfg.profile} profile)"
    return load_shipped_vae(cfg.world, device), "the shipped V (laptop profile)"


def world_model_for(cfg: Config, device="cpu") -> dict:
    """V, M and the first-frame codes dreams start from, all from ONE source.

    The reader's own (V, M and the encoded series at this profile) when all three
    exist, else the shipped ones: a code means nothing to an M trained on another V.
    Returns dict(vae, mdnrnn, first_mu, first_logvar, source).
    """
    if paths.vae_file(cfg).exists() and paths.mdnrnn_file(cfg).exists():
        try:
            s = load_series(cfg)
        except FileNotFoundError:
            s = None
        if s is not None:
            return dict(vae=load_vae(cfg, device), mdnrnn=load_mdnrnn(cfg, device),
                        first_mu=np.asarray(s.first_mu, np.float32), first_logvar=np.asarray(s.first_logvar, np.float32),
                        source=f"your V and M ({cfg.profile} profile)")
    ckpt = load_shipped_checkpoint(cfg.world, "mdnrnn")
    return dict(vae=load_shipped_vae(cfg.world, device), mdnrnn=load_shipped_mdnrnn(cfg.world, device),
                first_mu=ckpt["first_mu"].float().numpy(), first_logvar=ckpt["first_logvar"].float().numpy(),
                source="the shipped V and M (laptop profile)")


__all__ = ["SHIPPED_ROOT", "PARTS", "CONTROLLER_MODE", "shipped_dir", "shipped_file", "load_shipped_checkpoint",
           "load_shipped_vae",
           "load_shipped_mdnrnn", "load_shipped_controller_params", "shipped_card", "has_shipped", "vae_for",
           "world_model_for"]
