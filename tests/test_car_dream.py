"""The car in its own dream: M's reward head, its (pessimistic) loss, the dream that pays it, and the command.

The reward head's loss is checked against numbers worked by hand; the dream's return against the plain
loop of ``agent/loop.py`` (as ``test_loop.py`` does for Doom) and against a head whose every prediction
is known; Doom keeps its M, its keys and its +1 per step. The command runs end to end at ci on a car
root built here, and an M without the head is refused with the fix.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import wmlib.training.mdnrnn as tm
from wmlib import paths
from wmlib.agent.dream import DreamEnv, bits_to_uniform, dream_rollouts, episode_keys, episode_words, noise_bits, \
    play_dream
from wmlib.agent.loop import dream_episode
from wmlib.artifacts import read_json, write_json
from wmlib.config import apply_recipe, get_config
from wmlib.models.controller import Controller, param_count
from wmlib.models.mdnrnn import MDNRNN, mixture_nll, reward_loss
from wmlib.training.series import SeriesWriter
from wmlib.worlds.data import write_shard

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "experiments" / "recipes" / "carracing-dream.toml"
Z, H = 4, 16
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- the loss

def test_the_reward_loss_by_hand():
    pred, target = torch.tensor([1.0, -1.0, 0.5, 2.0]), torch.tensor([0.0, 0.0, 0.5, 1.5])
    # errors +1 (over), -1 (under), 0, +0.5 (over): squared 1, 1, 0, 0.25; over-predictions x3
    torch.testing.assert_close(reward_loss(pred, target, 3.0), torch.tensor([3.0, 1.0, 0.0, 0.75]))
    torch.testing.assert_close(reward_loss(pred, target, 1.0), torch.tensor([1.0, 1.0, 0.0, 0.25]))
    with pytest.raises(ValueError, match="pessimism must be >= 1"):
        reward_loss(pred, target, 0.5)


@pytest.mark.parametrize("k", [1.0, 5.0])
def test_over_prediction_costs_k_times_under_prediction(k):
    target = torch.tensor([0.3, -0.1, 3.2])
    for d in (0.01, 0.7, 4.0):
        over, under = reward_loss(target + d, target, k), reward_loss(target - d, target, k)
        torch.testing.assert_close(over / under, torch.full((3,), k))


def test_a_pessimistic_head_aims_below_the_mean_at_the_expectile():
    """The best constant under the k-weighted loss is the 1 / (1 + k) expectile e, which solves
    tau * sum_{r > e} (r - e) = (1 - tau) * sum_{r < e} (e - r); with k = 1, the mean."""
    rewards = torch.tensor([-0.1] * 9 + [3.2], dtype=torch.float64)  # the car: most steps -0.1, a tile +3.2
    grid = torch.linspace(-0.2, 0.4, 60001, dtype=torch.float64)
    best = lambda k: grid[reward_loss(grid[:, None], rewards, k).mean(1).argmin()].item()
    assert best(1.0) == pytest.approx(0.23, abs=1e-4)  # the mean reward
    # k = 5, tau = 1/6: 1/6 (3.2 - e) 0.1 = 5/6 (e + 0.1) 0.9  ->  e = (0.05333 - 0.075) / (0.75 + 0.01667) = -0.0283
    assert best(5.0) == pytest.approx((0.0533333 - 0.075) / (0.75 + 0.0166667), abs=1e-4)
    assert best(5.0) < 0 < best(1.0)


def car_m(reward=True, seed=0, **kw):
    torch.manual_seed(seed)
    return MDNRNN(Z, 3, H, reward_head=reward, **kw)


def test_m_loss_adds_the_reward_loss_over_valid_steps(artifacts):
    """m_loss = the masked mixture NLL + sum over valid steps of w (pred - r)^2 / valid steps, w = k if over."""
    m = car_m()
    with torch.no_grad():
        m.reward.bias.fill_(0.2)
    gen = torch.Generator().manual_seed(0)
    B, T = 3, 7
    valid = torch.ones(B, T)
    valid[1, 5:] = 0  # padding
    t = dict(z=torch.randn(B, T, Z, generator=gen), z_next=torch.randn(B, T, Z, generator=gen),
             a=torch.rand(B, T, 3, generator=gen), done=torch.zeros(B, T), restart=torch.zeros(B, T),
             z_mask=valid.clone(), valid=valid, reward=torch.randn(B, T, generator=gen))
    t["restart"][:, 0] = 1
    k = 4.0
    loss, parts, _ = tm.m_loss(m, t, None, 10.0, "cpu", reward_pessimism=k)
    with torch.no_grad():
        mix, _, _ = m(t["z"], t["a"], restart=t["restart"])
        nll = mixture_nll(*mix, t["z_next"]).mean(-1)
        z_loss = (nll * valid).sum() / valid.sum()
        out, _ = m.lstm(m._inputs(t["z"], t["a"], None))  # the LSTM's outputs, read out by hand
        pred = out @ m.reward.weight[0] + m.reward.bias[0]
        err = pred - t["reward"]
        by_hand = (torch.where(err > 0, k, 1.0) * err ** 2 * valid).sum() / valid.sum()
    torch.testing.assert_close(parts["reward_loss"], by_hand)
    torch.testing.assert_close(loss, z_loss + by_hand)
    assert "reward_loss" not in tm.m_loss(car_m(reward=False), t, None, 10.0, "cpu")[1]


# ----------------------------------------------------------------------------- Doom unchanged

def test_without_the_head_m_is_the_papers():
    """No reward head: the same weights from the same seed, the same arch, the same stage key fields."""
    torch.manual_seed(3)
    plain = MDNRNN(Z, 1, H, done_head=True)
    torch.manual_seed(3)
    headed = MDNRNN(Z, 1, H, done_head=True, reward_head=True)
    extra = {k: v for k, v in headed.state_dict().items() if k not in plain.state_dict()}
    assert set(extra) == {"reward.weight", "reward.bias"}
    for k, v in plain.state_dict().items():
        torch.testing.assert_close(headed.state_dict()[k], v, rtol=0, atol=0)
    assert "reward_head" not in plain.arch() and headed.arch()["reward_head"] is True
    assert MDNRNN(**headed.arch()).has_reward
    assert plain.n_params == headed.n_params - (H + 1)
    doom = get_config("doom", "laptop")
    assert not any("reward" in k for k in tm.mdnrnn_stage(doom).fields)
    car = apply_recipe(get_config("carracing", "laptop"), RECIPE)
    assert tm.mdnrnn_stage(car).fields["mdnrnn.reward_head"] is True
    assert tm.mdnrnn_stage(car).fields["mdnrnn.reward_pessimism"] == 5.0


# ----------------------------------------------------------------------------- the dream pays M's reward

def shared_noise(key: int):
    words = torch.tensor([episode_words(key)], dtype=torch.int64)
    return lambda t: bits_to_uniform(noise_bits(words, torch.tensor([t]), 2 * Z + 1))[0, 0]


def car_population(P=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.5, size=(P, param_count("carracing", Z, H, "zh"))).astype(np.float32)


def first_codes(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, Z)).astype(np.float32), np.full((n, Z), -1.0, np.float32)


@pytest.mark.parametrize("tau", [1.0, 0.0])
def test_the_batched_car_dream_pays_what_the_plain_loop_pays(tau):
    m, params, (mu, logvar) = car_m().eval(), car_population(), first_codes()
    P, R, CAP, seed = 2, 3, 40, 11
    batched = dream_rollouts(m, "carracing", params, mu, logvar, R, tau, CAP, seed)
    env = DreamEnv(m, mu, logvar, tau, CAP)
    keys = episode_keys(seed, P, R)
    for p in range(P):
        ctrl = Controller("carracing", Z, H, "zh").set_flat(params[p])
        for r in range(R):
            key = int(keys[p, r])
            obs, _ = env.reset(seed=key)
            ref = dream_episode(m, ctrl, torch.from_numpy(env.split_obs(obs)[0])[None], tau, CAP,
                                noise=shared_noise(key))
            assert ref["steps"] == CAP  # the car's M has no done head: every dream runs to the cap
            assert ref["ret"] == pytest.approx(float(np.sum(ref["rewards"])))
            assert batched[p, r] == pytest.approx(ref["ret"], rel=1e-5, abs=1e-5), (p, r)
            assert play_dream(env, ctrl, key) == pytest.approx(ref["ret"], rel=1e-5, abs=1e-5)
    assert len(np.unique(np.round(batched, 4))) == P * R  # each dream earned its own return, not the step count
    assert not np.allclose(batched, CAP)


def test_a_known_reward_head_gives_a_known_return():
    """A head that always predicts 0.25: every dream earns 0.25 per step (Doom's +1 would give the cap)."""
    m = car_m().eval()
    with torch.no_grad():
        m.reward.weight.zero_()
        m.reward.bias.fill_(0.25)
    mu, logvar = first_codes()
    got = dream_rollouts(m, "carracing", car_population(), mu, logvar, 2, 1.0, 30, 0, chunk=7)
    np.testing.assert_allclose(got, 0.25 * 30, rtol=1e-6)


def test_the_car_dream_from_recorded_starts_agrees_one_at_a_time():
    m, params, (mu, logvar) = car_m().eval(), car_population(), first_codes()
    rng = np.random.default_rng(2)
    starts = (rng.normal(size=(5, H)).astype(np.float32) * 0.3, rng.normal(size=(5, H)).astype(np.float32),
              np.array([1, 0, 0, 0, 0], np.float32))
    batched = dream_rollouts(m, "carracing", params, mu, logvar, 2, 1.0, 25, 4, start_state=starts)
    env = DreamEnv(m, mu, logvar, 1.0, 25, start_state=starts)
    keys = episode_keys(4, 2, 2)
    for p in range(2):
        ctrl = Controller("carracing", Z, H, "zh").set_flat(params[p])
        for r in range(2):
            assert batched[p, r] == pytest.approx(play_dream(env, ctrl, int(keys[p, r])), rel=1e-5, abs=1e-5)


def test_doom_dreams_still_pay_one_per_step():
    torch.manual_seed(0)
    m = MDNRNN(Z, 1, H, done_head=True).eval()
    with torch.no_grad():
        m.done.weight.mul_(40.0)
        m.done.bias.fill_(-3.0)
    mu, logvar = first_codes()
    params = np.random.default_rng(0).normal(scale=0.5, size=(2, param_count("doom", Z, H, "zh")))
    got = dream_rollouts(m, "doom", params, mu, logvar, 3, 1.0, 60, 5)
    assert np.array_equal(got, np.round(got)) and got.min() < 60  # steps survived, some ended by M
    env = DreamEnv(m, mu, logvar, 1.0, 60)
    env.reset(seed=1)
    assert env.step(np.zeros(1, np.float32))[1] == 1.0


# ----------------------------------------------------------------------------- training, and the command

def car_series(cfg, lengths=(40, 55, 35, 50), seed=0):
    """A tiny car dataset and series: z' = 0.8 z + a[0]; the reward is 2 a[1] - 0.1 plus a little noise."""
    rng = np.random.default_rng(seed)
    root = paths.data_dir(cfg)
    write_json(root / "dataset.json", dict(world=cfg.world, frame_shape=[64, 64, 3], action_size=3,
                                           seed=cfg.collect.seed, max_steps=cfg.collect.max_steps))
    mus = []
    for i, n in enumerate(lengths):
        a = rng.uniform(0, 1, (n, 3)).astype(np.float32)
        z = np.zeros((n, Z), np.float32)
        z[0] = rng.normal(size=Z)
        for t in range(n - 1):
            z[t + 1] = 0.8 * z[t] + a[t, 0] + 0.05 * rng.normal(size=Z)
        rewards = (2 * a[:, 1] - 0.1 + 0.1 * rng.normal(size=n)).astype(np.float32)
        write_shard(root, [i], [dict(frames=np.zeros((n, 64, 64, 3), np.uint8), actions=a, rewards=rewards,
                                     dones=np.zeros(n, bool))], cfg.world)
        mus.append(z)
    mu = np.concatenate(mus)
    w = SeriesWriter(paths.series_dir(cfg), len(mu), len(lengths), Z)
    w.write(0, mu, np.full_like(mu, np.log(0.01 ** 2)))
    w.commit(np.concatenate([[0], np.cumsum(lengths)]), synthetic=True)


def test_m_learns_the_reward_and_pessimism_lowers_it(artifacts, tmp_path, monkeypatch):
    res = {}
    for k in (1.0, 5.0):
        monkeypatch.setenv("WM_ARTIFACTS", str(tmp_path / f"k{k:g}"))
        cfg = get_config("carracing", "ci").with_overrides(
            vae=dict(z_size=Z), mdnrnn=dict(hidden=H, seq_len=16, batch_size=4, epochs=30, lr=1e-2, val_episodes=1,
                                            reward_head=True, reward_pessimism=k))
        car_series(cfg, lengths=(60,) * 10)
        tm.train_mdnrnn(cfg, progress=False)
        res[k] = tm.evaluate_mdnrnn(cfg)
        assert tm.load_mdnrnn(cfg).has_reward
        key = read_json(paths.mdnrnn_dir(cfg) / "stage.json")["settings"]  # a knob at its default is left out
        assert key["mdnrnn.reward_head"] is True and key.get("mdnrnn.reward_pessimism", 1.0) == k
    assert res[1.0]["reward_mse"] < 0.6 * res[1.0]["reward_baseline_mse"]  # it reads the action's reward
    assert res[5.0]["reward_pred_mean"] < res[1.0]["reward_pred_mean"] - 0.05  # and aims lower when pessimistic
    assert "reward head: squared error" in tm.format_evaluation(res[1.0])


@pytest.fixture(scope="module")
def car_root(tmp_path_factory):
    """A real car root at ci: random play, V, the series, and M both ways (with and without the head)."""
    from wmlib.training.vae import encode_dataset, train_vae
    from wmlib.worlds.data import collect

    roots = {}
    for name, recipe in (("dream", True), ("plain", False)):
        cfg = get_config("carracing", "ci", str(tmp_path_factory.mktemp(name)))
        cfg = apply_recipe(cfg, RECIPE) if recipe else cfg
        collect(cfg, workers=1, progress=False)
        train_vae(cfg, progress=False)
        encode_dataset(cfg, progress=False)
        tm.train_mdnrnn(cfg, progress=False)
        roots[name] = cfg
    return roots


def test_train_in_dream_carracing_runs_end_to_end_at_ci(car_root):
    cfg = car_root["dream"]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "wmlib", "train-in-dream", "carracing", "--profile", "ci", "--recipe", str(RECIPE),
           "--artifacts", cfg.artifacts, "--backend", "serial"]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "carracing C (deployed) trained in the dream at tau 1" in out.stdout and "paper at" not in out.stdout
    score = read_json(paths.dream_score(cfg, 1.0, "deployed"))
    assert score["real"]["episodes"] == cfg.dream.real_episodes and score["dream"]["episodes"] == cfg.dream.dream_episodes
    assert score["paper"] is None
    assert score["key"]["dream_settings"]["start_from"] == "anywhere"  # the recipe's recorded starts
    dream = np.asarray(score["dream"]["returns"])
    assert not np.array_equal(dream, np.round(dream))  # M's predicted rewards, not steps survived
    # the real tracks: the car's own rewards (-0.1 a step, more per tile), at most the cap's steps
    assert all(n <= cfg.dream.max_steps for n in score["real"]["lengths"])
    assert all(r > -0.1 * cfg.dream.max_steps - 1e-6 for r in score["real"]["returns"])


def test_an_iterative_round_of_the_car_learns_from_its_own_tracks(car_root):
    """`iterate carracing` with the dream recipe: round 0's C drives real tracks, their rewards join M's data,
    M (with its reward head) is fine-tuned and C re-evolved in the new dream; M is judged without a done head."""
    from wmlib.models.mdnrnn import MDNRNN
    from wmlib.artifacts import load_checkpoint
    from wmlib.training.dream import evaluate_in_reality, train_in_dream
    from wmlib.training.iterate import iterate
    from wmlib.worlds.data import RolloutDataset

    cfg = car_root["dream"]
    train_in_dream(cfg, progress=False)  # round 0's C (reused when the CLI test made it)
    deployed = evaluate_in_reality(cfg, backend="serial")  # what the pipeline scores it with
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "wmlib", "iterate", "carracing", "--profile", "ci", "--recipe", str(RECIPE),
           "--artifacts", cfg.artifacts, "--rounds", "1"]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    played = [line for line in out.stdout.splitlines() if "real games:" in line]
    assert len(played) == 1 and "the track's return" in played[0] and "steps" not in played[0]
    rows = read_json(paths.rounds_table(cfg))
    base = int(tm.Transitions.load(cfg).lengths.size)
    assert [r["round"] for r in rows] == [0, 1] and rows[1]["episodes"] == base + cfg.iterate.episodes
    round0 = read_json(paths.round_score(cfg, 0))  # the pipeline's score of that C on the same games, not replayed
    assert round0["reused"] == "score-deployed.json" and round0["real"] == deployed["real"]
    judged = rows[1]["new_m_heldout"]
    assert judged["done_recall"] is None and judged["deaths"] is None  # no done head: nothing to recall
    assert judged["reward_mse"] >= 0 and np.isfinite(judged["nll"])
    games = RolloutDataset(paths.iterate_data_dir(cfg))
    rewards = np.concatenate([games.episode(i).rewards for i in range(len(games))])
    assert rewards.std() > 0  # the car's own per-step rewards, what the reward head learns from
    m0, m1 = tm.load_mdnrnn(cfg), MDNRNN.from_checkpoint(load_checkpoint(paths.round_mdnrnn(cfg, 1)))
    assert m1.has_reward and not torch.equal(m0.reward.weight, m1.reward.weight)
    with pytest.raises(ValueError, match="reward head.*carracing-dream.toml"):
        iterate(car_root["plain"], rounds=1, progress=False)


def test_the_reward_trace_along_a_real_track_is_ms_prediction_step_by_step(car_root):
    """real_reward_trace: the game's reward of each step, and the reward M predicts for it, reading the codes
    and actions of that track one step at a time (what the car's dream would pay)."""
    from wmlib.agent.episode import EpisodeRunner
    from wmlib.training.dream import real_reward_trace, real_spec
    from wmlib.models.vae import frames_to_tensor
    from wmlib.training.vae import load_vae

    cfg = car_root["dream"]
    assert cfg.dream.real_z == "mean"
    params = np.random.default_rng(3).normal(size=param_count("carracing", cfg.vae.z_size, cfg.mdnrnn.hidden)) * 0.5
    trace = real_reward_trace(cfg, params, seed=11)
    with EpisodeRunner(real_spec(cfg)) as runner:
        game = runner.run(params[None], [11], keep=True)
    ep = game["episodes"][0]
    assert trace["steps"] == len(trace["real"]) == len(trace["predicted"]) == len(ep["actions"])
    np.testing.assert_allclose(trace["real"], ep["rewards"], atol=1e-5)
    assert trace["real_return"] == pytest.approx(float(game["returns"][0]), abs=1e-4)
    m, vae = tm.load_mdnrnn(cfg), load_vae(cfg)
    state, predicted = None, []
    with torch.no_grad():
        for frame, a in zip(ep["frames"], ep["actions"]):
            z = vae.encode(frames_to_tensor(frame))[0]  # V's mean code, as the car reads it (real_z mean)
            _, _, state = m.step(z, torch.from_numpy(a)[None], state)
            predicted.append(float(m.predict_reward(state[0][0])[0]))
    np.testing.assert_allclose(trace["predicted"], predicted, atol=1e-4)
    assert trace["predicted_return"] == pytest.approx(sum(predicted), abs=1e-3)
    with pytest.raises(ValueError, match="no reward head.*carracing-dream.toml"):
        real_reward_trace(car_root["plain"], params)


def test_a_reward_head_config_on_an_m_without_one_names_the_fix(car_root):
    from wmlib.training.dream import train_in_dream
    from wmlib.training.stages import StageChanged

    plain = car_root["plain"]
    wants = apply_recipe(plain, RECIPE)
    with pytest.raises(ValueError, match=r"reward_head=true.*trained without one.*--recipe "
                                         r"experiments/recipes/carracing-dream.toml --artifacts"):
        tm.load_mdnrnn(wants)
    with pytest.raises(StageChanged, match=r"mdnrnn.reward_head.*config now says True.*another WM_ARTIFACTS"):
        tm.train_mdnrnn(wants, progress=False)
    with pytest.raises(StageChanged, match=r"mdnrnn.reward_head"):
        train_in_dream(wants, progress=False)
    with pytest.raises(ValueError, match="reward head.*carracing-dream.toml.*train-controller carracing"):
        train_in_dream(plain, progress=False)


def test_the_measuring_script_gathers_seeds_and_the_random_policy(car_root, tmp_path):
    """experiments/car_dream.py at ci: M with the head trained beside a plain root (only read), two seeds."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("car_dream", ROOT / "experiments" / "car_dream.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    source = car_root["plain"]
    before = sorted(p.name for p in paths.run_dir(source).iterdir())
    record = script.main([source.artifacts, "--profile", "ci", "--seeds", "0", "1", "--episodes", "2",
                          "--out", str(tmp_path / "out"), "--workers", "1", "--backend", "serial", "--rounds", "1"])
    saved = read_json(tmp_path / "out" / "car_dream.json")
    assert saved["seeds"] == record["seeds"] and saved["random"] == record["random"]
    assert [s["seed"] for s in record["seeds"]] == [0, 1] and record["random"]["episodes"] == 2
    assert record["mdnrnn"]["reward_head"] is True and record["m"]["reward_mse"] >= 0
    for s in record["seeds"]:
        assert s["real"]["episodes"] == 2 and s["dream"]["episodes"] == 2 and len(s["real_returns"]) == 2
    assert record["seeds"][0]["dream"] != record["seeds"][1]["dream"]  # two CMA-ES seeds, two Cs
    tr = record["trace"]  # seed 0's C on the first official track: the game's reward and M's, per step
    assert tr["seed"] == 0 and len(tr["real"]) == len(tr["predicted"]) == tr["steps"] >= 1
    assert tr["real_return"] == pytest.approx(record["seeds"][0]["real_returns"][0], abs=1e-3)
    assert saved["trace"]["predicted"] == tr["predicted"]
    for s in record["seeds"]:  # one iterative round each, its C scored on as many tracks as round 0's
        (row,) = s["rounds"]
        assert row["round"] == 1 and row["real"]["episodes"] == 2 and row["new_m_heldout"]["reward_mse"] >= 0
    assert set(record["mean_over_seeds"]["round_1"]) == {"dream", "real"}
    assert sorted(p.name for p in paths.run_dir(source).iterdir()) == before  # the source is only read
