"""The shipped models scored in the real game, and their card.

    python -m wmlib evaluate-shipped doom --episodes 100   # score the shipped fp16 models, update the card

``card_of(run)`` says what a finished run's export ships (its data, how C was made, the
models' sizes); ``evaluate_shipped`` plays the shipped fp16 V + M + C on episodes no
training run used and records the score in the card; ``write_card`` writes ``card.json``
and ``MODEL_CARD.md`` (the card in words, with the paper's score for comparison).
"""
from __future__ import annotations

import time
from pathlib import Path

from .. import paper
from ..agent.episode import agent_spec
from ..agent.pool import RolloutPool
from ..artifacts import file_sha256, write_json
from ..config import check_world, world_info
from ..training.finished import FinishedRun
from ..worlds.policies import describe_random_play
from .pretrained import (CONTROLLER_MODE, load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae,
                         shipped_card, shipped_dir)
from .shipped_files import PARTS, shipped_file

EVAL_SEED = 20_180_327                # shipped models are scored on episodes no training run used
SHIPPED_TAU = {"doom": 1.15}          # Doom's C is the one trained in the dream at this temperature
STORAGE = "fp16 state dicts, loaded with weights_only=True"


def evaluate_shipped(world: str, episodes: int = 100, workers: int = 2, backend: str = "processes",
                     root: Path | None = None, write: bool = True, max_steps: int | None = None) -> dict:
    """Score the shipped fp16 V+M+C in the real game over ``episodes``; recorded in the card."""
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
        write_card(shipped_dir(world, root), card)
    return res


def card_of(run: FinishedRun) -> dict:
    """What the card says of a finished run: its data, how C was made and the models' sizes (``write_card``
    adds the files' sha256)."""
    cfg, starts, how = run.cfg, run.starts, _how_c(run)
    policy = starts.policy or "random play: " + describe_random_play(cfg.world, cfg.collect.hold_max)
    if not starts.policy and run.round:
        policy += (f", then {run.round * cfg.iterate.episodes} real games of the dream-trained Cs "
                   "(iterative training)")
    card = dict(world=cfg.world, profile=cfg.profile, exported=time.strftime("%Y-%m-%d"),
                tau=SHIPPED_TAU.get(cfg.world),
                data=dict(episodes=starts.episodes, frames=starts.frames, policy=policy),
                controller=how, parameters=model_sizes(run.vae, run.mdnrnn, run.params), storage=STORAGE, scores={})
    if starts.policy:  # borrowed: V and M are the shipped ones (their data as the shipped card said), C is new
        card["borrowed"] = True
    if run.round is not None:  # dream-trained: the round, and how the real game feeds C (the score depends on it)
        card.update(round=run.round, real_z=cfg.dream.real_z)
    return card


def model_sizes(vae, mdnrnn, params) -> dict:
    """The number of parameters of V, M and C."""
    return dict(vae=sum(p.numel() for p in vae.parameters()), mdnrnn=mdnrnn.n_params, controller=int(len(params)))


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


def write_model_card(world: str, root: Path | None = None) -> Path:
    """Rewrite ``card.json`` and ``MODEL_CARD.md`` of the shipped folder from the card on disk."""
    return write_card(shipped_dir(world, root), shipped_card(world, root))


def write_card(out: Path, card: dict) -> Path:
    """``card.json`` (with the sha256 of V, M and C as they are in ``out``) and ``MODEL_CARD.md`` in ``out``."""
    text = card_text(card)
    card = dict(card, files={p: file_sha256(shipped_file(out, p)) for p in PARTS})
    write_json(Path(out) / "card.json", card)
    (Path(out) / "MODEL_CARD.md").write_text(text)
    return Path(out) / "MODEL_CARD.md"


def card_text(card: dict) -> str:
    """``MODEL_CARD.md``: the card in words, with the paper's score beside the measured one."""
    world = card["world"]
    p = card["parameters"]
    real = card["scores"].get("real")
    which, ref, solved = paper.FULL_AGENT[world]
    paper_line = f"paper ({which}): {ref[0]} +- {ref[1]}; {solved}"
    score = (f"{real['mean']:.1f} +- {real['std']:.1f} over {real['episodes']} episodes "
             f"(`{real['command']}`)" if real else "not measured yet: run `python -m wmlib evaluate-shipped "
             f"{world} --episodes 100`")
    rounds = f" --rounds {card['round']}" if card.get("round") else ""  # a round past round 0: the longer run
    pipeline = f"the {card['profile']} pipeline (`python -m wmlib reproduce {world}{rounds}`, or its stages one by one)"
    if card.get("borrowed"):  # C evolved again on V and M as shipped before
        pipeline = (f"V and M: {pipeline}, as shipped before; C: evolved again on those V and M "
                    f"(`python -m wmlib train-controller {world}`, settings below)")
    text = f"""# Shipped models: {world}

- **Trained by**: {pipeline}, exported with
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
    return text




__all__ = ["EVAL_SEED", "SHIPPED_TAU", "evaluate_shipped", "card_of", "card_text", "model_sizes", "write_card", "write_model_card"]
