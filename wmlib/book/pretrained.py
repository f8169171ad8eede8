"""The trained V, M and C that ship with the book, loaded, so every widget shows something real on first open.

Each world's folder (``wmlib/pretrained/<world>/``) holds ``vae.pt``, ``mdnrnn.pt``
and ``controller.pt`` (fp16 state dicts: plain tensors and sizes, loaded with
``weights_only=True``, so no pickled code ever runs) and ``card.json`` +
``MODEL_CARD.md`` (data, profile, parameter counts, and the scores measured on
these very fp16 weights). ``book.export`` writes them (``python -m wmlib
export-pretrained``); ``book.model_card`` scores them and writes the card.

``vae_for(cfg)`` and ``world_model_for(cfg)`` (V, M and the first-frame codes
together) return the reader's own models at ``cfg``'s profile when they exist and
the shipped ones otherwise, with a word saying which.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..artifacts import file_sha256, load_checkpoint, read_json
from ..config import Config, check_world
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from ..training.mdnrnn import load_mdnrnn
from ..training.finished import FULL_MODE, Starts
from ..training.series import load_series
from ..training.vae import load_vae

SHIPPED_ROOT = Path(__file__).resolve().parents[1] / "pretrained"  # package data: wmlib/pretrained/<world>/
PARTS = ("vae", "mdnrnn", "controller")
CONTROLLER_MODE = FULL_MODE           # the full agent: C reads z and h (Doom: z, c, h)


def shipped_dir(world: str, root: Path | None = None) -> Path:
    return Path(root or SHIPPED_ROOT) / check_world(world)


def shipped_file(folder: Path, part: str) -> Path:
    """One shipped model (``part``: vae, mdnrnn or controller) in a shipped folder."""
    return Path(folder) / f"{part}.pt"


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


# ----------------------------------------------------------------------------- the files' contents (fp16)

def half(state: dict) -> dict:
    """A state dict in fp16 on the CPU (integer tensors as they are)."""
    return {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state.items()}


def _half_array(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float32)).half()


def vae_payload(vae: ConvVAE) -> dict:
    return dict(z_size=vae.z_size, model=half(vae.state_dict()))


def mdnrnn_payload(m: MDNRNN, first_mu, first_logvar) -> dict:
    """M with the first-frame codes its dreams start from."""
    return dict(arch=m.arch(), model=half(m.state_dict()), first_mu=_half_array(first_mu),
                first_logvar=_half_array(first_logvar))


def controller_payload(params, mode: str, z_size: int, hidden: int, **about) -> dict:
    """C's flat parameters with what it reads (``about``: a note and the M it was evolved with, for extras)."""
    return dict(mode=mode, z_size=int(z_size), hidden=int(hidden), **about,
                params=torch.as_tensor(np.asarray(params), dtype=torch.float32).half())


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

def borrowed_starts(cfg: Config, root: Path | None = None) -> Starts | None:
    """The shipped first-frame codes and data size when ``cfg``'s V and M files are the shipped ones (byte for
    byte: the run borrowed them), else None (the run's own series is read). A run with V but neither its own
    series nor the shipped V and M is refused, naming both fixes."""
    shipped = shipped_dir(cfg.world, root)
    for own, part in ((paths.vae_file(cfg), "vae"), (paths.mdnrnn_file(cfg), "mdnrnn")):
        theirs = shipped_file(shipped, part)
        if not (own.exists() and theirs.exists() and file_sha256(own) == file_sha256(theirs)):
            if paths.vae_file(cfg).exists() and not paths.series_dir(cfg).exists():
                raise FileNotFoundError(
                    f"{paths.run_dir(cfg)} has V but no encoded series, and its V and M are not the shipped files "
                    f"byte for byte: encode the run's own series (`python -m wmlib encode {cfg.world}`), or evolve "
                    f"C on V and M copied unchanged from {shipped}")
            return None
    m, data = load_shipped_checkpoint(cfg.world, "mdnrnn", root), shipped_card(cfg.world, root)["data"]
    return Starts(m["first_mu"].float().numpy(), m["first_logvar"].float().numpy(), int(data["episodes"]),
                  int(data["frames"]), policy=data["policy"])


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
           "borrowed_starts", "half", "vae_payload",
           "mdnrnn_payload", "controller_payload", "load_shipped_vae",
           "load_shipped_mdnrnn", "load_shipped_controller_params", "shipped_card", "has_shipped", "vae_for",
           "world_model_for"]
