"""The Doom transfer levers: discrete actions for M, un-weighted sampled deaths, sampled real z,
exploration and kept episodes in real rollouts, long random holds, joined series."""
import math

import numpy as np
import pytest
import torch

from wmlib.agent.dream import done_now, dream_rollouts
from wmlib.agent.rollout import EpisodeRunner, RolloutPool, agent_spec
from wmlib.models.controller import param_count
from wmlib.models.mdnrnn import MDNRNN, doom_action_levels
from wmlib.models.vae import ConvVAE
from wmlib.worlds.envs import doom_action_to_buttons
from wmlib.worlds.policies import DoomRandomPolicy

Z, H = 8, 16
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_action_levels_are_what_the_game_plays():
    a = torch.tensor([-1.0, -0.5, -0.34, -0.2, 0.0, 0.3, 0.34, 0.9])
    levels = doom_action_levels(a)
    buttons = {(1, 0): -1.0, (0, 0): 0.0, (0, 1): 1.0}
    assert levels.tolist() == [buttons[tuple(doom_action_to_buttons(x))] for x in a.tolist()]


def test_a_discrete_m_cannot_tell_two_actions_the_game_plays_alike():
    torch.manual_seed(0)
    m = MDNRNN(Z, 1, H, done_head=True, discrete_actions=True).eval()
    z = torch.randn(3, Z)
    out = lambda a: m.step(z, torch.full((3, 1), a), None, torch.ones(3))
    (mix1, d1, _), (mix2, d2, _), (mix3, d3, _) = out(-1.0), out(-0.4), out(0.0)
    assert torch.equal(mix1.mu, mix2.mu) and torch.equal(d1, d2)
    assert not torch.equal(mix1.mu, mix3.mu)  # stay is another action
    assert MDNRNN(**m.arch()).discrete_actions
    assert "discrete_actions" not in MDNRNN(Z, 1, H, done_head=True).arch()  # old checkpoints still match
    with pytest.raises(ValueError, match="discrete_actions"):
        MDNRNN(Z, 3, H, discrete_actions=True)


def test_sampled_deaths_undo_the_heads_positive_weight():
    # A head trained with positives weighted 10 that says p_w = 10/11 means a true chance of 1/2.
    logit = torch.full((200_000,), math.log(10.0))
    u = torch.rand(200_000, generator=torch.Generator().manual_seed(0))
    assert done_now(logit, u, "sample", 0.5, pos_weight=10.0).float().mean() == pytest.approx(0.5, abs=0.01)
    assert done_now(logit, u, "sample", 0.5).float().mean() == pytest.approx(10 / 11, abs=0.01)
    assert done_now(logit, u, "threshold", 0.5, pos_weight=10.0).all()  # the threshold rule is unchanged


def test_un_weighted_dreams_live_longer():
    torch.manual_seed(0)
    m = MDNRNN(4, 1, H, done_head=True).eval()
    with torch.no_grad():
        m.done.weight.zero_()
        m.done.bias.fill_(math.log(10 * 0.05 / 0.95))  # weighted odds of a 5% hazard
    params = np.zeros((1, param_count("doom", 4, H)))
    mu, logvar = np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32)
    run = lambda w: dream_rollouts(m, "doom", params, mu, logvar, 400, 1.0, 2000, seed=1, done_rule="sample",
                                   done_pos_weight=w).mean()
    assert run(10.0) == pytest.approx(1 / 0.05, rel=0.15)          # mean life of a 5% hazard
    assert run(1.0) == pytest.approx(1 / (10 * 0.05 / 1.45), rel=0.15)  # the weighted head: ~7x shorter
    with pytest.raises(ValueError, match="done_pos_weight"):
        dream_rollouts(m, "doom", params, mu, logvar, 2, 1.0, 10, seed=1, done_pos_weight=0.0)


def tiny_doom_spec(real_z="mean", max_steps=12):
    torch.manual_seed(0)
    vae, m = ConvVAE(Z), MDNRNN(Z, 1, H, done_head=True)
    return agent_spec("doom", "zh", vae, m, max_steps, lockstep=2, real_z=real_z)


def test_sampled_real_codes_repeat_per_episode_and_differ_from_the_mean():
    params = np.random.default_rng(0).normal(size=(3, param_count("doom", Z, H))) * 3
    seeds = [5, 6, 7]
    a = EpisodeRunner(tiny_doom_spec("sample")).run(params, seeds, keep=True)
    b = EpisodeRunner(tiny_doom_spec("sample")).run(params[::-1], seeds[::-1], keep=True)  # other slots
    c = EpisodeRunner(tiny_doom_spec("mean")).run(params, seeds, keep=True)
    for i in range(3):
        assert np.allclose(a["episodes"][i]["actions"], b["episodes"][2 - i]["actions"], atol=1e-4)  # batch rounding
    assert any(not np.allclose(a["episodes"][i]["actions"], c["episodes"][i]["actions"], atol=1e-2) for i in range(3))
    with pytest.raises(ValueError, match="real_z"):
        tiny_doom_spec("median")


def test_kept_episodes_are_recorded_like_random_play_and_exploration_takes_over():
    params = np.zeros((1, param_count("doom", Z, H)))  # C always says 0: "stay"
    with RolloutPool(tiny_doom_spec(max_steps=30), "serial", 1) as pool:
        calm = pool.run(params, 2, seed=3, keep=True)
        wild = pool.run(params, 2, seed=3, explore=1.0, keep=True)
    for out in (calm, wild):
        assert len(out["episodes"]) == 2
        for ep, n in zip(out["episodes"], out["lengths"][0]):
            assert ep["frames"].shape == (n, 64, 64, 3) and ep["frames"].dtype == np.uint8
            assert ep["actions"].shape == (n, 1) and ep["rewards"].shape == ep["dones"].shape == (n,)
            assert ep["dones"][:-1].sum() == 0
    assert all((ep["actions"] == 0).all() for ep in calm["episodes"])
    actions = np.concatenate([ep["actions"] for ep in wild["episodes"]])
    assert (np.abs(actions) > 0).mean() > 0.9  # uniform random holds replaced C's "stay"


def test_long_holds_reach_past_ten_steps():
    def runs(hold_max):
        pol = DoomRandomPolicy(np.random.default_rng(0), hold_max)
        acts = np.array([pol()[0] for _ in range(4000)])
        change = np.flatnonzero(np.diff(acts) != 0)
        return np.diff(np.concatenate([[-1], change, [len(acts) - 1]]))
    assert runs(10).max() <= 10
    longest = runs(40)
    assert 10 < longest.max() <= 40
    with pytest.raises(ValueError, match="hold_max"):
        DoomRandomPolicy(np.random.default_rng(0), 0)


def test_the_doom_env_reports_where_the_agent_stands():
    from wmlib.book.diagnose import WALL_MARGIN, wall_distance
    from wmlib.worlds.envs import make_env

    with make_env("doom", max_steps=100) as env:
        env.reset(seed=0)
        ys = [env.step(np.array([-1.0]))[4]["y"] for _ in range(80)]  # hold left: ~63 steps to the wall
    assert wall_distance(np.array(ys[:1]))[0] > 300  # it starts mid-room
    assert wall_distance(np.array(ys[-1:]))[0] < WALL_MARGIN
