"""The agent's two loops, written plainly: start reading the library here.

One episode in the real game::

    frame -> V -> z                    the code of what the agent sees
    [z, h] (car) or [z, c, h] (Doom) -> C -> action
    the game takes the action          -> the next frame, a reward
    M reads (z, action)                -> its next memory (h, c)

One episode in M's dream: the same loop with the game unplugged. M's mixture,
sampled at temperature tau, gives the next z, and M's done head says when the
agent died. Doom's dream pays +1 per step survived; an M with a reward head (the
car's) pays the reward it predicts for each step.

These are one episode, one environment, one step at a time. The library plays
whole populations at once with the same maths: ``agent.episode.EpisodeRunner``
(real games, several in lockstep, on a pool of workers in ``agent.pool``) and
``agent.dream.dream_rollouts`` (every dream of a generation as one tensor
program). ``tests/test_loop.py`` holds the batched runners to these loops.
"""
from __future__ import annotations

import numpy as np
import torch

from ..models.vae import frames_to_tensor
from .dream import done_now, sample_from_noise
from .episode import episode_rng


@torch.no_grad()
def real_episode(env, vae, mdnrnn, controller, seed: int, real_z: str = "mean") -> dict:
    """Play one real game: returns dict(ret, steps, actions [T, A]).

    ``real_z``: C and M read V's "mean" code, or a "sample" mu + sigma * eps (what the
    original code did). The noise comes from the episode's own stream (``episode_rng``),
    so this game is the one the library's runner plays on the same seed.
    """
    rng = episode_rng(seed)
    frame, _ = env.reset(seed=seed)
    h, c = mdnrnn.initial_state(1)                                 # M's memory starts empty
    ret, actions = 0.0, []
    while True:
        mu, logvar = vae.encode(frames_to_tensor(frame))           # V
        z = mu
        if real_z == "sample":
            eps = torch.from_numpy(rng.standard_normal(mu.shape[1]).astype(np.float32))
            z = mu + torch.exp(0.5 * logvar) * eps
        a = controller.act(z, h[0], c[0])                           # C reads [z, h] or [z, c, h]
        frame, reward, terminated, truncated, _ = env.step(a[0].numpy())   # the game
        # M's memory moves on; Doom's M also reads "this is the first step" (restart).
        restart = torch.tensor([float(not actions)]) if mdnrnn.has_done else None
        _, _, (h, c) = mdnrnn.step(z, a, (h, c), restart)          # M
        ret += reward
        actions.append(a[0].numpy())
        if terminated or truncated:
            return dict(ret=ret, steps=len(actions), actions=np.stack(actions))


@torch.no_grad()
def dream_episode(mdnrnn, controller, z0, tau: float, max_steps: int, done_rule: str = "threshold",
                  done_threshold: float = 0.5, done_pos_weight: float = 1.0, seed: int = 0, noise=None) -> dict:
    """Live one dream from the code ``z0`` [1, z]: returns dict(ret, steps, actions [T, A], rewards [T]).

    The reward is +1 per step survived, so ``ret == steps``; with a reward head, M's predicted
    reward of each step, read from the LSTM output h it just made. ``noise(t)`` -> uniforms
    [2 z + 1] for step t (which mixture component, the Gaussian noise, and a death draw);
    None: a torch generator seeded with ``seed``. ``done_rule`` as in ``agent.dream``.
    """
    if noise is None:
        gen = torch.Generator().manual_seed(seed)
        noise = lambda t: torch.rand(2 * mdnrnn.z_size + 1, generator=gen)
    n = mdnrnn.z_size
    z = torch.as_tensor(z0, dtype=torch.float32).reshape(1, n)
    h, c = mdnrnn.initial_state(1)
    actions, rewards = [], []
    for t in range(max_steps):
        a = controller.act(z, h[0], c[0])                           # C
        restart = torch.tensor([float(t == 0)])
        mix, done_logit, (h, c) = mdnrnn.step(z, a, (h, c), restart)   # M is the world now
        u = noise(t + 1)[None]
        z = sample_from_noise(*mix, tau, u[:, :n], u[:, n:2 * n])  # M's next code, at temperature tau
        actions.append(a[0].numpy())
        rewards.append(float(mdnrnn.predict_reward(h[0])[0]) if mdnrnn.has_reward else 1.0)  # what M pays
        if done_now(done_logit, u[:, 2 * n], done_rule, done_threshold, done_pos_weight)[0]:
            break                                                   # M says the agent died
    return dict(ret=float(sum(rewards)), steps=len(actions), actions=np.stack(actions),
                rewards=np.asarray(rewards))


__all__ = ["real_episode", "dream_episode"]
