"""Real-world population rollouts: the agent loop, backends agree, a dead worker costs nothing."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from crashing_runner import CrashOnce
from wmlib.agent.loop import real_episode
from wmlib.models.controller import Controller, param_count
from wmlib.worlds.envs import make_env
from wmlib.models.mdnrnn import MDNRNN
from wmlib.agent.rollout import EpisodeRunner, RolloutPool, agent_spec, episode_seed
from wmlib.models.vae import ConvVAE, frames_to_tensor

Z, H, STEPS = 8, 16, 15
TESTS = Path(__file__).resolve().parent


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_agent(world="carracing", mode="zh", lockstep=4, max_steps=STEPS):
    torch.manual_seed(0)
    action = 1 if world == "doom" else 3
    vae, m = ConvVAE(Z), MDNRNN(Z, action, H, done_head=world == "doom")
    return vae, m, agent_spec(world, mode, vae, m if mode == "zh" else None, max_steps, lockstep)


def population(world="carracing", mode="zh", P=3, scale=0.5, seed=0):
    n = param_count(world, Z, H, mode)
    return np.random.default_rng(seed).normal(size=(P, n)) * scale


def reference_episode(world, vae, m, params, seed, max_steps):
    """The paper's loop for one episode (``agent.loop.real_episode``) -> (return, steps)."""
    with make_env(world, max_steps=max_steps) as env:
        ref = real_episode(env, vae, m, Controller(world, Z, H, "zh").set_flat(params), seed)
    return ref["ret"], ref["steps"]


@torch.no_grad()
def test_a_traced_doom_game_is_the_same_game_with_ms_death_belief_beside_it():
    """diagnose-dream reads the real game through this trace: it must not change play, and its death
    probability is M's done head after the step, as the paper's loop computes it."""
    vae, m, spec = tiny_agent("doom", lockstep=2)
    params = population("doom", P=3, scale=2.0)
    seeds = [21, 22, 23]
    with EpisodeRunner(spec) as runner:
        plain, traced = runner.run(params, seeds), runner.run(params, seeds, trace=True)
    assert plain["lengths"].tolist() == traced["lengths"].tolist()
    ctrl = Controller("doom", Z, H, "zh").set_flat(params[0])
    t = traced["traces"][0]
    with make_env("doom", max_steps=STEPS) as env:
        obs, _ = env.reset(seed=seeds[0])
        state, probs, ys = m.initial_state(1), [], []
        for step in range(traced["lengths"][0]):
            z, _ = vae.encode(frames_to_tensor(obs))
            a = ctrl.act(z, state[0][0], state[1][0])
            _, done, state = m.step(z, a, state, torch.tensor([1.0 if step == 0 else 0.0]))
            probs.append(float(torch.sigmoid(done)[0]))
            obs, _, term, _, info = env.step(a[0].numpy())
            ys.append(info["y"])
    assert t["actions"].shape == (len(probs), 1)
    assert np.allclose(t["done_prob"], probs, atol=1e-5)
    assert np.allclose(t["y"], ys) and t["terminated"] == term


@pytest.mark.parametrize("world", ["carracing", "doom"])
def test_batched_runner_matches_the_papers_loop(world):
    vae, m, spec = tiny_agent(world, lockstep=3)
    params = population(world, P=4)
    seeds = [11, 12, 13, 14]  # 4 episodes in 3 slots: one slot is reused
    with EpisodeRunner(spec) as runner:
        got = runner.run(params, seeds)
    for i, s in enumerate(seeds):
        ret, steps = reference_episode(world, vae, m, params[i], s, STEPS)
        assert got["lengths"][i] == steps
        assert got["returns"][i] == pytest.approx(ret, abs=1e-6)


def test_a_task_of_more_episodes_than_slots_plays_each_as_the_papers_loop():
    """Tasks queue up to QUEUED x lockstep episodes; each slot starts the next as its episode ends."""
    vae, m, spec = tiny_agent("doom", lockstep=2)
    params = population("doom", P=12, scale=2.0)
    with RolloutPool(spec, "serial", workers=1) as pool:
        tasks = pool.tasks(params, 1, seed=4)
        assert [len(seeds) for _, seeds, _ in tasks] == [6, 6]  # 3 x lockstep each, two tasks per worker
        got = pool.run(params, 1, seed=4)
    for p in range(12):
        ret, steps = reference_episode("doom", vae, m, params[p], episode_seed(4, p, 0), STEPS)
        assert got["lengths"][p, 0] == steps and got["returns"][p, 0] == pytest.approx(ret, abs=1e-6)


def test_same_games_gives_every_candidate_candidate_zeros_seeds():
    _, _, spec = tiny_agent("doom", lockstep=2)
    params = population("doom", P=2, scale=2.0)
    twice = np.concatenate([params[:1], params[:1]])
    with RolloutPool(spec, "serial", workers=1) as pool:
        seeds = [seeds for _, seeds, _ in pool.tasks(twice, 2, seed=6, same_games=True)]
        assert sum(seeds, []) == [episode_seed(6, 0, r) for r in (0, 1)] * 2
        same = pool.run(twice, 2, seed=6, same_games=True)
        alone = pool.run(params[:1], 2, seed=6)
    np.testing.assert_array_equal(same["lengths"], np.concatenate([alone["lengths"]] * 2))
    np.testing.assert_allclose(same["returns"], np.concatenate([alone["returns"]] * 2), atol=1e-6)


def test_v_only_mode_needs_no_m_and_reads_z():
    vae, _, spec = tiny_agent(mode="z")
    assert spec["mdnrnn"] is None
    with RolloutPool(spec, "serial") as pool:
        out = pool.run(population(mode="z", P=2), 2, seed=5)
    assert out["returns"].shape == (2, 2) and (out["lengths"] == STEPS).all()
    with pytest.raises(ValueError, match="parameters"):
        pool = RolloutPool(spec, "serial")
        pool.run(population(mode="zh", P=2), 1, seed=5)


def test_episode_seeds_are_distinct_and_repeatable():
    seeds = {episode_seed(7, p, r) for p in range(20) for r in range(16)}
    assert len(seeds) == 320 and episode_seed(7, 3, 2) == episode_seed(7, 3, 2) != episode_seed(8, 3, 2)


@pytest.fixture(scope="module")
def reference():
    """A serial, no-failure run that the parallel backends must reproduce exactly."""
    _, _, spec = tiny_agent()
    params = population(P=5)
    with RolloutPool(spec, "serial", workers=2) as pool:  # same task split as 2 workers
        out = pool.run(params, 2, seed=3)
    return spec, params, out


def test_processes_replace_a_dead_worker_and_lose_nothing(reference, tmp_path):
    spec, params, expected = reference
    crash = dict(seed=episode_seed(3, 2, 1), marker=str(tmp_path / "crashed"))
    with RolloutPool(dict(spec, crash=crash), "processes", workers=2, runner=CrashOnce) as pool:
        out = pool.run(params, 2, seed=3)
        assert pool.restarts == 1 and (tmp_path / "crashed").exists()
        np.testing.assert_array_equal(out["returns"], expected["returns"])
        np.testing.assert_array_equal(out["lengths"], expected["lengths"])
        # the pool keeps working, and evolve's evaluate functions have the right shapes
        assert pool.evaluate_fn(2)(params[:2], 0, 9).shape == (2, 2)
        assert pool.evaluate_mean_fn()(params[0], 3, 9).shape == (3,)


def _running(pid: int) -> bool:
    """The process lives and is not a zombie (an orphan's exit may wait to be reaped)."""
    status = Path(f"/proc/{pid}/status")
    if Path("/proc/self").exists():
        return status.exists() and "\nState:\tZ" not in status.read_text()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_end_when_their_parent_is_killed_mid_task(tmp_path):
    """A parent killed by a signal runs no clean-up; its workers, busy in a long task, end with it."""
    pidfile = tmp_path / "worker.pid"
    script = (f"from crashing_runner import Stall\nfrom test_rollout import tiny_agent, population\n"
              f"from wmlib.agent.pool import RolloutPool\n_, _, spec = tiny_agent()\n"
              f"with RolloutPool(dict(spec, stall={str(pidfile)!r}), 'processes', workers=1, runner=Stall) as pool:\n"
              f"    pool.run(population(P=1), 1, seed=0)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")]))
    parent = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 180
        while not pidfile.exists() and parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pidfile.exists(), "the worker never started its task"
        worker = int(pidfile.read_text())
        assert _running(worker)
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(worker), "the worker played on after its parent was killed"
    finally:
        if parent.poll() is None:
            parent.kill()
        if pidfile.exists() and _running(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_ray_backend_equals_processes_even_when_an_actor_dies(reference, tmp_path):
    ray = pytest.importorskip("ray")
    spec, params, expected = reference
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    try:
        import crashing_runner

        ray.cloudpickle.register_pickle_by_value(crashing_runner)  # Ray's workers cannot import tests/
        crash = dict(seed=episode_seed(3, 0, 1), marker=str(tmp_path / "crashed"))
        with RolloutPool(dict(spec, crash=crash), "ray", workers=2, runner=CrashOnce) as pool:
            out = pool.run(params, 2, seed=3)
            assert pool.restarts == 1
        np.testing.assert_array_equal(out["returns"], expected["returns"])
        np.testing.assert_array_equal(out["lengths"], expected["lengths"])
    finally:
        ray.shutdown()


def test_bad_backend_is_a_clear_error():
    _, _, spec = tiny_agent()
    with pytest.raises(ValueError, match="backend"):
        RolloutPool(spec, "threads")
    with pytest.raises(ValueError, match="needs M"):
        agent_spec("carracing", "zh", ConvVAE(Z), None)


def test_same_episodes_ranks_a_generation_on_the_same_episodes(tmp_path, monkeypatch):
    """evolution.same_episodes: train_controller's pool plays every candidate on candidate 0's games."""
    from wmlib import get_config, paths
    from wmlib.training import controller

    _, _, spec = tiny_agent("doom", lockstep=2)
    params = population("doom", P=3)
    with RolloutPool(spec, "serial", workers=1) as pool:  # which seeds same_games plays: the test above
        runs = []
        real_run = pool.run
        pool.run = lambda *a, **kw: runs.append(kw) or real_run(*a, **kw)
        same = pool.evaluate_fn(2, same_games=True)(params, 0, 4)
        assert runs[-1]["same_games"] and same.shape == (3, 2)
        pool.evaluate_fn(2)(params, 0, 4)
        assert not runs[-1]["same_games"]

    asked = []

    class FakePool:  # what train_controller asks of its pool, recorded
        n_params = 4

        def __init__(self, *a, **kw):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def evaluate_fn(self, rollouts, same_games=False):
            asked.append(same_games)
            return lambda sol, g, seed: -np.sum(sol ** 2, axis=1, keepdims=True).repeat(rollouts, axis=1)

        def evaluate_mean_fn(self):
            return lambda p, n, seed: np.zeros(n)

    monkeypatch.setattr(controller, "RolloutPool", FakePool)
    monkeypatch.setattr(controller, "build_spec", lambda *a, **kw: None)
    for flag in (True, False):
        cfg = get_config("carracing", "ci", artifacts=tmp_path / str(flag)).with_overrides(
            evolution=dict(same_episodes=flag, generations=1, population=4))
        paths.vae_file(cfg).parent.mkdir(parents=True)
        paths.vae_file(cfg).write_bytes(b"V")  # the run records V's hash; the fake pool never reads it
        controller.train_controller(cfg, "z", progress=False)
    assert asked == [True, False]
    with pytest.raises(ValueError, match="same_episodes"):  # a run is not resumed under the other setting
        controller.train_controller(cfg.with_overrides(evolution=dict(same_episodes=True, generations=2)), "z",
                                    progress=False)
