"""The one place that names what a run writes: its folders and files.

    <root>/<world>/<profile>/data/                  random-play shards
                             vae/vae.pt, last.pt, log.json, heldout.json
                             series/                 V's code of every frame, for M
                             mdnrnn/mdnrnn.pt, last.pt, log.json, eval.json
                             controller-<mode>/      C evolved in the real world: run.json, test-*.json
                             dream-tau<tau>/         C evolved in M's dream: run.json, score-*.json
                             temperature/            the sweep's table.json and temperature.png
                             iterate/data/, series/  iterative training: C's real games, their codes
                             iterate/round-<k>/      round k's mdnrnn.pt, C's evolution, score.json
                             iterate/rounds.json     the rounds table
                             reproduce.json          the whole pipeline's record
    <root>/<world>/baselines/random-<episodes>[-skill<k>].json

The evolution inside a C run folder keeps its own files (``agent.evolution``).

The root is ``cfg.artifacts`` when a config names one; otherwise ``WM_ARTIFACTS``,
else ``artifacts/`` in a repository checkout, else ``./artifacts``, read each time a
path is asked for. Two profiles never share a folder.

One rule for creating: naming a path creates nothing; whoever writes into a folder
first calls ``ready(folder)``, which creates it and proves it writable.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .config import Config, world_info

__all__ = ["root", "ready", "run_dir", "data_dir", "vae_dir", "vae_file", "series_dir", "mdnrnn_dir",
           "mdnrnn_file", "controller_dir", "dream_dir", "sweep_dir", "reproduce_record", "baseline_file",
           "controller_score", "dream_score", "iterate_dir", "iterate_data_dir", "iterate_series_dir", "round_dir", "round_run_dir", "round_mdnrnn", "round_controller", "round_score",
           "rounds_table", "LAST", "LOG", "RUN", "VAE_HELDOUT", "MDNRNN_EVAL"]

_REPO = Path(__file__).resolve().parents[1]

LAST = "last.pt"             # V's and M's resumable training state
LOG = "log.json"             # their loss curves
RUN = "run.json"             # which V and M a C run drives, and its settings
VAE_HELDOUT = "heldout.json"  # V's held-out error (vae-report)
MDNRNN_EVAL = "eval.json"    # M's held-out evaluation (eval-mdnrnn)


def root(cfg: Config | None = None) -> Path:
    """Where every run of ``cfg`` lives (see the module docstring)."""
    if cfg is not None and cfg.artifacts:
        return Path(cfg.artifacts).expanduser().resolve()
    env = os.environ.get("WM_ARTIFACTS")
    if env:
        return Path(env).expanduser().resolve()
    if (_REPO / "pyproject.toml").exists():
        return _REPO / "artifacts"
    return Path.cwd() / "artifacts"


def ready(folder: Path) -> Path:
    """Create ``folder`` and prove we can write there, with an error that says what to do."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as err:
        raise PermissionError(
            f"cannot write to {folder} ({err.strerror}); point WM_ARTIFACTS (or --artifacts) "
            "at a writable folder") from err
    return folder


def run_dir(cfg: Config) -> Path:
    """``<root>/<world>/<profile>``: every stage of one world at one profile."""
    return root(cfg) / cfg.world / cfg.profile  # a Config's world and profile are checked when it is made


# ----------------------------------------------------------------------------- data, V, M

def data_dir(cfg: Config) -> Path:
    return run_dir(cfg) / "data"


def vae_dir(cfg: Config) -> Path:
    return run_dir(cfg) / "vae"


def vae_file(cfg: Config) -> Path:
    """The trained V (written once training has finished)."""
    return vae_dir(cfg) / "vae.pt"


def series_dir(cfg: Config) -> Path:
    return run_dir(cfg) / "series"


def mdnrnn_dir(cfg: Config) -> Path:
    return run_dir(cfg) / "mdnrnn"


def mdnrnn_file(cfg: Config) -> Path:
    """The trained M (written once training has finished)."""
    return mdnrnn_dir(cfg) / "mdnrnn.pt"


# ----------------------------------------------------------------------------- C

def controller_dir(cfg: Config, mode: str) -> Path:
    """C evolved in the real world, reading z (``mode`` "z") or z and M's state ("zh")."""
    return run_dir(cfg) / f"controller-{mode}"


def controller_score(cfg: Config, mode: str, which: str, episodes: int) -> Path:
    return controller_dir(cfg, mode) / f"test-{which}-{episodes}.json"


def dream_dir(cfg: Config, tau: float) -> Path:
    """C evolved in M's dream at temperature ``tau``."""
    return run_dir(cfg) / f"dream-tau{float(tau):.2f}"


def dream_score(cfg: Config, tau: float, which: str) -> Path:
    return dream_dir(cfg, tau) / f"score-{which}.json"


def sweep_dir(cfg: Config) -> Path:
    return run_dir(cfg) / "temperature"


# ----------------------------------------------------------------------------- iterative training

def iterate_dir(cfg: Config) -> Path:
    """Iterative training (``training.iterate``): ``data/`` and ``series/`` hold every round's real games."""
    return run_dir(cfg) / "iterate"


def iterate_data_dir(cfg: Config) -> Path:
    """Every round's real games, as shards (episode ids ``k * 1,000,000 + i`` for round k)."""
    return iterate_dir(cfg) / "data"


def iterate_series_dir(cfg: Config) -> Path:
    return iterate_dir(cfg) / "series"


def round_dir(cfg: Config, k: int) -> Path:
    """Round ``k`` (>= 1) of iterative training: its M, C's evolution and its score."""
    return iterate_dir(cfg) / f"round-{int(k)}"


def round_run_dir(cfg: Config, k: int, r: int = 0) -> Path:
    """CMA-ES run ``r`` of round ``k`` (``iterate.restarts``): run 0 is the round's own folder."""
    return round_dir(cfg, k) if r == 0 else round_dir(cfg, k) / f"restart-{int(r)}"


def round_mdnrnn(cfg: Config, k: int) -> Path:
    """M of round ``k``; round 0 is the pipeline's own M."""
    return mdnrnn_file(cfg) if k == 0 else round_dir(cfg, k) / "mdnrnn.pt"


def round_controller(cfg: Config, k: int) -> Path:
    """C of round ``k`` (>= 1) as the round scored it (its parameters, recorded by ``iterate.score_round``)."""
    return round_dir(cfg, k) / "controller.pt"


def round_score(cfg: Config, k: int) -> Path:
    return (iterate_dir(cfg) / "round-0" if k == 0 else round_dir(cfg, k)) / "score.json"


def rounds_table(cfg: Config) -> Path:
    return iterate_dir(cfg) / "rounds.json"


# ----------------------------------------------------------------------------- records

def reproduce_record(cfg: Config) -> Path:
    return run_dir(cfg) / "reproduce.json"


def baseline_file(cfg: Config, episodes: int, skill: int = 4) -> Path:
    """A random-policy score (``python -m wmlib baseline``); shared by every profile of a world."""
    levels = world_info(cfg.world).skill is not None  # a game with difficulty levels names the one played
    name = f"random-{episodes}" + (f"-skill{skill}" if levels else "") + ".json"
    return root(cfg) / cfg.world / "baselines" / name
