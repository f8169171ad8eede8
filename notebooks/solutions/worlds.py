"""Notebook 00, exercises 1 and 2: the Doom random baseline at another skill, or with held actions."""
from __future__ import annotations

import numpy as np


def random_survival(skill: int = 4, hold=(1, 1), episodes: int = 20, seed: int = 0, max_steps: int = 2100):
    """Steps survived by a random policy that holds a uniform action in [-1, 1] for ``hold`` steps
    (a range, inclusive; (1, 1) is a fresh action every step, as in the paper's baseline) -> int array."""
    from wmlib.worlds.envs import DoomTakeCoverEnv

    rng = np.random.default_rng(seed)
    lengths = []
    with DoomTakeCoverEnv(skill=skill, max_steps=max_steps) as env:
        for e in range(episodes):
            env.reset(seed=seed + e)
            steps, left, action = 0, 0, 0.0
            while True:
                if left == 0:
                    action, left = rng.uniform(-1, 1), int(rng.integers(hold[0], hold[1] + 1))
                _, _, terminated, truncated, _ = env.step(np.array([action], np.float32))
                steps, left = steps + 1, left - 1
                if terminated or truncated:
                    break
            lengths.append(steps)
    return np.array(lengths)
