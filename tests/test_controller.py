"""C: parameter counts, flat get/set, action ranges, batched maths equal per-candidate maths."""
import numpy as np
import pytest
import torch

from wmlib.models.controller import (Controller, batched_act, controller_inputs, param_count, to_env_action,
                              unflatten)


@pytest.mark.parametrize("world,z,h,mode,count", [
    ("carracing", 32, 256, "zh", 867),
    ("carracing", 32, 256, "z", 99),
    ("doom", 64, 512, "zh", 1088),
    ("doom", 64, 512, "z", 64),
])
def test_parameter_counts_match_the_paper(world, z, h, mode, count):
    c = Controller(world, z, h, mode)
    assert c.n_params == count == param_count(world, z, h, mode)
    assert (c.bias is None) == (world == "doom")


def test_flat_get_set_round_trips_and_checks_size():
    c = Controller("carracing", 32, 256)
    vec = np.random.default_rng(0).normal(size=c.n_params)
    got = c.set_flat(vec).get_flat()
    np.testing.assert_allclose(got, vec.astype(np.float32))
    W, b = c.weight, c.bias
    assert W.shape == (3, 288) and b.shape == (3,)
    # W is row-major [action, input], then the bias
    np.testing.assert_allclose(W[1, :5].numpy(), vec[288:293].astype(np.float32))
    np.testing.assert_allclose(b.numpy(), vec[-3:].astype(np.float32))
    with pytest.raises(ValueError, match="867"):
        c.set_flat(np.zeros(10))


def test_car_action_is_the_papers_formula_and_in_range():
    rng = np.random.default_rng(1)
    c = Controller("carracing", 32, 256).set_flat(rng.normal(size=867))
    z, h = rng.normal(size=(50, 32)).astype(np.float32), rng.normal(size=(50, 256)).astype(np.float32)
    a = c.act(z, h)
    assert a.shape == (50, 3) and a.dtype == np.float32
    W, b = c.weight.numpy(), c.bias.numpy()
    raw = np.tanh(np.concatenate([z, h], 1) @ W.T + b)
    np.testing.assert_allclose(a[:, 0], raw[:, 0], atol=1e-5)
    np.testing.assert_allclose(a[:, 1], (raw[:, 1] + 1) / 2, atol=1e-5)
    np.testing.assert_allclose(a[:, 2], np.clip(raw[:, 2], 0, 1), atol=1e-5)
    assert (a[:, 1] >= 0).all() and (a[:, 2] >= 0).all() and (a[:, 2] == 0).any()
    assert c.act(z[0], h[0]).shape == (3,)


def test_doom_reads_z_c_h_without_bias():
    rng = np.random.default_rng(2)
    c = Controller("doom", 64, 512).set_flat(rng.normal(size=1088) * 0.1)
    z, h, cell = (rng.normal(size=(4, n)).astype(np.float32) for n in (64, 512, 512))
    a = c.act(z, h, cell)
    expected = np.tanh(np.concatenate([z, cell, h], 1) @ c.weight.numpy().T)
    np.testing.assert_allclose(a, expected, atol=1e-5)
    assert np.allclose(c.act(np.zeros(64), np.zeros(512), np.zeros(512)), 0)  # no bias
    with pytest.raises(ValueError, match="c"):
        controller_inputs("doom", torch.zeros(64), torch.zeros(512), None, "zh")


@pytest.mark.parametrize("world,z,h,mode", [("carracing", 8, 16, "zh"), ("carracing", 8, 16, "z"),
                                            ("doom", 8, 16, "zh")])
def test_batched_act_equals_each_candidate_alone(world, z, h, mode):
    gen = torch.Generator().manual_seed(0)
    n = param_count(world, z, h, mode)
    params = torch.randn(5, n, generator=gen)
    zs, hs, cs = torch.randn(5, 7, z, generator=gen), torch.randn(5, 7, h, generator=gen), torch.randn(5, 7, h, generator=gen)
    inputs = controller_inputs(world, zs, hs, cs, mode)
    batched = batched_act(world, params, inputs)
    assert batched.shape == (5, 7, 1 if world == "doom" else 3)
    for p in range(5):
        c = Controller(world, z, h, mode).set_flat(params[p].numpy())
        torch.testing.assert_close(batched[p], c.act(zs[p], hs[p], cs[p]))
        W, b = unflatten(world, params[p])
        raw = inputs[p] @ W.T + (0 if b is None else b)
        torch.testing.assert_close(batched[p], to_env_action(world, raw))


def test_bad_mode_and_wrong_input_size_are_clear_errors():
    with pytest.raises(ValueError, match="mode"):
        Controller("carracing", 32, 256, mode="zch")
    with pytest.raises(ValueError, match="inputs"):
        batched_act("carracing", torch.zeros(1, 867), torch.zeros(1, 1, 32))


@pytest.mark.parametrize("world", ["carracing", "doom"])
def test_a_widened_v_only_controller_drives_exactly_as_before(world):
    from wmlib.config import get_config
    from wmlib.training.controller import widen_z_to_zh

    cfg = get_config(world, "ci")
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    small = Controller(world, z, hidden, "z").set_flat(np.random.default_rng(0).normal(size=param_count(world, z, hidden, "z")))
    wide = Controller(world, z, hidden, "zh").set_flat(widen_z_to_zh(cfg, small.get_flat()))
    rng = np.random.default_rng(1)
    zs, hs, cs = (rng.normal(size=(6, n)).astype(np.float32) for n in (z, hidden, hidden))
    np.testing.assert_allclose(wide.act(zs, hs, cs), small.act(zs), atol=1e-6)
    assert np.count_nonzero(wide.get_flat()) == np.count_nonzero(small.get_flat())


def test_train_controller_command_passes_rollouts_and_refuses_zero(monkeypatch, tmp_path, capsys):
    """`train-controller --rollouts 4` evolves with 4 episodes per candidate; 0 is a one-line error."""
    from types import SimpleNamespace

    from wmlib import cli
    from wmlib.training import controller as trainer

    seen = {}

    def fake_train(cfg, mode, backend, workers, generations=None):
        seen.update(rollouts=cfg.evolution.rollouts, population=cfg.evolution.population, mode=mode)
        return SimpleNamespace(history=[], generations=0, best_eval=None, ckpt_dir=tmp_path)

    monkeypatch.setattr(trainer, "train_controller", fake_train)
    argv = ["train-controller", "carracing", "--mode", "zh", "--profile", "laptop", "--artifacts", str(tmp_path)]
    assert cli.main(argv + ["--rollouts", "4"]) == 0
    assert seen == dict(rollouts=4, population=16, mode="zh")
    assert cli.main(argv) == 0 and seen["rollouts"] == 1  # the profile's own
    assert cli.main(argv + ["--rollouts", "0"]) == 2
    assert "--rollouts must be at least 1" in capsys.readouterr().err


def test_a_score_says_how_many_episodes_it_averages_fresh_or_reused(artifacts, monkeypatch):
    """The score file is read by chapters and cards: its episode count is data, not only the reuse key."""
    from wmlib.config import get_config
    from wmlib.training import controller as ctl

    class FakePool:
        calls = 0

        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def run(self, params, episodes, seed):
            FakePool.calls += 1
            r = np.arange(1, episodes + 1, dtype=float)[None]
            return dict(returns=r, lengths=np.full((1, episodes), 7))

    cfg = get_config("doom", "ci")
    monkeypatch.setattr(ctl, "controller_params", lambda cfg, mode, which="deployed": np.zeros(5, np.float32))
    monkeypatch.setattr(ctl, "build_spec", lambda cfg, mode: None)
    monkeypatch.setattr(ctl, "RolloutPool", FakePool)
    fresh = ctl.evaluate_controller(cfg, "zh", episodes=3)
    again = ctl.evaluate_controller(cfg, "zh", episodes=3)
    assert FakePool.calls == 1
    for s in (fresh, again):
        assert s["episodes"] == 3 == len(s["returns"]) and s["mean"] == 2.0 and s["seed"] == ctl.TEST_SEED
