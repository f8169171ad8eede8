"""Export a finished run's V, M and C as the models that ship with the book.

    python -m wmlib export-pretrained doom        # laptop-profile models -> wmlib/pretrained/doom/

Reads finished stages only (V, the series, M and C of the run's last round, and the
run's other Cs for the chapters): exporting never trains, plays or chooses. Writes
fp16 state dicts (``book.pretrained`` loads them) and the card (``book.model_card``).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .. import paths
from ..agent.evolution import CHECKPOINT
from ..artifacts import file_sha256, load_checkpoint, save_checkpoint, write_json
from ..config import Config, get_config, world_info
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE
from ..training import iterate
from ..training.controller import controller_params
from ..training.dream import dream_params
from ..training.mdnrnn import load_mdnrnn
from ..training.series import load_series
from ..training.vae import load_vae
from ..worlds.data import load_dataset
from ..worlds.policies import describe_random_play
from . import recorded
from .model_card import write_model_card
from .pretrained import CONTROLLER_MODE, PARTS, shipped_dir, shipped_file

SHIPPED_TAU = {"doom": 1.15}          # Doom's C is the one trained in the dream at this temperature


def _half(state: dict) -> dict:
    return {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state.items()}


def _trained_agent(cfg: Config) -> tuple[MDNRNN, np.ndarray, dict]:
    """The M and C that ``cfg``'s pipeline ends with, and what the card says of them.

    Doom: the last round of iterative training on disk (``iterate.last_round``): its M, which
    also read C's real games, and its C, evolved in the dream and chosen by real validation
    games; round 0 (no iterative training yet) is the pipeline's M and dream-trained C.
    """
    if not world_info(cfg.world).dream_trained:
        run = load_checkpoint(paths.controller_dir(cfg, CONTROLLER_MODE) / CHECKPOINT)
        ev = run.get("config") or {}  # the budget the run was evolved with, not today's profile
        budget = (f": {run['generations']} generations x {ev['population']} candidates x {ev['rollouts']} "
                  f"track(s) each, on the {ev.get('renderer', 'gymnasium')} renderer" if ev else "")
        if ev and ev["rollouts"] != cfg.evolution.rollouts:  # not the profile's own: say how to get it
            budget += f" (`python -m wmlib train-controller {cfg.world} --rollouts {ev['rollouts']}`)"
        return load_mdnrnn(cfg), controller_params(cfg, CONTROLLER_MODE), dict(
            controller=f"evolved in the real world (C reads z and h){budget}")
    tau = SHIPPED_TAU[cfg.world]
    k = iterate.last_round(cfg)
    how = f"evolved inside M's dream at tau {tau:g} (its weights never saw the real game)"
    if k == 0:
        return load_mdnrnn(cfg), iterate.round_params(cfg, 0), dict(controller=how, round=0)
    it = cfg.iterate
    how += (f"; round {k} of iterative training: M also read {k * it.episodes} real games of the earlier "
            f"rounds' Cs, "
            f"C's dream fitness was the worst of {'every round' if it.ensemble == 'min' else 'this round'}'s M")
    if it.validation_games:
        how += f", and {it.validation_games} real validation games chose C among its run's candidates"
    return iterate.load_round_mdnrnn(cfg, k), iterate.round_params(cfg, k), dict(controller=how, round=k)


def write_shipped(out: Path, vae: ConvVAE, mdnrnn: MDNRNN, params, first_mu, first_logvar, card: dict) -> Path:
    """Save V, M (with the first-frame codes dreams start from) and C as fp16, and the card."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint(shipped_file(out, "vae"), dict(z_size=vae.z_size, model=_half(vae.state_dict())))
    save_checkpoint(shipped_file(out, "mdnrnn"), dict(
        arch=mdnrnn.arch(), model=_half(mdnrnn.state_dict()),
        first_mu=torch.as_tensor(np.asarray(first_mu, np.float32)).half(),
        first_logvar=torch.as_tensor(np.asarray(first_logvar, np.float32)).half()))
    save_checkpoint(shipped_file(out, "controller"), dict(
        mode=CONTROLLER_MODE, z_size=vae.z_size, hidden=mdnrnn.hidden,
        params=torch.as_tensor(np.asarray(params), dtype=torch.float32).half()))
    card = dict(card, parameters=dict(vae=sum(p.numel() for p in vae.parameters()), mdnrnn=mdnrnn.n_params,
                                      controller=int(len(params))),
                storage="fp16 state dicts, loaded with weights_only=True",
                files={p: file_sha256(shipped_file(out, p)) for p in PARTS}, scores={})
    write_json(out / "card.json", card)
    return out


def export_pretrained(world: str, profile: str = "laptop", root: Path | None = None, artifacts=None,
                      cfg: Config | None = None) -> Path:
    """Write the trained V, M and C of ``profile`` (under ``artifacts``) as fp16 shipped models with a card.

    ``cfg``: export this config's pipeline instead (its world and profile win)."""
    cfg = cfg or get_config(world, profile, artifacts)
    world, profile = cfg.world, cfg.profile
    vae = load_vae(cfg)
    m, params, how = _trained_agent(cfg)
    series, ds = load_series(cfg), load_dataset(cfg)
    policy = "random play: " + describe_random_play(world, cfg.collect.hold_max)
    data = dict(episodes=int(ds.n_episodes), frames=int(ds.n_frames), policy=policy)
    if how.get("round"):
        data["policy"] += (f", then {how['round'] * cfg.iterate.episodes} real games of the dream-trained Cs "
                           "(iterative training)")
    card = dict(world=world, profile=profile, exported=time.strftime("%Y-%m-%d"), tau=SHIPPED_TAU.get(world),
                data=data, **how)
    if world_info(world).dream_trained:  # how the real game feeds C (the score depends on it)
        card["real_z"] = cfg.dream.real_z
    out = write_shipped(shipped_dir(world, root), vae, m, params, series.first_mu, series.first_logvar, card)
    write_model_card(world, root)
    ship_extras(cfg, series, root)
    return out


def ship_extras(cfg: Config, series, root: Path | None = None) -> list[str]:
    """Ship what the chapters show beside the main agent: the run's JSON results, and its other Cs.

    Doom: round 0's M and C (when a later round is the shipped one) and every temperature's C of the
    sweep (evolved in round 0's M's dream); CarRacing: the V-only C. Reads finished runs only: it
    never trains, plays or chooses."""
    recorded.ship_run(cfg, root)
    shipped = []
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    if world_info(cfg.world).dream_trained:
        recorded.ship_mdnrnn(cfg.world, "mdnrnn-round-0", load_mdnrnn(cfg), series.first_mu, series.first_logvar,
                             root)
        tau0 = cfg.dream.tau
        if (paths.dream_dir(cfg, tau0) / CHECKPOINT).exists():
            recorded.ship_controller(cfg.world, "round-0", dream_params(cfg, tau0), CONTROLLER_MODE, z, hidden,
                                     f"round 0: evolved in round 0's M's dream at tau {tau0:g}", root,
                                     mdnrnn="mdnrnn-round-0")
            shipped.append("round-0")
        for folder in sorted(paths.run_dir(cfg).glob("dream-tau*")):
            if (folder / CHECKPOINT).exists():
                tau = float(folder.name[len("dream-tau"):])
                name = f"tau-{tau:.2f}"
                recorded.ship_controller(cfg.world, name, dream_params(cfg, tau), CONTROLLER_MODE, z, hidden,
                                         f"evolved in round 0's M's dream at tau {tau:g}", root,
                                         mdnrnn="mdnrnn-round-0")
                shipped.append(name)
    elif (paths.controller_dir(cfg, "z") / CHECKPOINT).exists():
        recorded.ship_controller(cfg.world, "z", controller_params(cfg, "z"), "z", z, hidden,
                                 "V only: evolved in the real world reading z alone", root)
        shipped.append("z")
    return shipped


__all__ = ["SHIPPED_TAU", "write_shipped", "export_pretrained", "ship_extras"]
