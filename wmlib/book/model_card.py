"""The shipped models scored in the real game, and their card.

    python -m wmlib evaluate-shipped doom --episodes 100   # score the shipped fp16 models, update the card

``evaluate_shipped`` plays the shipped fp16 V + M + C on episodes no training run
used and records the score in ``card.json``; ``write_model_card`` turns the card
into ``MODEL_CARD.md`` beside the models, with the paper's score for comparison.
"""
from __future__ import annotations

from pathlib import Path

from .. import paper
from ..agent.episode import agent_spec
from ..agent.pool import RolloutPool
from ..artifacts import write_json
from ..config import check_world, world_info
from .pretrained import (CONTROLLER_MODE, load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae,
                         shipped_card, shipped_dir)

EVAL_SEED = 20_180_327                # shipped models are scored on episodes no training run used


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
        write_json(shipped_dir(world, root) / "card.json", card)
        write_model_card(world, root)
    return res


def write_model_card(world: str, root: Path | None = None) -> Path:
    card = shipped_card(world, root)
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
    path = shipped_dir(world, root) / "MODEL_CARD.md"
    path.write_text(text)
    return path


__all__ = ["EVAL_SEED", "evaluate_shipped", "write_model_card"]
