"""Export a finished run's V, M and C as the models that ship with the book.

    python -m wmlib export-pretrained doom        # laptop-profile models -> wmlib/pretrained/doom/

Reads finished stages only (V, the series, M and C of the run's last round, and the
run's other Cs for the chapters): exporting never trains, plays or chooses. Writes
fp16 state dicts (``book.shipped_files`` lays them out, ``book.pretrained`` loads them),
the card (``book.model_card``) and the JSON mirror of the run (``book.recorded``).

A run whose V and M are copies of the shipped files (Cs evolved on the shipped models, e.g.
``experiments/car_from_v_only.py --shipped``) has no series of its own: its export ships its Cs
beside the same V and M, with the shipped first-frame codes and the shipped card's data.
"""
from __future__ import annotations

from pathlib import Path

from ..artifacts import save_checkpoint
from ..config import Config, get_config
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from ..training.finished import read_finished
from . import recorded
from .model_card import STORAGE, card_of, model_sizes, write_card
from .shipped_files import borrowed_starts, model_files, run_files, shipped_dir


def export_pretrained(world: str, profile: str = "laptop", root: Path | None = None, artifacts=None,
                      cfg: Config | None = None) -> Path:
    """Write the trained V, M and C of ``profile`` (under ``artifacts``) as fp16 shipped models with a card,
    the run's other Cs beside them, and the JSON mirror of the run (``book.recorded``).

    ``cfg``: export this config's pipeline instead (its world and profile win)."""
    cfg = cfg or get_config(world, profile, artifacts)
    out = shipped_dir(cfg.world, root)
    borrowed = borrowed_starts(cfg, out)
    run = read_finished(cfg, starts=borrowed)
    save_shipped(out, run_files(run, out), card_of(run))
    recorded.ship_run(cfg, out, borrowed=borrowed is not None)
    return out


def write_shipped(out: Path, vae: ConvVAE, mdnrnn: MDNRNN, params, first_mu, first_logvar, card: dict,
                  extras: list[tuple[Path, dict]] = ()) -> Path:
    """Save V, M (with the first-frame codes dreams start from) and C as fp16, the ``extras`` ((path, payload)
    each) beside them, then the card (``card``, with the models' sizes and files) and the extras' index."""
    files = [*model_files(out, vae, mdnrnn, params, first_mu, first_logvar), *extras]
    return save_shipped(out, files, dict(card, parameters=model_sizes(vae, mdnrnn, params), storage=STORAGE, scores={}))


def save_shipped(out: Path, files: list[tuple[Path, dict]], card: dict) -> Path:
    """Save ``files`` ((path, payload) each), then the card, and index every folder of extras beside ``out``."""
    out = Path(out)
    for path, payload in files:
        save_checkpoint(path, payload)
    write_card(out, card)
    for folder in sorted({path.parent for path, _ in files} - {out}):
        recorded.write_index(folder)
    return out


__all__ = ["write_shipped", "save_shipped", "export_pretrained"]
