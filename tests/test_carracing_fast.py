"""The fast CarRacing renderer draws gymnasium's pixels, and changes nothing else."""
import os

import gymnasium
import numpy as np
import pytest
from packaging.version import Version

from wmlib.worlds.carracing_fast import CHECKED_GYMNASIUM, FastCarRacing, follow_track, make_carracing

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _checked_version():
    lo, hi = (Version(v) for v in CHECKED_GYMNASIUM)
    installed = Version(gymnasium.__version__)
    assert lo <= installed < hi, (
        f"gymnasium {installed} is outside the range the fast CarRacing renderer was checked "
        f"against ({lo} <= v < {hi}). Its renderer may have changed: compare the pixels "
        f"(python benchmarks/carracing_render.py), fix wmlib/worlds/carracing_fast.py if they "
        f"differ, then widen CHECKED_GYMNASIUM.")


def _play_both(seed, steps, **kwargs):
    """Drive the same actions through both renderers; frames (2, T, 96, 96, 3) and the envs."""
    fast = FastCarRacing(renderer="fast", **kwargs)
    ref = FastCarRacing(renderer="gymnasium", **kwargs)
    frames = [[], []]
    obs = [fast.reset(seed=seed)[0], ref.reset(seed=seed)[0]]
    for t in range(steps):
        frames[0].append(obs[0])
        frames[1].append(obs[1])
        action = follow_track(ref)
        o0, r0, te0, tr0, _ = fast.step(action)
        o1, r1, te1, tr1, _ = ref.step(action)
        assert (r0, te0, tr0) == (r1, te1, tr1)  # physics and rewards are gymnasium's in both
        obs = [o0, o1]
        if te0:
            break
    return np.array(frames), fast, ref


def test_pixels_agree_with_gymnasium_zoom_in_and_visited_tiles():
    _checked_version()  # fails loudly on a gymnasium release nobody compared against
    frames, fast, ref = _play_both(seed=5, steps=110)
    assert fast.tile_visited_count > 20  # the car has driven over (and recoloured) tiles
    diff = np.abs(frames[0].astype(np.int16) - frames[1].astype(np.int16))
    zoom_in = diff[:50]  # the first second: the camera zooms in from the whole playfield
    assert frames[1].std() > 10 and frames[1][:, 84:].max() > 100  # real pictures, dashboard lit
    assert diff.mean() < 0.5, f"mean |difference| {diff.mean():.3f} / 255"  # the bar
    assert zoom_in.mean() < 0.5, f"zoom-in mean |difference| {zoom_in.mean():.3f} / 255"
    assert np.percentile(diff, 99) <= 6
    assert diff.reshape(len(diff), -1).mean(axis=1).max() < 1.0  # no single frame far off
    # Sharper, where it is drawn at gymnasium's own resolution (measured: 0.0008 and 0.2):
    # the dashboard (speed, ABS, steering, gyro, score), and the block around the car once
    # zoomed in. Stale tile colours give 1.5 there, the wheels' missing white patches 0.42.
    assert diff[:, 84:].mean() < 0.05
    fovea = diff[50:, 60:84, 36:60]
    assert fovea.mean() < 0.3, f"mean |difference| around the car {fovea.mean():.3f} / 255"


def test_pixels_agree_with_domain_randomized_colours():
    _checked_version()
    frames, _, _ = _play_both(seed=2, steps=60, domain_randomize=True)
    diff = np.abs(frames[0].astype(np.int16) - frames[1].astype(np.int16))
    assert diff.mean() < 0.5


def test_visited_tile_colours_are_read_live():
    env = FastCarRacing()
    env.reset(seed=0)
    for _ in range(60):
        obs, *_ = env.step(np.array([0.0, 0.0, 0.0], np.float32))

    def magenta(frame):  # smoothscale turns 255 into 253
        return ((frame[:84, :, 0] > 240) & (frame[:84, :, 1] < 10) & (frame[:84, :, 2] > 240)).sum()

    assert magenta(obs) == 0
    for tile in env.road:  # what the contact listener does to a visited tile, to every tile
        tile.color[:] = (255, 0, 255)
    obs, *_ = env.step(np.array([0.0, 0.0, 0.0], np.float32))
    assert magenta(obs) > 100


def test_gymnasium_renderer_is_gymnasium():
    ours = make_carracing("gymnasium", max_episode_steps=30)
    theirs = gymnasium.make("CarRacing-v3", max_episode_steps=30)
    a, _ = ours.reset(seed=3)
    b, _ = theirs.reset(seed=3)
    assert np.array_equal(a, b)
    for t in range(30):
        action = np.array([0.3, 0.6, 0.0], np.float32)
        a, ra, ta, ua, _ = ours.step(action)
        b, rb, tb, ub, _ = theirs.step(action)
        assert np.array_equal(a, b) and (ra, ta, ua) == (rb, tb, ub)
    assert ua and ub  # the same TimeLimit wrapper
    ours.close()
    theirs.close()


def test_fast_frames_are_seeded_and_writable():
    env = make_carracing("fast")
    runs = []
    for _ in range(2):
        obs, _ = env.reset(seed=11)
        for _ in range(20):
            obs, *_ = env.step(np.array([0.1, 0.5, 0.0], np.float32))
        runs.append(obs)
    assert runs[0].shape == (96, 96, 3) and runs[0].dtype == np.uint8
    assert np.array_equal(runs[0], runs[1])
    runs[0][0, 0] = 1  # a writable array, as gymnasium's is
    env.close()


def test_unknown_renderer_is_refused():
    with pytest.raises(ValueError, match="renderer"):
        FastCarRacing(renderer="opengl")


@pytest.mark.slow
def test_one_controller_scores_the_same_on_both_renderers(one_torch_thread):
    """Train fast, score true: the shipped V + M + C plays the same seeded episodes with each
    renderer, and its returns agree within noise (here, a couple of tiles at most)."""
    from wmlib.agent.rollout import EpisodeRunner, agent_spec, episode_seed
    from wmlib.book.pretrained import (load_shipped_controller_params, load_shipped_mdnrnn,
                                       load_shipped_vae)

    vae, m = load_shipped_vae("carracing"), load_shipped_mdnrnn("carracing")
    params = np.repeat(load_shipped_controller_params("carracing")[None], 2, axis=0)
    seeds = [episode_seed(7, 0, r) for r in range(2)]
    returns = {}
    for renderer in ("fast", "gymnasium"):
        runner = EpisodeRunner(agent_spec("carracing", "zh", vae, m, max_steps=100, lockstep=2,
                                          renderer=renderer))
        try:
            returns[renderer] = runner.run(params, seeds)["returns"]
        finally:
            runner.close()
    fast, true = returns["fast"], returns["gymnasium"]
    assert true.min() > 20  # the controller drives: 100 steps without a tile score -10; a tile ~3.4
    tile = 4.0  # a tile is worth 1000 / (tiles in the track), ~3-4 points; 2 episodes have no useful std
    assert np.abs(fast - true).max() <= 2 * tile, (fast, true)  # no episode differs by more than two tiles
    assert abs(fast.mean() - true.mean()) <= tile, (fast, true)  # and on average by at most one


def test_renderer_reaches_the_env_through_make_env_and_agent_spec():
    from wmlib.agent.rollout import EpisodeRunner, agent_spec
    from wmlib.models.vae import ConvVAE
    from wmlib.worlds.envs import make_env

    for renderer in ("fast", "gymnasium"):
        env = make_env("carracing", max_steps=5, renderer=renderer)
        assert env.env.unwrapped.renderer == renderer
        env.close()
    assert make_env("carracing").env.unwrapped.renderer == "gymnasium"  # scores: official pixels
    vae = ConvVAE(32)
    assert agent_spec("carracing", "z", vae)["renderer"] == "gymnasium"
    spec = agent_spec("carracing", "z", vae, renderer="fast")
    runner = EpisodeRunner(spec)
    assert runner._env(0).env.unwrapped.renderer == "fast"
    runner.close()
    with pytest.raises(ValueError, match="renderer"):
        agent_spec("carracing", "z", vae, renderer="opengl")


def test_evolution_trains_fast_and_evaluate_scores_true():
    from wmlib.config import get_config

    assert get_config("carracing", "laptop").evolution.renderer == "fast"
    import inspect

    from wmlib.training import controller

    # evaluate_controller and record_episode build their spec without a renderer: gymnasium's
    assert inspect.signature(controller.build_spec).parameters["renderer"].default == "gymnasium"
    assert "build_spec(cfg, mode, cfg.evolution.renderer)" in inspect.getsource(controller.train_controller)


# -- the rollout pool at the new pace: the agent's per-step inference, made cheaper, is unchanged

def test_mean_encoder_is_vs_mean_code():
    import torch

    from wmlib.agent.rollout import mean_encoder
    from wmlib.models.vae import ConvVAE

    torch.manual_seed(0)
    vae = ConvVAE(32).eval()
    encode = mean_encoder(vae)
    for batch in (1, 5):
        x = torch.rand(batch, 3, 64, 64)
        with torch.no_grad():
            assert torch.allclose(encode(x), vae.encode(x)[0], atol=1e-5)


@pytest.mark.parametrize("done_head", [False, True])
def test_mdnrnn_advance_is_steps_state(done_head):
    import torch

    from wmlib.models.mdnrnn import MDNRNN

    torch.manual_seed(0)
    m = MDNRNN(32, 3, 64, 5, done_head=done_head).eval()
    z, a = torch.randn(4, 32), torch.randn(4, 3)
    state = tuple(torch.randn(1, 4, 64) for _ in range(2))
    restart = torch.tensor([1.0, 0.0, 0.0, 1.0]) if done_head else None
    with torch.no_grad():
        _, _, want = m.step(z, a, state, restart)
        got = m.advance(z, a, state, restart)
    for g, w in zip(got, want):
        assert g.shape == w.shape == (1, 4, 64)
        assert torch.allclose(g, w, atol=1e-5)
