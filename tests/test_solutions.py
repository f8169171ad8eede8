"""The exercises' model answers in code (the instructor's notebooks, nbgrader solution cells of the exercises)
run and give the answers the hints promise. The student's version of each notebook has a stub in their place."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from wmlib.book.course import load_answer

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def answers(notebook, *grade_ids):
    """The names the model-answer cells ``grade_ids`` of ``notebooks/<notebook>.ipynb`` define."""
    found = {}
    for gid in grade_ids:
        found.update(load_answer(NOTEBOOKS / f"{notebook}.ipynb", gid))
    return SimpleNamespace(**found)


worlds = answers("00_worlds", "00-ex1-code")
vision = answers("01_vision", "01-ex2-code", "01-ex3-code")
memory = answers("02_memory", "02-ex2-code", "02-ex4-code")
controller = answers("03_controller", "03-ex1-code", "03-ex2-code", "03-ex7-code")
dream = answers("04_dream", "04-ex1-code", "04-ex2-code", "04-ex4-code")
temperature = answers("05_temperature", "05-ex3-code", "05-ex5-code")
iterative = answers("06_iterative", "06-ex1-code", "06-ex4-code")
beyond = answers("08_beyond_the_paper", "08-ex1-code", "08-ex2-code")


def test_worlds_random_survival_holds_actions():
    fresh = worlds.random_survival(skill=4, hold=(1, 1), episodes=2, max_steps=300)
    held = worlds.random_survival(skill=4, hold=(10, 10), episodes=2, max_steps=300)
    assert fresh.shape == held.shape == (2,) and (fresh >= 1).all() and (held <= 300).all()


def test_vision_autoencoder_codes_and_weighted_loss():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (40, 64, 64, 3), dtype=np.uint8)
    torch.set_num_threads(1)
    ae = vision.train_autoencoder(frames, z_size=4, steps=2)
    assert vision.prior_decodings(ae, 3).shape == (3, 64, 64, 3)
    mean, std = vision.code_spread(ae, frames)
    assert np.isfinite([mean, std]).all()
    x = torch.rand(2, 3, 64, 64)
    mu, logvar = torch.zeros(2, 4), torch.zeros(2, 4)
    plain = vision.weighted_loss(x, x * 0, mu, logvar, x.mean(0), weight=1.0)
    heavy = vision.weighted_loss(x, x * 0, mu, logvar, x.mean(0), weight=10.0)
    assert float(heavy) > float(plain) > 0


def test_memory_open_loop_drift_and_mean_codes():
    from wmlib.models.mdnrnn import MDNRNN

    torch.manual_seed(0)
    m = MDNRNN(4, 1, 8, done_head=True).eval()
    z, a = np.random.default_rng(0).normal(size=(6, 4)), np.zeros((6, 1))
    cold, hot = memory.open_loop_drift(m, z, a, 0.1), memory.open_loop_drift(m, z, a, 1.5)
    assert cold.shape == hot.shape == (5,) and np.isfinite(cold).all()


def test_controller_covariance_pays_and_sizes():
    full = controller.generations_to_reach()
    no_cov = controller.generations_to_reach(dict(CMA_rankmu=0, CMA_rankone=0))
    assert full < no_cov
    f = controller.tilted_valley(30.0)
    batch = lambda X, g: [f(x) for x in X]
    mean, best = controller.diagonal_es(batch, [-3.0, -2.0], 0.5, 10, 60)
    assert f(mean) < 1e-2 * f([-3.0, -2.0]) and len(best) == 60
    untilted = controller.tilted_valley(0.0)
    mean0, _ = controller.diagonal_es(lambda X, g: [untilted(x) for x in X], [-3.0, -2.0], 0.5, 10, 60)
    assert untilted(mean0) < 1e-6  # axis-aligned: one scale per coordinate is enough
    sizes = controller.hidden_layer_sizes()
    assert sizes["params"] == 32 * 40 + 40 + 40 * 3 + 3 == 1443 and sizes["covariance_entries"] == 1443 ** 2


def test_memory_mean_code_batch_drops_the_noise():
    from types import SimpleNamespace

    from wmlib.training.mdnrnn import _rows_to_batch

    rng = np.random.default_rng(0)
    data = SimpleNamespace(mu=rng.normal(size=(10, 3)).astype(np.float32),
                           logvar=np.zeros((10, 3), np.float32), actions=np.zeros((10, 1), np.float32),
                           dones=np.zeros(10, bool))
    batch = _rows_to_batch([np.arange(0, 5), np.arange(5, 10)], np.array([0, 5]), np.array([4, 9]), 5)
    t = memory.mean_code_batch(data, batch)
    np.testing.assert_allclose(t["z"].numpy(), data.mu[batch.idx])
    np.testing.assert_allclose(t["z_next"][0, :4].numpy(), data.mu[1:5])


def tiny_doom_m(seed=0, done_bias=-3.0, done_scale=40.0):
    """A random Doom-shaped M (z 8, one action, LSTM 16) whose done head crosses 0.5 now and then."""
    from wmlib.models.mdnrnn import MDNRNN

    torch.manual_seed(seed)
    m = MDNRNN(8, 1, 16, done_head=True)
    with torch.no_grad():
        m.done.weight.mul_(done_scale)
        m.done.bias.fill_(done_bias)
    return m.eval()


def tiny_first_codes(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)).astype(np.float32), np.full((n, 8), -1.0, np.float32)


def tiny_controllers(P, seed=0, scale=1.0):
    from wmlib.models.controller import param_count

    return np.random.default_rng(seed).normal(size=(P, param_count("doom", 8, 16))) * scale


def test_dream_done_rules_stand_still_and_batching(one_torch_thread):
    m, (mu, logvar) = tiny_doom_m(), tiny_first_codes()
    params = tiny_controllers(3)
    lengths = dream.done_rule_lengths(m, params, mu, logvar, rollouts=4, max_steps=30)
    assert set(lengths) == {"threshold", "sample", "never"} and all(v.shape == (3,) for v in lengths.values())
    assert (lengths["never"] == 30).all()  # only the cap ends a dream
    assert all(((v >= 1) & (v <= 30)).all() for v in lengths.values())
    assert (lengths["threshold"] < 30).any()  # the pinned death head does end some dreams
    still = dream.stand_still(m, mu, logvar, taus=(0.1, 1.3), episodes=4, max_steps=30)
    from wmlib.agent.dream import dream_rollouts

    for tau, steps in still.items():  # a C with zero weights acts tanh(0) = 0, "stay": the same dreams
        zero_c = dream_rollouts(m, "doom", np.zeros((1, params.shape[1])), mu, logvar, 4, tau, 30, seed=0)[0]
        assert steps.shape == (4,) and ((steps >= 1) & (steps <= 30)).all()
        np.testing.assert_array_equal(steps, zero_c)
    rows = dream.batching_speedup(m, mu, logvar, populations=(1, 8), rollouts=2, max_steps=20)
    assert [r["population"] for r in rows] == [1, 8]
    assert all(r["same"] for r in rows), "batched and one-at-a-time dreams disagree"
    assert all(np.isfinite(r["speedup"]) and r["speedup"] > 0 for r in rows)


def test_temperature_cross_scores_and_starts(one_torch_thread):
    from wmlib.agent.dream import dream_rollouts

    m, (mu, logvar) = tiny_doom_m(), tiny_first_codes()
    params, taus = tiny_controllers(3, seed=1), [0.1, 1.0, 1.3]
    scores = temperature.cross_temperature_scores(m, mu, logvar, params, taus, rollouts=4, max_steps=30)
    assert scores.shape == (3, 3) and ((scores >= 1) & (scores <= 30)).all()
    for i, tau in enumerate(taus):  # the diagonal: each controller in its own dream, scored alone
        own = dream_rollouts(m, "doom", params[i][None], mu, logvar, 4, tau, 30, seed=0).mean()
        assert scores[i, i] == own
    assert len(np.unique(scores)) > 1  # the temperature changes the dream
    # Which dream ranks the controllers as the game does: the first column exactly, the last backwards-ish.
    toy = np.array([[1.0, 5.0, 3.0], [2.0, 4.0, 1.0], [3.0, 6.0, 2.0]])
    rho = temperature.dream_predicts_reality(toy, [10.0, 20.0, 30.0])
    np.testing.assert_allclose(rho, [1.0, 0.5, -0.5])
    assert np.isnan(temperature.dream_predicts_reality(np.ones((3, 1)), [1.0, 2.0, 3.0])[0])

    same_mu, same_logvar = temperature.start_codes(mu, logvar, "same", index=2)
    assert same_mu.shape == (1, 8) and np.array_equal(same_mu[0], mu[2])
    prior_mu, prior_logvar = temperature.start_codes(mu, logvar, "prior")
    assert not prior_mu.any() and not prior_logvar.any()
    by_start = temperature.scores_by_start(m, mu, logvar, params[0], tau=0.0, rollouts=6, max_steps=30)
    assert set(by_start) == {"real", "same", "prior"} and all(v.shape == (6,) for v in by_start.values())
    # At tau 0 the dream is M's most likely future: from one first frame, known exactly, every dream is alike,
    # while starts from different real frames differ (an M whose death head reads the first code).
    exact = temperature.scores_by_start(tiny_doom_m(done_bias=1.0), 3 * mu, np.full_like(logvar, -40.0), params[0],
                                        tau=0.0, rollouts=6, max_steps=30)
    assert len(np.unique(exact["same"])) == 1 and len(np.unique(exact["real"])) > 1


def test_iterative_exploration_and_curiosity(one_torch_thread):
    m, (mu, logvar) = tiny_doom_m(), tiny_first_codes()
    zero = np.zeros(tiny_controllers(1).shape[1])  # a C that always stays: it never dodges
    shares = iterative.exploration_shares(m, zero, mu, logvar, rates=(0.0, 1.0), steps=300)
    assert shares[0.0] == dict(left=0.0, stay=1.0, right=0.0)  # without exploration M sees only "stay"
    assert shares[1.0]["left"] > 0.2 and shares[1.0]["right"] > 0.2 and shares[1.0]["stay"] < 0.5
    acts = iterative.explored_actions(m, zero, mu, logvar, 0.3, steps=50)
    assert acts.shape == (50, 1) and (np.abs(acts) <= 1).all()

    params = tiny_controllers(4, seed=2)
    cold = iterative.dream_surprise(m, params, mu, logvar, steps=30, tau=0.1)
    hot = iterative.dream_surprise(m, params, mu, logvar, steps=30, tau=1.5)
    assert cold.shape == hot.shape == (4,) and np.isfinite(cold).all() and np.isfinite(hot).all()
    assert (hot > cold).all()  # futures sampled far from M's modes surprise M more
    fit = iterative.curious_fitness(np.full((4, 3), 10.0), hot, weight=2.0)
    np.testing.assert_allclose(fit, 10.0 + 2.0 * hot)


def test_beyond_the_expectile_and_learning_progress(one_torch_thread):
    from wmlib.agent.curiosity import surprise_along
    from wmlib.models.mdnrnn import reward_loss

    rewards = np.array([-0.1] * 9 + [3.2])
    assert beyond.expectile(rewards, 1.0) == pytest.approx(rewards.mean(), abs=1e-8)  # k = 1: the mean
    grid = torch.linspace(-0.2, 0.4, 60001, dtype=torch.float64)
    loss = reward_loss(grid[:, None], torch.tensor(rewards), 5.0).mean(1)
    assert beyond.expectile(rewards, 5.0) == pytest.approx(float(grid[loss.argmin()]), abs=2e-5)
    often = np.array([-0.1, -0.1, 3.2] * 5)
    assert beyond.expectile(rewards, 5.0) < 0 < beyond.expectile(often, 5.0) < often.mean()

    m0, m1 = tiny_doom_m(seed=0), tiny_doom_m(seed=1)
    rng = np.random.default_rng(0)
    z, a = rng.normal(size=(12, 8)).astype(np.float32), rng.uniform(-1, 1, (12, 1)).astype(np.float32)
    dones = np.zeros(12, bool)
    dones[-1] = True
    out = beyond.progress_along(m0, m1, z, a, dones, pos_weight=5.0)
    np.testing.assert_allclose(out["before"], surprise_along(m0, z, a, dones, 5.0)["surprise"])
    np.testing.assert_allclose(out["progress"], out["before"] - out["after"])
    assert 0.0 < out["learned"] < 1.0  # two random Ms: each is better on some steps
    assert beyond.progress_along(m0, m0, z, a, dones)["learned"] == 0.0  # the same M learned nothing
