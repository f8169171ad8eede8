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


WALL_MARGIN = 60.0   # map units: "at a wall" (the agent strafes ~6 units a step at full speed)
DEATH_WINDOW = 5     # M's death belief is read over the last steps before a real death


def wall_distance(y: np.ndarray) -> np.ndarray:
    """Distance (map units) from the agent to the nearer side wall of Take Cover's room."""
    from ..worlds.envs import DOOM_ROOM_Y

    return np.minimum(y - DOOM_ROOM_Y[0], DOOM_ROOM_Y[1] - y)


def action_shares(actions) -> dict:
    """The share of left / stay / right among Doom actions, as the game plays them."""
    from ..models.mdnrnn import doom_action_levels

    levels = doom_action_levels(torch.as_tensor(np.asarray(actions, np.float32).reshape(-1))).numpy()
    return dict(left=float(np.mean(levels < 0)), stay=float(np.mean(levels == 0)), right=float(np.mean(levels > 0)))


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


@torch.no_grad()
def real_behaviour(cfg, tau: float, episodes: int = 5, seed: int = 1000) -> list[dict]:
    """One row per real game: steps survived, action shares, M's death belief along the way."""
    from ..worlds.envs import make_env
    from ..training.dream import dream_controller
    from ..training.mdnrnn import load_mdnrnn
    from ..training.vae import load_vae
    from ..models.vae import frames_to_tensor

    vae, m, ctrl = load_vae(cfg), load_mdnrnn(cfg), dream_controller(cfg, tau)
    env = make_env(cfg.world, max_steps=cfg.dream.max_steps)
    gen = torch.Generator().manual_seed(seed)
    rows = []
    try:
        for ep in range(episodes):
            obs, _ = env.reset(seed=seed + ep)
            state, actions, probs, ys = m.initial_state(1), [], [], []
            while True:
                mu, logvar = vae.encode(frames_to_tensor(obs[None]))
                z = mu if cfg.dream.real_z == "mean" else vae.sample(mu, logvar, gen)  # as the rollouts feed C
                h, c = state
                a = np.asarray(ctrl.act(z, h[0], c[0]), np.float32).reshape(1)
                restart = torch.tensor([1.0 if not actions else 0.0])
                _, done_logit, state = m.step(z, torch.as_tensor(a)[None], state, restart)
                obs, _, terminated, truncated, info = env.step(a)
                actions.append(a[0])
                probs.append(float(torch.sigmoid(done_logit)[0]))
                ys.append(info.get("y", np.nan))
                if terminated or truncated:
                    break
            near = wall_distance(np.asarray(ys)) < WALL_MARGIN
            rows.append(dict(steps=len(actions), **action_shares(actions), max_p=float(np.max(probs)),
                             mean_p=float(np.mean(probs)), wall=float(near.mean()),
                             died_at_wall=bool(terminated and near[-1]),
                             p_before_death=float(max(probs[-DEATH_WINDOW:])) if terminated else float("nan")))
    finally:
        env.close()
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
