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


def test_the_named_dream_opens_the_shipped_models_with_the_profiles_settings(artifacts):
    from wmlib.config import get_config

    cfg = get_config("doom", "laptop")
    with gymnasium.make("wmlib/Dream-v0", world="doom", profile="laptop", max_steps=3) as env:
        dream = env.unwrapped
        assert dream.done_rule == cfg.dream.done_rule == "sample"  # not DreamEnv's threshold default
        assert dream.tau == cfg.dream.tau and dream.done_pos_weight == cfg.mdnrnn.done_pos_weight
        obs, _ = env.reset(seed=0)
        assert obs.shape == (64 + 2 * 512,)  # the shipped Doom M: z 64, LSTM 512
    with gymnasium.make("wmlib/Dream-v0", world="doom", profile="laptop", tau=1.3) as env:
        assert env.unwrapped.tau == 1.3
    import pytest

    with pytest.raises(ValueError, match='world="doom"'):
        gymnasium.make("wmlib/Dream-v0")


def test_an_off_the_shelf_agent_trains_on_every_registered_id(artifacts):
    """Stable-Baselines3's PPO (a test-only dependency) runs a few hundred steps on each env as registered."""
    import warnings

    from stable_baselines3 import PPO

    made = {"wmlib/DoomTakeCover-v0": dict(max_steps=64), "wmlib/CarRacing64-v0": dict(max_steps=64),
            "wmlib/Dream-v0": dict(world="doom", profile="laptop", max_steps=64)}
    assert set(made) == set(wmlib.registry.ENVS)
    for env_id, kwargs in made.items():
        with gymnasium.make(env_id, **kwargs) as env:
            obs, _ = env.reset(seed=0)
            assert obs.flags.writeable, env_id  # SB3 warns on (and may write to) read-only observations
            policy = "CnnPolicy" if obs.ndim == 3 else "MlpPolicy"
            with warnings.catch_warnings():
                warnings.simplefilter("error", UserWarning)  # no "read-only" or space warnings
                agent = PPO(policy, env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu", verbose=0)
                agent.learn(total_timesteps=128)
            assert agent.num_timesteps >= 128
