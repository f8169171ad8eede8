"""CMA-ES loop: it optimises, the weight-decay sign, exact resume after a kill, checkpoints."""
import numpy as np
import pytest

from wmlib import get_config
from wmlib.agent.evolution import evolve, fitness, load_result, new_strategy, weight_penalty


def cfg_for(**evolution):
    base = dict(population=8, sigma0=0.5, rollouts=2, generations=5, eval_every=2, eval_episodes=3,
                weight_decay=0.01, seed=3)
    return get_config("carracing", "ci").with_overrides(evolution={**base, **evolution}).evolution


TARGET = np.array([1.0, -2.0, 0.5, 0.0])


def sphere(solutions, generation, rng_seed):
    """Noisy 'returns' peaking at TARGET; the noise depends on the seed it is given."""
    rng = np.random.default_rng(rng_seed)
    base = -np.sum((solutions - TARGET) ** 2, axis=1, keepdims=True)
    return base + 0.01 * rng.normal(size=(len(solutions), 2))


def test_weight_decay_penalises_large_weights():
    small, large = np.full((1, 10), 0.1), np.full((1, 10), 2.0)
    returns = np.array([[100.0, 100.0]])
    f_small = fitness(returns, small, 0.01)[0]
    f_large = fitness(returns, large, 0.01)[0]
    assert f_small > f_large  # equal returns: the smaller-norm candidate wins
    assert f_large == pytest.approx(100.0 - 0.01 * 4.0)
    assert weight_penalty(large, 0.0)[0] == 0.0


def test_cma_es_improves_a_simple_objective(tmp_path):
    res = evolve(cfg_for(generations=40, weight_decay=0.0), 4, sphere, tmp_path / "run", progress=False)
    first, last = res.history[0], res.history[-1]
    assert last["mean"] > first["mean"] + 1.0
    assert np.linalg.norm(res.mean_params - TARGET) < 0.1
    assert np.linalg.norm(res.best_params - TARGET) < 0.3
    assert last["sigma"] < first["sigma"]


def test_popsize_sigma_and_mean_zero_from_config():
    es = new_strategy(6, 0.1, 64)
    assert es.popsize == 64 and es.sigma == 0.1 and np.all(es.mean == 0)


def test_resume_after_kill_is_exact(tmp_path):
    cfg = cfg_for()
    seen = {"full": [], "resumed": []}

    def recorder(key):
        def fn(solutions, generation, rng_seed):
            seen[key].append((generation, solutions.copy(), rng_seed))
            return sphere(solutions, generation, rng_seed)
        return fn

    evals = []
    mean_fn = lambda params, episodes, seed: (evals.append(seed), np.full(episodes, -np.sum(params ** 2)))[1]
    full = evolve(cfg, 4, recorder("full"), tmp_path / "a", progress=False, generations=3, evaluate_mean_fn=mean_fn)

    # 1 generation, then a kill in the middle of generation 2 (after its population was drawn) ...
    evolve(cfg, 4, recorder("resumed"), tmp_path / "b", progress=False, generations=1, evaluate_mean_fn=mean_fn)

    def dies(solutions, generation, rng_seed):
        np.random.seed(12345)  # a misbehaving evaluate_fn that touches the global RNG
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evolve(cfg, 4, dies, tmp_path / "b", progress=False, generations=3)
    # ... and a resume for the remaining 2
    resumed = evolve(cfg, 4, recorder("resumed"), tmp_path / "b", progress=False, generations=3,
                     evaluate_mean_fn=mean_fn)

    assert [g for g, _, _ in seen["resumed"]] == [0, 1, 2]
    for (g1, s1, r1), (g2, s2, r2) in zip(seen["full"], seen["resumed"]):
        assert g1 == g2 and r1 == r2
        np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(full.mean_params, resumed.mean_params)
    np.testing.assert_array_equal(full.best_params, resumed.best_params)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]
    assert strip(full.history) == strip(resumed.history)
    assert [e["generation"] for e in full.evaluations] == [1]  # every 2nd generation
    assert len(set(evals)) == 1  # the mean is always judged on the same episodes
    np.testing.assert_array_equal(full.deployed_params, resumed.deployed_params)
    assert resumed.best_eval == full.evaluations[0]["mean"]

    # each generation's best candidate is kept (a few real games may choose among them), across the kill
    assert sorted(resumed.generation_bests) == [0, 1, 2]
    for g, solutions, seed in seen["full"]:
        best = solutions[np.argmax(fitness(sphere(solutions, g, seed), solutions, cfg.weight_decay))]
        np.testing.assert_array_equal(full.generation_bests[g], best)
        np.testing.assert_array_equal(resumed.generation_bests[g], best)
    assert any(np.array_equal(b, full.best_params) for b in full.generation_bests.values())

    # the run folder holds everything, and a finished run is a no-op
    stored = load_result(tmp_path / "b")
    assert sorted(stored.generation_bests) == [0, 1, 2]
    assert stored.generations == 3 and len(list((tmp_path / "b").glob("es-*.pkl"))) == 1
    again = evolve(cfg, 4, dies, tmp_path / "b", progress=False, generations=3)
    np.testing.assert_array_equal(again.mean_params, full.mean_params)


def test_resume_with_other_settings_or_damaged_state_is_refused(tmp_path):
    evolve(cfg_for(), 4, sphere, tmp_path / "r", progress=False, generations=1)
    with pytest.raises(ValueError, match="population"):
        evolve(cfg_for(population=10), 4, sphere, tmp_path / "r", progress=False, generations=2)
    with pytest.raises(ValueError, match="parameters"):
        evolve(cfg_for(), 5, sphere, tmp_path / "r", progress=False, generations=2)
    pkl = next((tmp_path / "r").glob("es-*.pkl"))
    pkl.write_bytes(pkl.read_bytes() + b"x")
    with pytest.raises(ValueError, match="checksum"):
        evolve(cfg_for(), 4, sphere, tmp_path / "r", progress=False, generations=2)


def test_short_or_broken_generation_is_an_error(tmp_path):
    short = lambda s, g, r: np.zeros((len(s) - 1, 2))
    with pytest.raises(ValueError, match="shape"):
        evolve(cfg_for(), 4, short, tmp_path / "s", progress=False, generations=1)


def test_separable_cma_es_learns_a_step_size_per_weight(tmp_path):
    """evolution.diagonal: coordinates 10x steeper get a step ~10x smaller; a full run keeps one scale."""
    from wmlib.agent.evolution import load_state

    scale = np.array([1.0, 1.0, 10.0, 10.0])
    steep = lambda sol, g, seed: -np.sum(((sol - TARGET) * scale) ** 2, axis=1, keepdims=True).repeat(2, axis=1)
    evolve(cfg_for(generations=40, weight_decay=0.0, diagonal=True), 4, steep, tmp_path / "sep", progress=False)
    _, es = load_state(tmp_path / "sep")
    per_weight = es.sigma_vec.scaling
    assert per_weight[:2].min() > 4 * per_weight[2:].max()
    np.testing.assert_allclose(es.mean, TARGET, atol=0.1)
    with pytest.raises(ValueError, match="diagonal"):  # the same folder resumed without it is refused
        evolve(cfg_for(generations=41, weight_decay=0.0), 4, steep, tmp_path / "sep", progress=False)
