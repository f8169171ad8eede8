"""agent/loop.py is the reference: the batched runners must play its games, action for action.

Real game: Doom with the shipped V, M and C, a few hundred steps, the episode runner stepping
three games in two lockstep slots. Dream: the shipped M, every dream of a small population at
once (``dream_rollouts``) against the plain loop, one dream at a time. The batched dream draws its
noise from a counter-based stream (a hash of episode key, step and lane), so the plain loop is
handed that same stream (``shared_noise``); at tau = 0 with the threshold rule a dream has no
randomness after its start, and the loop's own generator gives the same dreams.
"""
import numpy as np
import pytest
import torch

from wmlib.agent.dream import (DreamEnv, bits_to_uniform, dream_rollouts, episode_keys, episode_words,
                               noise_bits)
from wmlib.agent.episode import EpisodeRunner, agent_spec
from wmlib.agent.loop import dream_episode, real_episode
from wmlib.book.pretrained import load_shipped_controller_params, shipped_card, world_model_for
from wmlib.config import get_config
from wmlib.models.controller import Controller
from wmlib.worlds.envs import make_env

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CAP = 300


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped Doom agent (an empty artifacts folder: nothing of the reader's own is found)."""
    cfg = get_config("doom", "ci", artifacts=tmp_path_factory.mktemp("none"))
    agent = world_model_for(cfg)
    assert agent["source"].startswith("the shipped")
    best = load_shipped_controller_params("doom")
    # the shipped C, and a worse one that dies sooner (the runner then reuses its slot)
    agent["params"] = np.stack([best, best + np.random.default_rng(0).normal(size=best.shape) * 0.5])
    agent["cfg"] = cfg
    return agent


def controller(agent, row):
    m = agent["mdnrnn"]
    return Controller("doom", m.z_size, m.hidden).set_flat(agent["params"][row])


@pytest.mark.parametrize("real_z", ["sample", "mean"])
def test_the_episode_runner_plays_the_plain_real_loop(shipped, real_z):
    """Three games on two lockstep slots: the same actions, returns and lengths as the plain loop."""
    assert shipped_card("doom")["real_z"] == "sample"  # how the shipped C is scored
    seeds, rows = [7, 8, 9], [0, 1, 0]
    spec = agent_spec("doom", "zh", shipped["vae"], shipped["mdnrnn"], CAP, lockstep=2, real_z=real_z)
    with EpisodeRunner(spec) as runner:
        got = runner.run(shipped["params"][rows], seeds, trace=True)
    with make_env("doom", max_steps=CAP) as env:
        for i, (seed, row) in enumerate(zip(seeds, rows)):
            ref = real_episode(env, shipped["vae"], shipped["mdnrnn"], controller(shipped, row), seed, real_z)
            assert got["lengths"][i] == ref["steps"]
            assert got["returns"][i] == pytest.approx(ref["ret"], abs=1e-6)
            np.testing.assert_allclose(got["traces"][i]["actions"], ref["actions"], atol=1e-4)
    assert got["lengths"].min() < CAP  # a game ended early, so a slot started the next one


def shared_noise(key: int, z_size: int):
    """The batched dream's noise of episode ``key``, as ``dream_episode`` takes it: t -> uniforms [2 z + 1]."""
    words = torch.tensor([episode_words(key)], dtype=torch.int64)
    return lambda t: bits_to_uniform(noise_bits(words, torch.tensor([t]), 2 * z_size + 1))[0, 0]


@pytest.mark.parametrize("tau, rule, noise", [(1.15, "sample", "shared"), (0.0, "threshold", "own")])
def test_the_batched_dream_lives_the_plain_dream_loop(shipped, tau, rule, noise):
    m, cfg = shipped["mdnrnn"], shipped["cfg"]
    pos_weight = cfg.mdnrnn.done_pos_weight
    P, R, seed = 2, 2, 5
    batched = dream_rollouts(m, "doom", shipped["params"], shipped["first_mu"], shipped["first_logvar"], R, tau,
                             CAP, seed, done_rule=rule, done_pos_weight=pos_weight)
    env = DreamEnv(m, shipped["first_mu"], shipped["first_logvar"], tau, CAP, done_rule=rule,
                   done_pos_weight=pos_weight)
    keys = episode_keys(seed, P, R)
    for p in range(P):
        for r in range(R):
            key = int(keys[p, r])
            obs, _ = env.reset(seed=key)  # the library's start: a recorded first code, sampled by key
            z0 = torch.from_numpy(env.split_obs(obs)[0])[None]
            ref = dream_episode(m, controller(shipped, p), z0, tau, CAP, rule, done_pos_weight=pos_weight,
                                noise=shared_noise(key, m.z_size) if noise == "shared" else None, seed=key)
            assert batched[p, r] == ref["ret"] == ref["steps"], (p, r)
            if p == 0 and r == 0:  # the single-episode env too, action for action
                actions, done = [], False
                while not done:
                    z, c, h = env.split_obs(obs)
                    actions.append(controller(shipped, 0).act(z, h, c))
                    obs, _, terminated, truncated, _ = env.step(actions[-1])
                    done = terminated or truncated
                np.testing.assert_allclose(np.stack(actions), ref["actions"], atol=1e-4)
    assert batched.min() < CAP  # some dream ended by M's death, not only by the cap
