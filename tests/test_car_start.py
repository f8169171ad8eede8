"""evolution.start: V+M's CMA-ES begins at a V-only C (the car's lever), keyed by the start C's checksum."""
import numpy as np
import pytest

from wmlib import paths
from wmlib.agent.evolution import evolve
from wmlib.artifacts import save_checkpoint
from wmlib.book.shipped_files import controller_payload
from wmlib.config import get_config
from wmlib.models.controller import param_count
from wmlib.training import controller as ctl


def car(artifacts, start="zeros"):
    return get_config("carracing", "ci", str(artifacts)).with_overrides(evolution=dict(start=start))


def controller_file(path, cfg, mode, seed=0):
    z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
    params = np.random.default_rng(seed).normal(size=param_count(cfg.world, z, hidden, mode))
    save_checkpoint(path, controller_payload(params, mode, z, hidden))
    return path, params.astype(np.float16).astype(np.float64)  # files keep half precision


def v_only_run(cfg):
    """A one-generation V-only run in the folder the V-only trainer uses (fitness: a fixed quadratic)."""
    n = param_count(cfg.world, cfg.vae.z_size, cfg.mdnrnn.hidden, "z")
    ev = cfg.evolution.__class__(population=4, rollouts=1, generations=1, sigma0=0.5, eval_every=100)
    target = np.linspace(-1, 1, n)
    evolve(ev, n, lambda sol, g, seed: -((sol - target) ** 2).sum(1, keepdims=True), paths.controller_dir(cfg, "z"),
           progress=False, evaluate_mean_fn=None)
    return ctl.controller_params(cfg, "z")


def test_zeros_is_the_papers_start_and_leaves_every_key_as_it_was(artifacts):
    cfg = car(artifacts)
    assert ctl.start_params(cfg, "zh") is None and ctl.start_params(cfg, "z") is None
    assert "evolution.start" not in ctl.controller_run(cfg, "zh").stage(1).settings()


def test_a_v_only_file_starts_v_plus_m_as_the_same_driver(artifacts, tmp_path):
    path, params = controller_file(tmp_path / "z.pt", car(artifacts), "z")
    cfg = car(artifacts, str(path))
    x0 = ctl.start_params(cfg, "zh")
    np.testing.assert_array_equal(x0, ctl.widen_z_to_zh(cfg, params))
    assert x0.size == param_count("carracing", cfg.vae.z_size, cfg.mdnrnn.hidden, "zh")
    np.testing.assert_array_equal(ctl.start_params(cfg, "z"), params)  # a V-only run evolves on from it
    assert ctl.start_params(car(artifacts, "v_only"), "z") is None  # the V-only run V+M starts from: zeros


def test_a_file_reading_z_and_h_is_used_as_it_is(artifacts, tmp_path):
    path, params = controller_file(tmp_path / "zh.pt", car(artifacts), "zh")
    np.testing.assert_array_equal(ctl.start_params(car(artifacts, str(path)), "zh"), params)
    with pytest.raises(ValueError, match="can start only from a C reading z"):
        ctl.start_params(car(artifacts, str(path)), "z")


def test_v_only_reads_this_folders_v_only_run(artifacts):
    cfg = car(artifacts, "v_only")
    with pytest.raises(FileNotFoundError, match="train-controller carracing --mode z"):
        ctl.start_params(cfg, "zh")
    params = v_only_run(cfg)
    np.testing.assert_array_equal(ctl.start_params(cfg, "zh"), ctl.widen_z_to_zh(cfg, params))
    run = ctl.controller_run(cfg, "zh")
    assert [s.name for s in run.stage(1).reads][-1] == "C in the real world (z)"  # its settings are in the key


def test_the_key_names_the_start_by_checksum(artifacts, tmp_path):
    a, _ = controller_file(tmp_path / "a.pt", car(artifacts), "z", seed=0)
    b, _ = controller_file(tmp_path / "b.pt", car(artifacts), "z", seed=1)
    moved = tmp_path / "moved.pt"
    moved.write_bytes(a.read_bytes())
    key = lambda start, mode="zh": ctl.controller_run(car(artifacts, str(start)), mode).stage(1).key
    assert key(a) != key(b) != key("zeros")
    assert key(a) == key(moved)  # where the file lies is not part of it
    assert key(a, "z") != key("zeros", "z") == key("v_only", "z")  # v_only: the V-only run's own key unchanged


def test_a_run_refuses_to_resume_from_another_start(artifacts, tmp_path):
    a, _ = controller_file(tmp_path / "a.pt", car(artifacts), "z", seed=0)
    b, _ = controller_file(tmp_path / "b.pt", car(artifacts), "z", seed=1)
    cfg = car(artifacts, str(a))
    for model in (paths.vae_file(cfg), paths.mdnrnn_file(cfg)):
        paths.ready(model.parent)
        model.write_bytes(b"weights")
    ctl.controller_run(cfg, "zh").check()  # first time: recorded
    ctl.controller_run(cfg, "zh").check()  # the same start: fine
    with pytest.raises(ValueError, match="started from changed"):
        ctl.controller_run(car(artifacts, str(b)), "zh").check()


def test_train_controller_hands_the_start_to_cma_es(artifacts, tmp_path, monkeypatch):
    path, params = controller_file(tmp_path / "z.pt", car(artifacts), "z")
    cfg = car(artifacts, str(path))
    seen = {}

    class Run:
        def train(self, ev, fitness, generations, progress, x0=None):
            seen["x0"] = x0

    monkeypatch.setattr(ctl, "controller_run", lambda cfg, mode: Run())
    ctl.train_controller(cfg, "zh")
    np.testing.assert_array_equal(seen["x0"], ctl.widen_z_to_zh(cfg, params))
    ctl.train_controller(car(artifacts), "zh")
    assert seen["x0"] is None


def test_bad_starts_are_clear_errors(artifacts, tmp_path):
    with pytest.raises(FileNotFoundError, match="neither 'zeros', 'v_only' nor a controller file"):
        ctl.start_params(car(artifacts, str(tmp_path / "nowhere.pt")), "zh")
    other = get_config("carracing", "laptop", str(artifacts))
    path, _ = controller_file(tmp_path / "wide.pt", other.with_overrides(vae=dict(z_size=8)), "z")
    with pytest.raises(ValueError, match="z of 8"):
        ctl.start_params(car(artifacts, str(path)), "zh")
    save_checkpoint(tmp_path / "v.pt", dict(model={}))
    with pytest.raises(ValueError, match="not a controller file"):
        ctl.start_params(car(artifacts, str(tmp_path / "v.pt")), "zh")


def test_a_dream_refuses_the_setting(artifacts):
    from wmlib.training.dream import train_in_dream

    cfg = get_config("doom", "ci", str(artifacts)).with_overrides(evolution=dict(start="v_only"))
    with pytest.raises(ValueError, match="a dream's C starts from zeros"):
        train_in_dream(cfg)


def test_reproduce_trains_and_scores_the_v_only_c_first(artifacts):
    from wmlib.training.pipeline import pipeline

    names = [name for name, _ in pipeline(car(artifacts, "v_only"))]
    assert names.index("train C on z alone") < names.index("score C on z alone") < names.index(
        "train C in the real world")
    assert "train C on z alone" not in [name for name, _ in pipeline(car(artifacts))]
