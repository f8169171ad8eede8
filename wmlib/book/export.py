"""Export a finished run's V, M and C as the models that ship with the book.

    python -m wmlib export-pretrained doom        # laptop-profile models -> wmlib/pretrained/doom/

Reads finished stages only (V, the series, M and C of the run's last round, and the
run's other Cs for the chapters): exporting never trains, plays or chooses. Writes
fp16 state dicts (``book.pretrained`` loads them) and the card (``book.model_card``).

A run whose V and M are copies of the shipped files (Cs evolved on the shipped models, e.g.
``experiments/car_from_v_only.py --shipped``) has no series of its own: its export ships its Cs
beside the same V and M, with the shipped first-frame codes and the shipped card's data.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..artifacts import file_sha256, save_checkpoint, write_json
from ..config import Config, get_config
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from ..training.finished import FinishedRun, read_finished
from ..worlds.policies import describe_random_play
from . import recorded
from .model_card import write_model_card
from .pretrained import (CONTROLLER_MODE, PARTS, borrowed_starts, controller_payload, mdnrnn_payload, shipped_dir,
                         shipped_file, vae_payload)

SHIPPED_TAU = {"doom": 1.15}          # Doom's C is the one trained in the dream at this temperature


def export_pretrained(world: str, profile: str = "laptop", root: Path | None = None, artifacts=None,
                      cfg: Config | None = None) -> Path:
    """Write the trained V, M and C of ``profile`` (under ``artifacts``) as fp16 shipped models with a card,
    the run's other Cs beside them, and the JSON mirror of the run (``book.recorded``).

    ``cfg``: export this config's pipeline instead (its world and profile win)."""
    cfg = cfg or get_config(world, profile, artifacts)
    borrowed = borrowed_starts(cfg, root)
    run = read_finished(cfg, starts=borrowed)
    card, out = _card(run), shipped_dir(cfg.world, root)
    write_shipped(out, run.vae, run.mdnrnn, run.params, run.starts.first_mu, run.starts.first_logvar, card,
                  extras=_extras(run, out / recorded.CONTROLLERS))
    write_model_card(cfg.world, root)
    recorded.ship_run(cfg, root, borrowed=borrowed is not None)
    return out


def _card(run: FinishedRun) -> dict:
    """What the card says of the data and of how C was made (``write_shipped`` adds sizes and files)."""
    cfg, starts, how = run.cfg, run.starts, _how_c(run)
    policy = starts.policy or "random play: " + describe_random_play(cfg.world, cfg.collect.hold_max)
    if not starts.policy and run.round:
        policy += (f", then {run.round * cfg.iterate.episodes} real games of the dream-trained Cs "
                   "(iterative training)")
    card = dict(world=cfg.world, profile=cfg.profile, exported=time.strftime("%Y-%m-%d"),
                tau=SHIPPED_TAU.get(cfg.world),
                data=dict(episodes=starts.episodes, frames=starts.frames, policy=policy),
                controller=how)
    if starts.policy:  # borrowed: V and M are the shipped ones (their data as the shipped card said), C is new
        card["borrowed"] = True
    if run.round is not None:  # dream-trained: the round, and how the real game feeds C (the score depends on it)
        card.update(round=run.round, real_z=cfg.dream.real_z)
    return card


def _how_c(run: FinishedRun) -> str:
    """How the shipped C was made, in words."""
    cfg, k = run.cfg, run.round
    if k is None:
        ev = run.evolved["config"]  # the budget the run was evolved with, not today's profile
        budget = (f": {run.evolved['generations']} generations x {ev['population']} candidates x {ev['rollouts']} "
                  f"track(s) each, on the {ev.get('renderer', 'gymnasium')} renderer" if ev else "")
        if ev and ev["rollouts"] != cfg.evolution.rollouts:  # not the profile's own: say how to get it
            budget += f" (`python -m wmlib train-controller {cfg.world} --rollouts {ev['rollouts']}`)"
        if ev.get("start", "zeros") != "zeros":  # warm-started: from which C, with which first step size
            start = _start_words(ev["start"], run.evolved.get("start", ""))
            budget += f", started from {start} with sigma0 {ev['sigma0']:g}"
        return f"evolved in the real world (C reads z and h){budget}"
    how = f"evolved inside M's dream at tau {SHIPPED_TAU[cfg.world]:g} (its weights never saw the real game)"
    if k == 0:
        return how
    it = cfg.iterate
    how += (f"; round {k} of iterative training: M also read {k * it.episodes} real games of the earlier "
            f"rounds' Cs, "
            f"C's dream fitness was the worst of {'every round' if it.ensemble == 'min' else 'this round'}'s M")
    if it.validation_games:
        how += f", and {it.validation_games} real validation games chose C among its run's candidates"
    return how


def _start_words(start: str, key: str) -> str:
    """The start in words: ``start`` as set, ``key`` as run.json recorded it ("file:<sha16>")."""
    if start == "v_only":
        return "this run's V-only C (h's weights zero)"
    sha = key.split(":", 1)[-1]  # the file at ``start`` may have changed since: name the C by its parameters
    return f"a C from a file (parameters' sha256 {sha}...)" if sha else f"the C in `{start}`"


def _extras(run: FinishedRun, folder: Path) -> list[tuple[Path, dict]]:
    """The run's other Cs (Doom: with round 0's M, which they read) as (path, payload) in ``folder``."""
    z, hidden = run.cfg.vae.z_size, run.cfg.mdnrnn.hidden
    files = [(folder / f"{c.name}.pt", controller_payload(c.params, c.mode, z, hidden, note=c.note, mdnrnn=c.mdnrnn))
             for c in run.extras]
    if run.round0_mdnrnn is not None:
        files.insert(0, (folder / "mdnrnn-round-0.pt",
                         mdnrnn_payload(run.round0_mdnrnn, run.starts.first_mu, run.starts.first_logvar)))
    return files


def write_shipped(out: Path, vae: ConvVAE, mdnrnn: MDNRNN, params, first_mu, first_logvar, card: dict,
                  extras: list[tuple[Path, dict]] = ()) -> Path:
    """Save V, M (with the first-frame codes dreams start from) and C as fp16, the ``extras`` ((path, payload)
    each) beside them, then the card and the extras' index."""
    out = Path(out)
    files = [(shipped_file(out, "vae"), vae_payload(vae)),
             (shipped_file(out, "mdnrnn"), mdnrnn_payload(mdnrnn, first_mu, first_logvar)),
             (shipped_file(out, "controller"), controller_payload(params, CONTROLLER_MODE, vae.z_size, mdnrnn.hidden)),
             *extras]
    for path, payload in files:
        save_checkpoint(path, payload)
    card = dict(card, parameters=dict(vae=sum(p.numel() for p in vae.parameters()), mdnrnn=mdnrnn.n_params,
                                      controller=int(len(params))),
                storage="fp16 state dicts, loaded with weights_only=True",
                files={p: file_sha256(shipped_file(out, p)) for p in PARTS}, scores={})
    write_json(out / "card.json", card)
    for folder in sorted({path.parent for path, _ in extras}):
        recorded.write_index(folder)
    return out


__all__ = ["SHIPPED_TAU", "write_shipped", "export_pretrained"]
