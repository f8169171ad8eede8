import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from wmlib.config import get_config
from wmlib.worlds.data import CorruptShardError, RolloutDataset, collect, complete_shards, plan_shards


def car_cfg(episodes=3, shard=1, steps=40):
    return get_config("carracing", "ci").with_overrides(
        collect=dict(episodes=episodes, shard_episodes=shard, max_steps=steps, workers=1))


def test_shard_round_trip(artifacts):
    cfg = get_config("doom", "ci").with_overrides(collect=dict(episodes=3, shard_episodes=2, max_steps=80))
    ds = collect(cfg, workers=2, progress=False)
    assert ds.n_episodes == 3 and len(complete_shards(ds.root)) == 2
    again = RolloutDataset(ds.root)
    for i in range(3):
        ep = again.episode(i)
        n = len(ep)
        assert ep.frames.shape == (n, 64, 64, 3) and ep.frames.dtype == np.uint8
        assert ep.actions.shape == (n, 1) and ep.actions.dtype == np.float32
        assert ep.rewards.shape == ep.dones.shape == (n,)
        assert ep.dones[:-1].sum() == 0  # only the last step can end an episode
        assert isinstance(ep.frames, np.memmap)  # streamed, never loaded whole
    assert ds.n_frames == ds.lengths.sum() == again.frame_starts[-1]


def test_collection_is_reproducible_and_worker_count_free(artifacts, tmp_path):
    cfg = car_cfg(episodes=2)
    a = collect(cfg, workers=1, root=tmp_path / "a", progress=False)
    b = collect(cfg, workers=2, root=tmp_path / "b", progress=False)
    for i in range(2):
        assert np.array_equal(a.episode(i).frames, b.episode(i).frames)
        assert np.array_equal(a.episode(i).actions, b.episode(i).actions)


def test_car_data_is_drawn_by_the_chosen_renderer_and_never_mixed(artifacts, tmp_path):
    fast = collect(car_cfg(episodes=1), root=tmp_path / "d", progress=False)
    official = collect(car_cfg(episodes=1).with_overrides(collect=dict(renderer="gymnasium")),
                       root=tmp_path / "g", progress=False)
    a, b = fast.episode(0), official.episode(0)
    assert np.array_equal(a.actions, b.actions)  # same seed, same play: only the drawing differs
    diff = np.abs(a.frames.astype(int) - b.frames.astype(int))
    assert 0 < diff.mean() < 0.5  # two renderers, the same pixels within half a level
    # reading a finished folder under the other setting is fine; adding to it is not
    assert collect(car_cfg(episodes=1).with_overrides(collect=dict(renderer="gymnasium")),
                   root=tmp_path / "d", progress=False).n_episodes == 1
    with pytest.raises(ValueError, match="renderer.*mix"):
        collect(car_cfg(episodes=2).with_overrides(collect=dict(renderer="gymnasium")),
                root=tmp_path / "d", progress=False)
    assert len(complete_shards(tmp_path / "d")) == 1  # nothing lost
    with pytest.raises(ValueError, match="collect.renderer 'pretty'"):
        collect(car_cfg().with_overrides(collect=dict(renderer="pretty")), root=tmp_path / "x", progress=False)


def test_batches_cover_the_episodes_once(artifacts):
    cfg = get_config("doom", "ci").with_overrides(collect=dict(episodes=2, max_steps=60))
    ds = collect(cfg, progress=False)
    train, val = ds.split(1)
    assert list(train) == [0] and list(val) == [1]
    seen = np.concatenate(list(ds.iter_frame_batches(train, 16, rng=np.random.default_rng(0))))
    want = np.asarray(ds.episode(0).frames)
    assert len(seen) == len(want)
    # every frame arrives once, in some order: compare sorted per-frame sums
    assert np.array_equal(np.sort(seen.reshape(len(seen), -1).sum(1)), np.sort(want.reshape(len(want), -1).sum(1)))
    # resuming mid-epoch skips exactly the batches already seen
    full = list(ds.iter_frame_batches(train, 16, rng=np.random.default_rng(3)))
    tail = list(ds.iter_frame_batches(train, 16, rng=np.random.default_rng(3), start_batch=2))
    assert len(tail) == len(full) - 2 and np.array_equal(tail[0], full[2])


def test_resume_after_kill_keeps_completed_shards(artifacts, tmp_path):
    """SIGKILL a real collection, resume it, and get the same data as an uninterrupted run."""
    episodes = 10
    env = dict(os.environ, WM_ARTIFACTS=str(artifacts), WM_PROFILE="ci")
    cmd = [sys.executable, "-m", "wmlib", "collect", "carracing", "--episodes", str(episodes), "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = artifacts / "carracing" / "ci" / "data"
    deadline = time.time() + 120
    while time.time() < deadline and len(complete_shards(root)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_ino for p in complete_shards(root)}
    assert 0 < len(before) < episodes, "the kill should land mid-collection"

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = {p.name: p.stat().st_ino for p in complete_shards(root)}
    assert all(after[name] == ino for name, ino in before.items())  # never rewritten
    assert not list(root.glob(".tmp-*"))
    ds = RolloutDataset(root)
    assert list(ds.episode_ids) == list(range(episodes))

    ref = collect(get_config("carracing", "ci"), episodes=episodes, workers=2,
                  root=tmp_path / "ref", progress=False)
    for i in range(episodes):
        assert np.array_equal(ds.episode(i).frames, ref.episode(i).frames)


def test_more_episodes_extends_a_dataset(artifacts):
    cfg = car_cfg(episodes=2, shard=2)
    ds = collect(cfg, progress=False)
    first = complete_shards(ds.root)[0].stat().st_ino
    ds = collect(cfg, episodes=3, progress=False)
    assert ds.n_episodes == 3 and complete_shards(ds.root)[0].stat().st_ino == first


def test_plan_shards_groups_consecutive_runs():
    assert plan_shards([0, 1, 2, 3, 4], 2) == [[0, 1], [2, 3], [4]]
    assert plan_shards([0, 1, 5, 6, 7], 4) == [[0, 1], [5, 6, 7]]
    assert plan_shards([], 3) == []


def test_unknown_world(artifacts):
    with pytest.raises(ValueError, match="unknown world 'mario'"):
        get_config("mario", "ci")
    out = subprocess.run([sys.executable, "-m", "wmlib", "collect", "mario", "--profile", "ci"],
                         capture_output=True, text=True, env=dict(os.environ, WM_ARTIFACTS=str(artifacts)))
    assert out.returncode == 2 and "choose one of doom, carracing" in out.stderr
    assert "Traceback" not in out.stderr


def test_zero_episodes(artifacts):
    with pytest.raises(ValueError, match="episodes must be at least 1"):
        collect(car_cfg(), episodes=0, progress=False)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        collect(car_cfg(), workers=0, progress=False)


def test_unwritable_directory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")  # even root cannot create folders under a file
    monkeypatch.setenv("WM_ARTIFACTS", str(blocker / "artifacts"))
    with pytest.raises(PermissionError, match="point WM_ARTIFACTS"):
        collect(car_cfg(), progress=False)


def test_truncated_shard_is_a_clear_error_and_nothing_is_lost(artifacts):
    cfg = car_cfg(episodes=3)
    ds = collect(cfg, progress=False)
    shards = complete_shards(ds.root)
    victim = shards[1] / "frames.npy"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with pytest.raises(CorruptShardError, match=rf"{shards[1].name} is truncated.*delete the folder"):
        RolloutDataset(ds.root)
    with pytest.raises(CorruptShardError):
        collect(cfg, episodes=5, progress=False)  # refuses to build on it ...
    assert all(s.exists() for s in shards)        # ... and deletes nothing
    healthy = np.load(shards[0] / "frames.npy", mmap_mode="r")
    assert healthy.shape == (40, 64, 64, 3)


def test_dataset_settings_mismatch(artifacts):
    collect(car_cfg(episodes=1, steps=40), progress=False)
    with pytest.raises(ValueError, match="max_steps=40"):
        collect(car_cfg(episodes=1, steps=50), progress=False)


def test_the_baseline_plays_random_episodes_through_the_data_loop():
    """One single-episode loop: a baseline episode is play_episode's episode, without its arrays."""
    from wmlib.worlds.baseline import random_baseline
    from wmlib.worlds.data import collection_seed, play_episode
    from wmlib.worlds.envs import make_env
    from wmlib.worlds.policies import UniformRandomPolicy

    base = random_baseline("doom", episodes=2, seed=5, workers=1, max_steps=60)
    for i in range(2):
        seed = collection_seed(5, i)
        with make_env("doom", max_steps=60) as env:
            full = play_episode(env, UniformRandomPolicy("doom", np.random.default_rng(seed)), seed)
        assert full["length"] == len(full["rewards"]) == base["lengths"][i] <= 60
        assert full["ret"] == pytest.approx(float(full["rewards"].sum())) == pytest.approx(base["returns"][i])


def test_a_random_car_scores_the_same_on_either_renderer():
    """Baselines draw CarRacing with the fast renderer: a policy blind to pixels must not notice."""
    from wmlib.worlds.data import play_episode
    from wmlib.worlds.envs import make_env
    from wmlib.worlds.policies import UniformRandomPolicy

    got = {}
    for renderer in ("gymnasium", "fast"):
        with make_env("carracing", max_steps=120, renderer=renderer) as env:
            got[renderer] = play_episode(env, UniformRandomPolicy("carracing", np.random.default_rng(3)), 3,
                                         keep=False)
    assert got["gymnasium"] == got["fast"] and got["fast"]["length"] == 120
