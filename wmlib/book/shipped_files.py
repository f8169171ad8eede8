"""What a shipped folder (``wmlib/pretrained/<world>/``) holds: each file's name and its contents.

``book.export`` writes these files, ``book.pretrained`` reads them. V, M and C are fp16 state
dicts (plain tensors and sizes, loaded with ``weights_only=True``); M carries the first-frame
codes its dreams start from; C carries what it reads. ``run_files`` lays out every file of one
finished run, the run's other Cs (``controllers/``) included.

``borrowed_starts`` tells a run that evolved its Cs on the shipped V and M (copied byte for byte)
from one with its own: such a run has no series, and ships the shipped first-frame codes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..artifacts import file_sha256, load_checkpoint, read_json
from ..config import Config, check_world
from ..training.finished import FULL_MODE, FinishedRun, Starts

SHIPPED_ROOT = Path(__file__).resolve().parents[1] / "pretrained"  # package data: wmlib/pretrained/<world>/
PARTS = ("vae", "mdnrnn", "controller")
CONTROLLER_MODE = FULL_MODE           # the full agent: C reads z and h (Doom: z, c, h)
CONTROLLERS = "controllers"           # the run's other Cs (and the Ms they read) beside the shipped ones


def shipped_dir(world: str, root: Path | None = None) -> Path:
    return Path(root or SHIPPED_ROOT) / check_world(world)


def shipped_file(folder: Path, part: str) -> Path:
    """One shipped model (``part``: vae, mdnrnn or controller) in a shipped folder."""
    return Path(folder) / f"{part}.pt"


# ----------------------------------------------------------------------------- the files' contents (fp16)

def half(state: dict) -> dict:
    """A state dict in fp16 on the CPU (integer tensors as they are)."""
    return {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state.items()}


def _half_array(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, np.float32)).half()


def vae_payload(vae) -> dict:
    return dict(z_size=vae.z_size, model=half(vae.state_dict()))


def mdnrnn_payload(m, first_mu, first_logvar) -> dict:
    """M with the first-frame codes its dreams start from."""
    return dict(arch=m.arch(), model=half(m.state_dict()), first_mu=_half_array(first_mu),
                first_logvar=_half_array(first_logvar))


def controller_payload(params, mode: str, z_size: int, hidden: int, **about) -> dict:
    """C's flat parameters with what it reads (``about``: a note and the M it was evolved with, for extras)."""
    return dict(mode=mode, z_size=int(z_size), hidden=int(hidden), **about,
                params=torch.as_tensor(np.asarray(params), dtype=torch.float32).half())


def model_files(out: Path, vae, mdnrnn, params, first_mu, first_logvar) -> list[tuple[Path, dict]]:
    """V, M (with the first-frame codes) and C as (path, payload) in the shipped folder ``out``."""
    return [(shipped_file(out, "vae"), vae_payload(vae)),
            (shipped_file(out, "mdnrnn"), mdnrnn_payload(mdnrnn, first_mu, first_logvar)),
            (shipped_file(out, "controller"), controller_payload(params, CONTROLLER_MODE, vae.z_size, mdnrnn.hidden))]


def run_files(run: FinishedRun, out: Path) -> list[tuple[Path, dict]]:
    """Every file a finished run ships, as (path, payload): V, M and C, then its other Cs (Doom: with round
    0's M, which they read) in ``out/controllers``."""
    starts, z, hidden, folder = run.starts, run.cfg.vae.z_size, run.cfg.mdnrnn.hidden, Path(out) / CONTROLLERS
    files = model_files(out, run.vae, run.mdnrnn, run.params, starts.first_mu, starts.first_logvar)
    if run.round0_mdnrnn is not None:
        files.append((folder / "mdnrnn-round-0.pt", mdnrnn_payload(run.round0_mdnrnn, starts.first_mu,
                                                                   starts.first_logvar)))
    files += [(folder / f"{c.name}.pt", controller_payload(c.params, c.mode, z, hidden, note=c.note, mdnrnn=c.mdnrnn))
              for c in run.extras]
    return files


# ----------------------------------------------------------------------------- a run on the shipped V and M

def borrowed_starts(cfg: Config, out: Path) -> Starts | None:
    """The first-frame codes and data size of the shipped folder ``out`` when ``cfg``'s V and M files are the
    ones there (byte for byte: the run borrowed them), else None (the run's own series is read). A run with V
    but neither its own series nor the shipped V and M is refused, naming both fixes."""
    theirs = (shipped_file(out, "vae"), shipped_file(out, "mdnrnn"))
    own, run_dir = (paths.vae_file(cfg), paths.mdnrnn_file(cfg)), paths.run_dir(cfg)
    lone_v = own[0].exists() and not paths.series_dir(cfg).exists()
    if not all(a.exists() and b.exists() and file_sha256(a) == file_sha256(b) for a, b in zip(own, theirs)):
        if lone_v:
            raise FileNotFoundError(
                f"{run_dir} has V but no encoded series, and its V and M are not the shipped files "
                f"byte for byte: encode the run's own series (`python -m wmlib encode {cfg.world}`), or evolve "
                f"C on V and M copied unchanged from {out}")
        return None
    m, data = load_checkpoint(theirs[1]), read_json(Path(out) / "card.json")["data"]
    return Starts(m["first_mu"].float().numpy(), m["first_logvar"].float().numpy(), int(data["episodes"]),
                  int(data["frames"]), policy=data["policy"])


__all__ = ["SHIPPED_ROOT", "PARTS", "CONTROLLER_MODE", "CONTROLLERS", "shipped_dir", "shipped_file", "half",
           "vae_payload", "mdnrnn_payload", "controller_payload", "model_files", "run_files", "borrowed_starts"]
