"""The dream: a valid gymnasium env, batched == one at a time, the done rules, the cap, tau = 0, bad input."""
import warnings

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from wmlib.models.controller import Controller, param_count
from wmlib.agent.dream import DreamEnv, dream_rollouts, episode_keys, play_dream
from wmlib.models.mdnrnn import MDNRNN, sample_mixture

Z, H, CAP = 4, 16, 40
WORLDS = {"doom": (1, True), "carracing": (3, False)}  # action size, done head


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_m(world="doom", done_bias=None, done_scale=1.0, seed=0):
    """A random M of the world's shape; the done head can be pinned (bias, weight scale)."""
    torch.manual_seed(seed)
    action, done = WORLDS[world]
    m = MDNRNN(Z, action, H, done_head=done)
    if done and done_bias is not None:
        with torch.no_grad():
            m.done.weight.mul_(done_scale)
            m.done.bias.fill_(done_bias)
    return m.eval()


def first_codes(n=5, seed=0, logvar=-1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, Z)).astype(np.float32), np.full((n, Z), logvar, np.float32)


def population(world, P=3, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(size=(P, param_count(world, Z, H))) * scale


def one_at_a_time(m, world, params, mu, logvar, rollouts, tau, seed, **kw):
    env = DreamEnv(m, mu, logvar, tau=tau, max_steps=CAP, world=world, **kw)
    keys = episode_keys(seed, len(params), rollouts)
    return np.array([[play_dream(env, Controller(world, Z, H).set_flat(p), int(keys[i, r]))
                      for r in range(rollouts)] for i, p in enumerate(params)])


def test_dream_env_passes_gymnasiums_checker():
    env = DreamEnv(tiny_m(), *first_codes(), tau=1.0, max_steps=CAP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box and "no spec" are advice, not failures
        check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert obs.shape == (Z + 2 * H,) and obs.dtype == np.float32 and 0 <= info["first_index"] < 5
    obs2, reward, term, trunc, info = env.step(np.array([0.5], np.float32))
    assert reward == 1.0 and 0.0 <= info["done_prob"] <= 1.0 and env.observation_space.contains(obs2)
    assert env.reset(seed=3)[0].tolist() == obs.tolist()  # a key replays its episode


@pytest.mark.parametrize("world,rule", [("doom", "threshold"), ("doom", "sample"), ("carracing", "threshold")])
def test_batched_dreams_equal_one_at_a_time(world, rule):
    # A done head that crosses 0.5 now and then, so episodes end at many different steps.
    m = tiny_m(world, done_bias=-3.0, done_scale=40.0)
    mu, logvar = first_codes()
    params = population(world, P=3)
    want = one_at_a_time(m, world, params, mu, logvar, rollouts=4, tau=1.15, seed=7, done_rule=rule)
    if world == "doom":
        assert len(np.unique(want)) >= 3, f"test needs varied episode lengths, got {want}"
    else:
        assert (want == CAP).all()  # the car's M has no done head: only the cap ends a dream
    for compact, chunk in [(True, None), (True, 1), (True, 3), (False, 7), (False, None)]:
        got = dream_rollouts(m, world, params, mu, logvar, rollouts=4, tau=1.15, max_steps=CAP, seed=7,
                             done_rule=rule, compact=compact, chunk=chunk)
        assert got.shape == (3, 4)
        np.testing.assert_array_equal(got, want, err_msg=f"compact={compact} chunk={chunk}")


def test_seeds_and_temperature_change_the_dream():
    m, (mu, logvar) = tiny_m(done_bias=-3.0, done_scale=40.0), first_codes()
    params = population("doom", P=2)
    run = lambda seed, tau: dream_rollouts(m, "doom", params, mu, logvar, 8, tau, CAP, seed, done_rule="sample")
    np.testing.assert_array_equal(run(1, 1.0), run(1, 1.0))
    assert not np.array_equal(run(1, 1.0), run(2, 1.0))


def test_same_episodes_gives_every_candidate_candidate_zeros_dreams():
    """Common random numbers: each candidate dreams candidate 0's keys, so equal Cs score alike."""
    m, (mu, logvar) = tiny_m(done_bias=-3.0, done_scale=40.0), first_codes()
    params = population("doom", P=3)
    twice = np.concatenate([params[:1], params[:1], params[1:2]])
    run = lambda p, same: dream_rollouts(m, "doom", p, mu, logvar, 6, 1.15, CAP, seed=5, done_rule="sample",
                                         same_episodes=same)
    own, same = run(twice, False), run(twice, True)
    assert not np.array_equal(own[0], own[1])  # on their own keys the same C meets other dreams
    np.testing.assert_array_equal(same[0], same[1])
    np.testing.assert_array_equal(same[0], own[0])  # candidate 0's keys are its own
    alone = one_at_a_time(m, "doom", params[1:2], mu, logvar, 6, 1.15, 5, done_rule="sample")
    np.testing.assert_array_equal(same[2], alone[0])  # candidate 2 replays candidate 0's keys


def test_threshold_rule_is_a_threshold_and_sample_rule_draws():
    mu, logvar = first_codes()
    params = population("doom", P=1)
    # p = sigmoid(0) = 0.5 exactly on every step: never > 0.5, so "threshold" runs to the cap ...
    half = tiny_m(done_bias=0.0, done_scale=0.0)
    got = dream_rollouts(half, "doom", params, mu, logvar, 400, 1.0, CAP, seed=0, done_rule="threshold")
    assert (got == CAP).all()
    # ... while "sample" ends each step with probability 1/2: geometric lengths, mean 2.
    got = dream_rollouts(half, "doom", params, mu, logvar, 400, 1.0, CAP, seed=0, done_rule="sample")
    assert got.min() == 1 and 1.8 < got.mean() < 2.2 and got.max() < CAP
    # A certain death ends every dream on its first step; "never" ignores M's verdict.
    doomed = tiny_m(done_bias=20.0, done_scale=0.0)
    for rule in ("threshold", "sample"):
        assert (dream_rollouts(doomed, "doom", params, mu, logvar, 5, 1.0, CAP, 0, done_rule=rule) == 1).all()
    assert (dream_rollouts(doomed, "doom", params, mu, logvar, 5, 1.0, CAP, 0, done_rule="never") == CAP).all()
    env = DreamEnv(doomed, mu, logvar, max_steps=CAP, done_threshold=0.5)
    env.reset(seed=0)
    _, _, term, trunc, info = env.step([0.0])
    assert term and not trunc and info["done_prob"] > 0.99


def test_cap_truncates_at_max_steps():
    m, (mu, logvar) = tiny_m(done_bias=-20.0, done_scale=0.0), first_codes()
    got = dream_rollouts(m, "doom", population("doom", P=2), mu, logvar, 3, 1.0, 13, seed=0)
    assert (got == 13).all()
    env = DreamEnv(m, mu, logvar, max_steps=3)
    env.reset(seed=1)
    flags = [env.step([0.0])[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_zero_temperature_is_deterministic():
    m = tiny_m(done_bias=-20.0, done_scale=0.0)
    mu, logvar = first_codes(n=1, logvar=-100.0)  # one first frame with no spread: every dream starts alike
    env = DreamEnv(m, mu, logvar, tau=0.0, max_steps=CAP)
    trajectories = []
    for seed in (0, 1, 2):
        obs, _ = env.reset(seed=seed)
        steps = [obs]
        for _ in range(10):
            steps.append(env.step([0.3])[0])
        trajectories.append(np.stack(steps))
    np.testing.assert_array_equal(trajectories[0], trajectories[1])
    np.testing.assert_array_equal(trajectories[0], trajectories[2])
    # Each step's code is the most likely component's mean (the tau -> 0 limit of sample_mixture).
    obs, _ = env.reset(seed=5)
    z, state = torch.as_tensor(obs[:Z])[None], m.initial_state(1)
    with torch.no_grad():
        mix, _, _ = m.step(z, torch.tensor([[0.3]]), state, torch.ones(1))
    np.testing.assert_allclose(env.step([0.3])[0][:Z], sample_mixture(*mix, tau=0.0)[0].numpy(), atol=1e-5)
    # And the batched path agrees with itself across seeds at tau = 0.
    die = tiny_m(done_bias=-3.0, done_scale=40.0)
    runs = [dream_rollouts(die, "doom", population("doom", P=2), mu, logvar, 3, 0.0, CAP, seed=s)
            for s in (0, 9)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert (runs[0] == runs[0][:, :1]).all()  # every rollout of a candidate is the same episode


def test_bad_input_is_refused_with_a_fix():
    m, (mu, logvar) = tiny_m(), first_codes()
    params = population("doom", P=2)
    call = lambda **kw: dream_rollouts(**{**dict(mdnrnn=m, world="doom", params=params, first_mu=mu,
                                                 first_logvar=logvar, rollouts=2, tau=1.0, max_steps=5,
                                                 seed=0), **kw})
    with pytest.raises(ValueError, match="tau >= 0"):
        call(tau=-0.1)
    with pytest.raises(ValueError, match="max_steps >= 1"):
        call(max_steps=0)
    with pytest.raises(ValueError, match="rollouts >= 1"):
        call(rollouts=0)
    with pytest.raises(ValueError, match="population, n_params"):
        call(params=params[0])
    with pytest.raises(ValueError, match="controller reads"):
        call(params=params[:, :-3])
    with pytest.raises(ValueError, match="first_mu"):
        call(first_mu=mu[:, :2], first_logvar=logvar[:, :2])
    with pytest.raises(ValueError, match="done rule"):
        call(done_rule="maybe")
    with pytest.raises(ValueError, match="tau >= 0"):
        DreamEnv(m, mu, logvar, tau=-1)
    with pytest.raises(ValueError, match="vae=load_vae"):
        DreamEnv(m, mu, logvar, render_mode="rgb_array")
    env = DreamEnv(m, mu, logvar)
    with pytest.raises(RuntimeError, match="reset"):
        env.step([0.0])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="needs V"):
        env.decode()


def test_a_dream_tells_its_world_from_m_and_asks_when_it_cannot():
    from wmlib.agent.dream import world_of

    assert world_of(tiny_m("doom")) == "doom" and world_of(tiny_m("carracing")) == "carracing"
    odd = MDNRNN(Z, 2, H, done_head=False)  # no world has two actions
    with pytest.raises(ValueError, match="pass world="):
        DreamEnv(odd, *first_codes(), tau=1.0, max_steps=CAP)


# ----------------------------------------------------------------------------- dropout: each dream its own M

def test_dream_dropout_draws_one_mask_per_episode_from_its_key():
    from wmlib.agent.dream import _words_tensor, episode_masks

    keys = episode_keys(3, 4, 50).reshape(-1)
    masks = episode_masks(_words_tensor(keys, "cpu"), 256, 0.1)
    assert masks.shape == (200, 256)
    assert torch.unique(masks).tolist() == pytest.approx([0.0, 1 / 0.9])  # inverted dropout's scale
    assert abs(float((masks == 0).float().mean()) - 0.1) < 0.01  # 51,200 draws: the share asked for
    assert not torch.equal(masks[0], masks[1])  # every episode its own M
    again = episode_masks(_words_tensor(keys[:2], "cpu"), 256, 0.1)
    assert torch.equal(again, masks[:2])  # and the same key, the same M
    assert episode_masks(_words_tensor(keys, "cpu"), 256, 0.0) is None


@pytest.mark.parametrize("world", ["doom", "carracing"])
def test_batched_dreams_with_dropout_equal_one_at_a_time(world):
    """The batched path and DreamEnv draw the same mask for a key, so they dream the same episode."""
    m = tiny_m(world, done_bias=-3.0, done_scale=40.0)
    if world == "carracing":  # the car dreams only with a reward head: its prediction reads the masked output
        m = MDNRNN(Z, 3, H, reward_head=True).eval()
    mu, logvar = first_codes()
    params = population(world, P=3)
    want = one_at_a_time(m, world, params, mu, logvar, rollouts=4, tau=1.15, seed=7, done_rule="sample",
                         dropout=0.3)
    for compact, chunk in [(True, None), (True, 1), (False, 7)]:
        got = dream_rollouts(m, world, params, mu, logvar, rollouts=4, tau=1.15, max_steps=CAP, seed=7,
                             done_rule="sample", compact=compact, chunk=chunk, dropout=0.3)
        np.testing.assert_allclose(got, want, rtol=1e-4, err_msg=f"compact={compact} chunk={chunk}")
    plain = dream_rollouts(m, world, params, mu, logvar, rollouts=4, tau=1.15, max_steps=CAP, seed=7,
                           done_rule="sample")
    assert not np.allclose(plain, want)  # the masks change the dreams


def test_dream_dropout_changes_what_the_heads_read_not_the_state():
    from wmlib.agent.dream import dream_step

    m = tiny_m()
    z, a, restart = torch.randn(2, Z), torch.zeros(2, 1), torch.ones(2)
    mask = torch.tensor([[0.0] * H, [2.0] * H])
    _, _, (h0, c0) = dream_step(m, z, a, m.initial_state(2), restart)
    mix, done, (h, c) = dream_step(m, z, a, m.initial_state(2), restart, mask)
    torch.testing.assert_close(h, h0, atol=1e-6, rtol=1e-5)  # M's state goes on unmasked
    torch.testing.assert_close(c, c0, atol=1e-6, rtol=1e-5)
    want = m.heads(torch.stack([torch.zeros(H), 2 * h0[0, 1]]))  # the heads read the masked output
    torch.testing.assert_close(mix.mu, want[0].mu)
    torch.testing.assert_close(done, want[1])


def test_bad_dream_dropout_is_refused_with_a_fix():
    m, (mu, logvar) = tiny_m(), first_codes()
    with pytest.raises(ValueError, match="dream.dropout=0.1"):
        dream_rollouts(m, "doom", population("doom", P=1), mu, logvar, 2, 1.0, 5, 0, dropout=1.0)
    with pytest.raises(ValueError, match="dream.dropout=0.1"):
        DreamEnv(m, mu, logvar, dropout=-0.1)
