"""Random-policy baselines in the real worlds (the paper's 210 +- 108 for Doom).

The baseline is a fresh uniform action every step; at skill 4 this survives
about 211 +- 101 steps in Take Cover (measured over 200 episodes).
"""
from __future__ import annotations

import multiprocessing as mp

import numpy as np

from ..config import check_world
from .data import collection_seed, play_episode
from .envs import DOOM_SKILL, make_env
from .policies import UniformRandomPolicy


def _run(args) -> tuple[float, int]:
    world, seed, max_steps, skill = args
    policy = UniformRandomPolicy(world, np.random.default_rng(seed))
    # The random policy never reads a pixel, so CarRacing's returns are the same on either
    # renderer (physics and rewards are gymnasium's own): draw the frames the cheap way.
    with make_env(world, max_steps=max_steps, skill=skill, renderer="fast") as env:
        out = play_episode(env, policy, seed, keep=False)
    return out["ret"], out["length"]


def random_baseline(world: str, episodes: int = 100, seed: int = 12345, workers: int = 2,
                    max_steps: int | None = None, skill: int = DOOM_SKILL) -> dict:
    """Returns and lengths of ``episodes`` random-policy episodes (seeds distinct from the data's)."""
    world = check_world(world)
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1 (got {episodes})")
    tasks = [(world, collection_seed(seed, i), max_steps, skill) for i in range(episodes)]
    if workers <= 1:
        results = [_run(t) for t in tasks]
    else:
        with mp.get_context("spawn").Pool(workers) as pool:
            results = pool.map(_run, tasks)
    returns = np.array([r[0] for r in results])
    lengths = np.array([r[1] for r in results])
    return dict(returns=returns, lengths=lengths)


__all__ = ["random_baseline"]
