"""Trained V, M and C that ship with the book, so every widget shows something real on first open.

    python -m wmlib export-pretrained doom        # laptop-profile models -> wmlib/pretrained/doom/
    python -m wmlib evaluate-shipped doom --episodes 100   # score the shipped fp16 models, update the card

Each world's folder holds ``vae.pt``, ``mdnrnn.pt`` and ``controller.pt`` (fp16
state dicts: plain tensors and sizes, loaded with ``weights_only=True``, so no
pickled code ever runs) and ``card.json`` + ``MODEL_CARD.md`` (data, profile,
parameter counts, and the scores ``evaluate-shipped`` measured on these very
fp16 weights).

``vae_for(cfg)`` and ``world_model_for(cfg)`` (V, M and the first-frame codes
together) return the reader's own models at ``cfg``'s profile when they exist and
the shipped ones otherwise, with a word saying which.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .. import paper, paths
from ..artifacts import file_sha256, load_checkpoint, read_json, save_checkpoint, write_json
from ..config import Config, check_world, get_config, world_info
from ..models.mdnrnn import MDNRNN
from ..models.vae import ConvVAE

SHIPPED_ROOT = Path(__file__).resolve().parents[1] / "pretrained"  # package data: wmlib/pretrained/<world>/
PARTS = ("vae", "mdnrnn", "controller")
SHIPPED_TAU = {"doom": 1.15}          # Doom's C is the one trained in the dream at this temperature
CONTROLLER_MODE = "zh"                # the full agent: C reads z and h (Doom: z, c, h)
EVAL_SEED = 20_180_327                # shipped models are scored on episodes no training run used


def shipped_dir(world: str, root: Path | None = None) -> Path:
    return Path(root or SHIPPED_ROOT) / check_world(world)


def shipped_file(folder: Path, part: str) -> Path:
    """One shipped model (``part``: vae, mdnrnn or controller) in a shipped folder."""
    return Path(folder) / f"{part}.pt"


def _half(state: dict) -> dict:
    return {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()) for k, v in state.items()}


def _missing(world: str, part: str, root: Path | None = None) -> FileNotFoundError:
    return FileNotFoundError(
        f"no shipped {part} for {world} in {shipped_dir(world, root)}: reinstall wmlib from the repository "
        f"(the files are package data), or train your own (`python -m wmlib reproduce {world}`)")


def _load(world: str, part: str, root: Path | None = None) -> dict:
    path = shipped_file(shipped_dir(world, root), part)
    if not path.exists():
        raise _missing(world, part, root)
    return load_checkpoint(path)


# ----------------------------------------------------------------------------- loading

def load_shipped_vae(world: str, device="cpu", root: Path | None = None) -> ConvVAE:
    return ConvVAE.from_checkpoint(_load(world, "vae", root), device)


def load_shipped_mdnrnn(world: str, device="cpu", root: Path | None = None) -> MDNRNN:
    return MDNRNN.from_checkpoint(_load(world, "mdnrnn", root), device)


def load_shipped_controller_params(world: str, root: Path | None = None) -> np.ndarray:
    ckpt = _load(world, "controller", root)
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
    from ..training.vae import load_vae

    if paths.vae_file(cfg).exists():
        return load_vae(cfg, device), f"your V ({cfg.profile} profile)"
    return load_shipped_vae(cfg.world, device), "the shipped V (laptop profile)"


def world_model_for(cfg: Config, device="cpu") -> dict:
    """V, M and the first-frame codes dreams start from, all from ONE source.

    The reader's own (V, M and the encoded series at this profile) when all three
    exist, else the shipped ones: a code means nothing to an M trained on another V.
    Returns dict(vae, mdnrnn, first_mu, first_logvar, source).
    """
    from ..training.series import load_series
    from ..training.mdnrnn import load_mdnrnn
    from ..training.vae import load_vae

    if paths.vae_file(cfg).exists() and paths.mdnrnn_file(cfg).exists():
        try:
            s = load_series(cfg)
        except FileNotFoundError:
            s = None
        if s is not None:
            return dict(vae=load_vae(cfg, device), mdnrnn=load_mdnrnn(cfg, device),
                        first_mu=np.asarray(s.first_mu, np.float32), first_logvar=np.asarray(s.first_logvar, np.float32),
                        source=f"your V and M ({cfg.profile} profile)")
    ckpt = _load(cfg.world, "mdnrnn")
    return dict(vae=load_shipped_vae(cfg.world, device), mdnrnn=load_shipped_mdnrnn(cfg.world, device),
                first_mu=ckpt["first_mu"].float().numpy(), first_logvar=ckpt["first_logvar"].float().numpy(),
                source="the shipped V and M (laptop profile)")


# ----------------------------------------------------------------------------- export

def _trained_agent(cfg: Config) -> tuple[MDNRNN, np.ndarray, dict]:
    """The M and C that ``cfg``'s pipeline ends with, and what the card says of them.

    Doom: the last round of iterative training on disk (``iterate.last_round``): its M, which
    also read C's real games, and its C, evolved in the dream and chosen by real validation
    games; round 0 (no iterative training yet) is the pipeline's M and dream-trained C.
    """
    from ..training.mdnrnn import load_mdnrnn

    if cfg.world != "doom":
        from ..agent.evolution import CHECKPOINT
        from ..training.controller import controller_params

        run = load_checkpoint(paths.controller_dir(cfg, CONTROLLER_MODE) / CHECKPOINT)
        ev = run.get("config") or {}  # the budget the run was evolved with, not today's profile
        budget = (f": {run['generations']} generations x {ev['population']} candidates x {ev['rollouts']} "
                  f"track(s) each, on the {ev.get('renderer', 'gymnasium')} renderer" if ev else "")
        if ev and ev["rollouts"] != cfg.evolution.rollouts:  # not the profile's own: say how to get it
            budget += f" (`python -m wmlib train-controller {cfg.world} --rollouts {ev['rollouts']}`)"
        return load_mdnrnn(cfg), controller_params(cfg, CONTROLLER_MODE), dict(
            controller=f"evolved in the real world (C reads z and h){budget}")
    from ..training import iterate

    tau = SHIPPED_TAU["doom"]
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
    from ..worlds.data import load_dataset
    from ..training.series import load_series
    from ..training.vae import load_vae

    cfg = cfg or get_config(world, profile, artifacts)
    world, profile = cfg.world, cfg.profile
    vae = load_vae(cfg)
    m, params, how = _trained_agent(cfg)
    series, ds = load_series(cfg), load_dataset(cfg)
    policy = (f"random play: a uniform action held 1-{cfg.collect.hold_max} steps" if world == "doom"
              else "random play: a smooth random walk")
    data = dict(episodes=int(ds.n_episodes), frames=int(ds.n_frames), policy=policy)
    if how.get("round"):
        data["policy"] += (f", then {how['round'] * cfg.iterate.episodes} real games of the dream-trained Cs "
                           "(iterative training)")
    card = dict(world=world, profile=profile, exported=time.strftime("%Y-%m-%d"), tau=SHIPPED_TAU.get(world),
                data=data, **how)
    if world == "doom":  # how the real game feeds C (the score depends on it)
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
    from ..agent.evolution import CHECKPOINT
    from ..training.mdnrnn import load_mdnrnn
    from . import recorded

    recorded.ship_run(cfg, root)
    shipped = []
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    if cfg.world == "doom":
        from ..training.dream import dream_params

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
        from ..training.controller import controller_params

        recorded.ship_controller(cfg.world, "z", controller_params(cfg, "z"), "z", z, hidden,
                                 "V only: evolved in the real world reading z alone", root)
        shipped.append("z")
    return shipped


# ----------------------------------------------------------------------------- scoring the shipped models

def evaluate_shipped(world: str, episodes: int = 100, workers: int = 2, backend: str = "processes",
                     root: Path | None = None, write: bool = True, max_steps: int | None = None) -> dict:
    """Score the shipped fp16 V+M+C in the real game over ``episodes``; recorded in the card."""
    from ..agent.rollout import RolloutPool, agent_spec

    world = check_world(world)
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1 (got {episodes})")
    card = shipped_card(world, root)
    vae, m = load_shipped_vae(world, root=root), load_shipped_mdnrnn(world, root=root)
    params = load_shipped_controller_params(world, root)
    max_steps = max_steps or world_info(world).episode_cap
    spec = agent_spec(world, CONTROLLER_MODE, vae, m, max_steps, renderer="gymnasium",  # scores: official pixels
                      real_z=card.get("real_z", "mean"))
    with RolloutPool(spec, backend, workers) as pool:
        r = pool.run(params[None], episodes, EVAL_SEED)["returns"][0]
    res = dict(mean=float(r.mean()), std=float(r.std()), episodes=int(episodes), seed=EVAL_SEED, renderer="gymnasium",
               command=f"python -m wmlib evaluate-shipped {world} --episodes {episodes}")
    if write:
        card["scores"]["real"] = res
        write_json(shipped_dir(world, root) / "card.json", card)
        write_model_card(world, root)
    return res


def write_model_card(world: str, root: Path | None = None) -> Path:
    card = shipped_card(world, root)
    p = card["parameters"]
    real = card["scores"].get("real")
    if world == "doom":
        ref = paper.DOOM_TEMPERATURE[1.15][1]
        paper_line = f"paper (tau 1.15, real game): {ref[0]} +- {ref[1]}; solved above {paper.DOOM_SOLVED}"
    else:
        ref = paper.CARRACING_SCORES["World Model, full (C reads z and h)"]
        paper_line = f"paper (full agent): {ref[0]} +- {ref[1]}; solved at {paper.CARRACING_SOLVED}"
    score = (f"{real['mean']:.1f} +- {real['std']:.1f} over {real['episodes']} episodes "
             f"(`{real['command']}`)" if real else "not measured yet: run `python -m wmlib evaluate-shipped "
             f"{world} --episodes 100`")
    rounds = f" --rounds {card['round']}" if card.get("round") else ""  # a round past round 0: the longer run
    text = f"""# Shipped models: {world}

- **Trained by**: the {card['profile']} pipeline (`python -m wmlib reproduce {world}{rounds}`, or its stages one by one), exported with
  `python -m wmlib export-pretrained {world}` on {card['exported']}.
- **Data**: {card['data']['episodes']} episodes ({card['data']['frames']:,} frames) of {card['data']['policy']}.
- **Profile**: `{card['profile']}` (see `wmlib/config.py`), so far smaller than the paper's 10,000 rollouts.
- **Parameters**: V {p['vae']:,}, M {p['mdnrnn']:,}, C {p['controller']:,}.
- **C**: {card['controller']}.
- **Storage**: {card['storage']}.
- **Score in the real game** (these fp16 weights): {score}.
- **For comparison**: {paper_line}.

Load with `wmlib.book.pretrained.load_shipped_vae("{world}")`, `load_shipped_mdnrnn`,
`load_shipped_controller_params`, or through `world_model_for(cfg)` / `vae_for(cfg)`, which
prefer your own models at that profile (notebook 04 opens its dream player this way).
"""
    path = shipped_dir(world, root) / "MODEL_CARD.md"
    path.write_text(text)
    return path


__all__ = ["SHIPPED_ROOT", "PARTS", "SHIPPED_TAU", "CONTROLLER_MODE", "EVAL_SEED", "shipped_dir", "shipped_file",
           "load_shipped_vae", "load_shipped_mdnrnn", "load_shipped_controller_params", "shipped_card",
           "has_shipped", "vae_for", "world_model_for", "write_shipped", "export_pretrained",
           "evaluate_shipped", "write_model_card", "ship_extras"]
