"""C's inputs scaled (``dream.input_scale``): the same controller either way, CMA-ES searching scaled
coordinates exactly, the recorded RMS against a hand-stepped M, and the dream run keeping its scale."""
import numpy as np
import pytest
import torch

import wmlib.training.dream as tid
import wmlib.training.series
from wmlib import paths
from wmlib.agent.evolution import evolve
from wmlib.artifacts import save_checkpoint
from wmlib.config import get_config
from wmlib.models.controller import block_rms, input_rms, param_count, param_scale, unflatten
from wmlib.models.vae import ConvVAE
from wmlib.training import stages
from wmlib.training.mdnrnn import Transitions
from tests.test_dream import H, Z, tiny_m
from tests.test_dream_starts import FakeSeries
from tests.test_evolution import cfg_for, sphere

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_scaled_search_plays_the_same_controller_on_raw_inputs():
    """Weights u * scale on raw inputs x act as weights u on inputs x / rms (W row-major, biases unscaled)."""
    rng = np.random.default_rng(0)
    for world in ("doom", "carracing"):
        n_in = Z + (2 * H if world == "doom" else H)
        rms = rng.uniform(0.1, 30.0, n_in)
        u = torch.from_numpy(rng.normal(size=param_count(world, Z, H)))
        x = torch.from_numpy(rng.normal(size=(7, n_in)) * rms)
        Wu, bu = unflatten(world, u)
        Wp, bp = unflatten(world, u * torch.from_numpy(param_scale(world, rms)))
        torch.testing.assert_close(x @ Wp.T, (x / torch.from_numpy(rms)) @ Wu.T)
        if world == "carracing":
            torch.testing.assert_close(bp, bu)
        else:
            assert bp is None and len(param_scale(world, rms)) == n_in
    with pytest.raises(ValueError, match="positive"):
        param_scale("doom", np.r_[np.ones(Z + 2 * H - 1), 0.0])


def test_rms_has_a_floor_and_blocks_share_one_value():
    np.testing.assert_allclose(input_rms([4.0, 0.0, 1e-6]), [2.0, 0.05, 0.05])
    with pytest.raises(ValueError, match="non-negative"):
        input_rms([1.0, -1.0])
    rms = np.r_[np.full(Z, 1.0), np.full(H, 3.0), np.r_[np.full(H // 2, 1.0), np.full(H // 2, 7.0)]]
    blocks = block_rms(rms, "doom", Z, H)
    np.testing.assert_allclose(blocks, np.r_[np.full(Z, 1.0), np.full(H, 3.0), np.full(H, 5.0)])
    assert len(block_rms(rms[:Z + H], "carracing", Z, H)) == Z + H
    with pytest.raises(ValueError, match="do not fit"):
        block_rms(rms[:-1], "doom", Z, H)


def test_cma_es_under_a_scale_is_the_unscaled_search_of_the_scaled_problem(tmp_path):
    """Every candidate played is u * scale for the u an unscaled run of f(u * scale) asks; x0 and the results
    are in played coordinates; a run resumes only with its own scale."""
    scale, x0 = np.array([0.5, 2.0, 10.0, 0.1]), np.array([0.2, -1.0, 3.0, 0.05])
    seen = {"scaled": [], "plain": []}

    def scaled(sol, g, seed):
        seen["scaled"].append(sol.copy())
        return sphere(sol, g, seed)

    def plain(u, g, seed):
        seen["plain"].append(u * scale)
        return sphere(u * scale, g, seed)

    mean_fn = lambda p, n, seed: np.full(n, -np.sum((p - 1.0) ** 2))
    ev = cfg_for(weight_decay=0.0, generations=6)
    a = evolve(ev, 4, scaled, tmp_path / "a", progress=False, x0=x0, scale=scale, evaluate_mean_fn=mean_fn)
    b = evolve(ev, 4, plain, tmp_path / "b", progress=False, x0=x0 / scale,
               evaluate_mean_fn=lambda u, n, seed: mean_fn(u * scale, n, seed))
    for s, p in zip(seen["scaled"], seen["plain"]):
        np.testing.assert_allclose(s, p, rtol=1e-12)
    np.testing.assert_allclose(a.mean_params, b.mean_params * scale, rtol=1e-12)
    np.testing.assert_allclose(a.deployed_params, b.deployed_params * scale, rtol=1e-12)
    np.testing.assert_allclose(a.best_params, b.best_params * scale, rtol=1e-12)
    assert not np.allclose(a.mean_params, b.mean_params)  # the scale did change where the search went

    half = evolve(ev, 4, sphere, tmp_path / "c", progress=False, x0=x0, scale=scale, generations=3)
    assert half.generations == 3
    whole = evolve(ev, 4, sphere, tmp_path / "c", progress=False, x0=x0, scale=scale)
    once = evolve(ev, 4, sphere, tmp_path / "d", progress=False, x0=x0, scale=scale)
    np.testing.assert_array_equal(whole.mean_params, once.mean_params)
    with pytest.raises(ValueError, match="another input scale"):
        evolve(cfg_for(weight_decay=0.0, generations=7), 4, sphere, tmp_path / "c", progress=False, scale=scale * 2)
    with pytest.raises(ValueError, match="with another input scale, not none"):
        evolve(cfg_for(weight_decay=0.0, generations=7), 4, sphere, tmp_path / "c", progress=False)
    with pytest.raises(ValueError, match="positive, finite"):
        evolve(ev, 4, sphere, tmp_path / "e", progress=False, scale=scale[:3])


def test_the_recorded_rms_is_what_c_reads_along_the_games():
    """z: the mean square of V's sampled code (mu^2 + sigma^2); c and h: M stepped by hand over each
    episode's real codes, the state before each step (zero at the first)."""
    m, lengths = tiny_m(), [5, 9, 3]
    series = FakeSeries(lengths)
    got = tid.recorded_input_rms(m, Transitions(series), "doom")
    hs, cs = [], []
    for e in range(len(lengths)):
        ep = series.episode(e)
        state = m.initial_state(1)
        with torch.no_grad():
            for t in range(lengths[e]):
                hs.append(state[0][0, 0].numpy().copy())
                cs.append(state[1][0, 0].numpy().copy())
                first = torch.ones(1) if t == 0 else None  # Doom's M reads the episode's start as an input
                state = m.advance(torch.from_numpy(ep["mu"][t:t + 1]), torch.from_numpy(ep["actions"][t:t + 1]),
                                  state, first)
    z_ms = np.mean(series.mu.astype(np.float64) ** 2 + np.exp(series.logvar), axis=0)
    want = np.maximum(np.sqrt(np.r_[z_ms, np.mean(np.square(cs), 0), np.mean(np.square(hs), 0)]), 0.05)
    np.testing.assert_allclose(got, want, rtol=1e-4)


def small_cfg(**dream):
    return get_config("doom", "ci").with_overrides(
        vae=dict(z_size=Z), mdnrnn=dict(hidden=H),
        evolution=dict(population=4, rollouts=1, generations=2, eval_every=1, eval_episodes=2, sigma0=0.5),
        dream={**dict(max_steps=20, population=4, rollouts=2, generations=2, start_from="first"), **dream})


@pytest.fixture
def world(artifacts, monkeypatch):
    series = FakeSeries([6, 11, 4])
    monkeypatch.setattr(wmlib.training.series, "load_series", lambda cfg: series)
    cfg = small_cfg()
    m = tiny_m(done_bias=-3.0, done_scale=40.0)
    save_checkpoint(paths.mdnrnn_file(cfg), dict(model=m.state_dict(), arch=m.arch()))
    save_checkpoint(paths.vae_file(cfg), dict(z_size=Z, model=ConvVAE(Z).state_dict()))
    return cfg, m, series


def test_the_dream_run_searches_under_its_scale_and_keeps_it(world):
    cfg, m, series = world
    assert tid.Dreamer(cfg, 1.15).param_scale is None
    rms = tid.recorded_input_rms(m, Transitions(series), "doom")
    np.testing.assert_allclose(tid.Dreamer(small_cfg(input_scale="rms"), 1.15).param_scale,
                               param_scale("doom", rms), rtol=1e-5)
    blocks = tid.Dreamer(small_cfg(input_scale="block"), 1.15).param_scale
    assert len(np.unique(blocks[:Z])) == len(np.unique(blocks[Z:Z + H])) == 1
    with pytest.raises(ValueError, match="dream.input_scale='std' is not one of none, rms, block"):
        tid.Dreamer(small_cfg(input_scale="std"), 1.15)

    # the setting names a stage only when on: the default's keys are the ones written before it existed
    key = lambda c: stages.Stage("C", paths.dream_dir(c, 1.15), tid.dream_fields(c, 1.15), done=bool).settings()
    assert "dream.input_scale" not in key(cfg) and key(small_cfg(input_scale="rms"))["dream.input_scale"] == "rms"

    res = tid.train_in_dream(small_cfg(input_scale="rms"), 1.15, progress=False, generations=1)
    assert res.deployed_params.shape == (Z + 2 * H,) and np.isfinite(res.deployed_params).all()
    with pytest.raises(ValueError, match=r"input_scale='rms' \(config now says None\)"):
        tid.train_in_dream(cfg, 1.15, progress=False)


def test_an_iterative_rounds_search_runs_under_the_rounds_scale(world, monkeypatch, tmp_path):
    """Round k's CMA-ES runs search under the scale of round k's dream (its M, every recorded game)."""
    import wmlib.training.iterate as it
    from wmlib.agent.evolution import CHECKPOINT
    from wmlib.artifacts import load_checkpoint

    _, m, series = world
    cfg = small_cfg(input_scale="rms").with_overrides(iterate=dict(generations=1))
    monkeypatch.setattr(it, "dream_series", lambda c: [series])
    monkeypatch.setattr(it, "load_round_mdnrnn", lambda c, k, device="cpu": m)
    x0 = np.full(Z + 2 * H, 0.01)
    monkeypatch.setattr(it, "round_params", lambda c, k: x0)
    res = it._round_evolution(cfg, 1)(0, tmp_path / "run", False)
    saved = load_checkpoint(tmp_path / "run" / CHECKPOINT)["scale"].numpy()
    np.testing.assert_allclose(saved, tid.Dreamer(cfg, 1.15, mdnrnn=m, series=[series]).param_scale)
    assert res.generations == 1 and np.isfinite(res.deployed_params).all()
