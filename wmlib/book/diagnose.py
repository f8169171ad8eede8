"""What does the dream-trained C actually do? Its actions and M's death belief, in the dream and in reality.

    python -m wmlib diagnose-dream doom --tau 1.15 --episodes 5

A controller that exploits M shows up here: in the dream it survives to the cap
while M's death probability stays near zero; in the real game the same actions
end early. The share of left / stay / right (the Doom wrapper's thresholds at
+-1/3) says which behaviour it found.
"""
from __future__ import annotations

import numpy as np
import torch

from ..models.mdnrnn import action_shares


WALL_MARGIN = 60.0   # map units: "at a wall" (the agent strafes ~6 units a step at full speed)
DEATH_WINDOW = 5     # M's death belief is read over the last steps before a real death


def wall_distance(y: np.ndarray) -> np.ndarray:
    """Distance (map units) from the agent to the nearer side wall of Take Cover's room."""
    from ..worlds.envs import DOOM_ROOM_Y

    return np.minimum(y - DOOM_ROOM_Y[0], DOOM_ROOM_Y[1] - y)


@torch.no_grad()
def dream_behaviour(cfg, tau: float, episodes: int = 5, seed: int = 0) -> list[dict]:
    """One row per dream episode: steps, action shares, M's largest and mean death probability."""
    from ..training.dream import Dreamer, dream_controller

    ctrl = dream_controller(cfg, tau)
    env = Dreamer(cfg, tau).env()
    rows = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        actions, probs = [], []
        while True:
            z, c, h = (torch.as_tensor(x)[None] for x in env.split_obs(obs))
            a = np.asarray(ctrl.act(z, h, c), np.float32).reshape(-1)
            obs, _, terminated, truncated, info = env.step(a)
            actions.append(a[0])
            probs.append(info["done_prob"])
            if terminated or truncated:
                break
        rows.append(dict(steps=len(actions), **action_shares(actions), max_p=float(np.max(probs)),
                         mean_p=float(np.mean(probs))))
    return rows


def real_behaviour(cfg, tau: float, episodes: int = 5, seed: int = 1000) -> list[dict]:
    """One row per real game: steps survived, action shares, M's death belief along the way.

    The games are played by the rollouts' own agent loop (``EpisodeRunner``, traced): the
    same V -> C -> M step, codes and seeds as the real-game scores.
    """
    from ..agent.episode import EpisodeRunner, episode_seed
    from ..training.dream import dream_params, real_spec

    params = np.asarray(dream_params(cfg, tau))
    with EpisodeRunner(real_spec(cfg)) as runner:
        out = runner.run(np.repeat(params[None], episodes, 0),
                         [episode_seed(seed, 0, ep) for ep in range(episodes)], trace=True)
    rows = []
    for steps, t in zip(out["lengths"], out["traces"]):
        died = t["terminated"]  # killed, not stopped at the cap
        probs = t["done_prob"]
        near = wall_distance(t["y"]) < WALL_MARGIN
        rows.append(dict(steps=int(steps), **action_shares(t["actions"][:, 0]), max_p=float(np.max(probs)),
                         mean_p=float(np.mean(probs)), wall=float(near.mean()),
                         died_at_wall=bool(died and near[-1]),
                         p_before_death=float(max(probs[-DEATH_WINDOW:])) if died else float("nan")))
    return rows


def format_rows(title: str, rows: list[dict]) -> str:
    """One line per episode; real games add the share of steps at a wall, whether the agent died
    there, and M's highest death belief over the last steps before the death."""
    real = any("wall" in r for r in rows)
    extra = f" {'at wall':>8} {'died there':>10} {'M p before death':>17}" if real else ""
    lines = [title, f"{'episode':>8} {'steps':>6} {'left':>6} {'stay':>6} {'right':>6} {'max p(death)':>13} "
                    f"{'mean p':>8}" + extra]
    for i, r in enumerate(rows):
        line = (f"{i:>8} {r['steps']:>6} {r['left']:>6.2f} {r['stay']:>6.2f} {r['right']:>6.2f} "
                f"{r['max_p']:>13.3f} {r['mean_p']:>8.4f}")
        if real:
            line += f" {r['wall']:>8.2f} {str(r['died_at_wall']):>10} {r['p_before_death']:>17.3f}"
        lines.append(line)
    return "\n".join(lines)


__all__ = ["dream_behaviour", "real_behaviour", "format_rows", "action_shares", "wall_distance"]
