"""The worlds and the dream through gymnasium.make, closed by whoever made them."""
import gymnasium
import numpy as np
import torch

import wmlib  # noqa: F401  (registers the envs)
from wmlib.models import MDNRNN


def test_the_real_worlds_are_registered():
    with gymnasium.make("wmlib/DoomTakeCover-v0", max_steps=5) as env:
        obs, _ = env.reset(seed=1)
        assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
        obs, reward, *_ = env.step(np.zeros(1, np.float32))
        assert reward == 1.0
    with gymnasium.make("wmlib/CarRacing64-v0", max_steps=5) as env:
        obs, _ = env.reset(seed=1)
        assert obs.shape == (64, 64, 3)
        env.step(np.array([0.0, 0.5, 0.0], np.float32))


def test_a_dream_of_given_models():
    torch.manual_seed(0)
    m = MDNRNN(8, 1, 16, done_head=True)
    first = np.zeros((3, 8), np.float32)
    with gymnasium.make("wmlib/Dream-v0", mdnrnn=m, first_mu=first, first_logvar=first, tau=1.0, max_steps=4) as env:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (8 + 2 * 16,)
        steps = 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
            steps += 1
            if terminated or truncated:
                break
        assert 1 <= steps <= 4
