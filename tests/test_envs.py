import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from wmlib.worlds.envs import doom_action_to_buttons, make_env, preprocess_car
from wmlib.worlds.policies import CarRandomWalkPolicy, DoomRandomPolicy, UniformRandomPolicy


@pytest.mark.parametrize("world", ["doom", "carracing"])
def test_check_env(world):
    env = make_env(world, max_steps=50)
    check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("world", ["doom", "carracing"])
def test_frames_are_64x64_uint8_and_seeded(world):
    env = make_env(world, max_steps=40)
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=7)
        frames = [obs]
        for t in range(25):
            action = env.action_space.sample() * 0 + (0.6 if world == "doom" else np.array([0.3, 0.5, 0.0]))
            obs, reward, terminated, truncated, _ = env.step(action)
            frames.append(obs)
            if terminated or truncated:
                break
        runs.append(np.stack(frames))
    assert runs[0].shape[1:] == (64, 64, 3) and runs[0].dtype == np.uint8
    assert np.array_equal(runs[0], runs[1])
    assert runs[0].std() > 5  # a real picture, not a blank
    env.close()


def test_seeds_give_different_episodes():
    env = make_env("carracing")
    a, _ = env.reset(seed=1)
    for _ in range(60):  # past the opening zoom, the tracks differ
        a, *_ = env.step(np.array([0.0, 0.0, 0.0]))
    b, _ = env.reset(seed=2)
    for _ in range(60):
        b, *_ = env.step(np.array([0.0, 0.0, 0.0]))
    assert not np.array_equal(a, b)
    env.close()


def test_car_crop_drops_dashboard():
    frame = np.zeros((96, 96, 3), np.uint8)
    frame[84:] = 255  # only the dashboard is white
    assert preprocess_car(frame).max() == 0


def test_doom_action_thresholds():
    assert doom_action_to_buttons(-1.0) == [1, 0]
    assert doom_action_to_buttons(-0.34) == [1, 0]
    assert doom_action_to_buttons(-0.33) == [0, 0]
    assert doom_action_to_buttons(0.0) == [0, 0]
    assert doom_action_to_buttons(0.33) == [0, 0]
    assert doom_action_to_buttons(0.34) == [0, 1]


def test_doom_cap_truncates_not_terminates():
    env = make_env("doom", max_steps=30)
    env.reset(seed=0)
    for t in range(30):
        _, reward, terminated, truncated, _ = env.step(np.array([0.0]))
        assert reward == 1.0
        if terminated or truncated:
            break
    assert truncated and not terminated and t == 29
    env.close()


def test_doom_random_policy_holds_actions():
    pol = DoomRandomPolicy(np.random.default_rng(0))
    actions = np.array([pol()[0] for _ in range(2000)])
    assert actions.min() >= -1 and actions.max() <= 1
    changes = np.flatnonzero(np.diff(actions) != 0) + 1
    runs = np.diff(np.concatenate([[0], changes, [len(actions)]]))
    assert runs[:-1].min() >= 1 and runs.max() <= 10
    assert 4.5 < runs[:-1].mean() < 6.5  # uniform 1..10 has mean 5.5


def test_car_policy_stays_in_action_space():
    env = make_env("carracing")
    pol = CarRandomWalkPolicy(np.random.default_rng(0))
    acts = np.stack([pol() for _ in range(1000)])
    assert all(env.action_space.contains(a) for a in acts)
    assert acts[:, 0].min() < -0.3 and acts[:, 0].max() > 0.3  # turns both ways
    assert np.abs(np.diff(acts[:, 0])).mean() < 0.4  # smooth, not white noise
    env.close()


def test_uniform_policy_ranges():
    doom = UniformRandomPolicy("doom", np.random.default_rng(0))
    car = UniformRandomPolicy("carracing", np.random.default_rng(0))
    d = np.stack([doom() for _ in range(500)])
    c = np.stack([car() for _ in range(500)])
    assert d.shape == (500, 1) and -1 <= d.min() < -0.9 and 0.9 < d.max() <= 1
    assert c.shape == (500, 3) and c[:, 1:].min() >= 0


def test_unknown_world_is_clear():
    with pytest.raises(ValueError, match="choose one of doom, carracing"):
        make_env("pong")
