"""The animated loop: traces of the agent in reality and in the dream, stepped stage by stage."""
import numpy as np
import pytest
import torch

from wmlib.agent.dream import DreamEnv
from wmlib.models.controller import Controller
from wmlib.models.mdnrnn import MDNRNN
from wmlib.models.vae import ConvVAE
from wmlib.book.widgets import LOOP_STAGES, AgentLoop, record_loop

Z, H = 8, 16


class TinyWorld:
    """A stand-in real world: frames get brighter with the gas; it ends after ``n`` steps."""

    def __init__(self, n=6):
        self.n = n

    def reset(self, seed=None):
        self.t = 0
        return np.zeros((64, 64, 3), np.uint8), {}

    def step(self, action):
        self.t += 1
        frame = np.full((64, 64, 3), min(255, 20 * self.t), np.uint8)
        return frame, 1.0, self.t >= self.n, False, {}


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    vae, m = ConvVAE(Z).eval(), MDNRNN(Z, 3, H).eval()
    c = Controller("carracing", Z, H).set_flat(np.random.default_rng(0).normal(size=(Z + H) * 3 + 3) * 0.3)
    return vae, m, c


def test_record_loop_in_reality_and_in_the_dream(parts):
    vae, m, c = parts
    real = record_loop(vae, m, c, 10, env=TinyWorld(6))
    assert real["kind"] == "reality" and real["world"] == "carracing"
    assert real["frames"].shape == (6, 64, 64, 3) and real["z"].shape == (6, Z) and real["h"].shape == (6, H)
    assert np.allclose(real["h"][0], 0) and not np.allclose(real["h"][1], 0)  # M's memory fills up
    np.testing.assert_allclose(real["actions"][2], c.act(real["z"][2], real["h"][2]), atol=1e-6)
    mu = np.random.default_rng(0).normal(size=(2, Z)).astype(np.float32)
    dream = record_loop(vae, m, c.get_flat(), 5, dream=DreamEnv(m, mu, np.zeros((2, Z), np.float32), vae=vae))
    assert dream["kind"] == "dream" and dream["z"].shape == (5, Z) and dream["actions"].shape == (5, 3)
    with pytest.raises(ValueError, match="exactly one"):
        record_loop(vae, m, c, 3)


def test_the_loop_steps_stage_by_stage_and_swaps_worlds(parts):
    vae, m, c = parts
    mu = np.random.default_rng(0).normal(size=(2, Z)).astype(np.float32)
    loop = AgentLoop(record_loop(vae, m, c, 4, env=TinyWorld(6)),
                     record_loop(vae, m, c, 4, dream=DreamEnv(m, mu, np.zeros((2, Z), np.float32), vae=vae)))
    assert loop.t == 0 and loop.stage == "frame" and loop.image.value[:4] == b"\x89PNG"
    seen = []
    for _ in range(len(LOOP_STAGES)):
        seen.append(loop.stage)
        before = loop.image.value
        loop.next_button.click()
        assert loop.image.value != before
    assert seen == list(LOOP_STAGES) and loop.t == 1 and "step 1" in loop.caption.value
    loop.play.value += 2  # Play's ticks
    assert loop.stage == LOOP_STAGES[2]
    picture = loop.image.value
    loop.kind.value = "dream"
    assert loop.image.value != picture and "V squeezes" not in loop.caption.value
    loop.play.value = 3
    assert "M samples the next z" in loop.caption.value


def test_the_loop_animates_for_the_book(parts):
    vae, m, c = parts
    loop = AgentLoop(record_loop(vae, m, c, 3, env=TinyWorld(6)))
    before = (loop.play.value, loop.image.value)
    frames = loop.book_frames(steps=1)
    assert len(frames) == len(LOOP_STAGES)  # one step, every stage lit in turn
    assert len({f.shape for f in frames}) == 1 and frames[0].dtype == np.uint8 and frames[0].ndim == 3
    assert not np.array_equal(frames[0], frames[1])
    assert (loop.play.value, loop.image.value) == before  # the widget itself did not move


# ----------------------------------------------------------------------------- two agents, one track

def fake_drive(length, shade, size=(96, 96)):
    rng = np.random.default_rng(shade)
    ramp = np.arange(length + 1, dtype=np.uint8)[:, None, None, None]  # frame t is brighter by t
    return dict(frames=np.full((length + 1, *size, 3), shade, np.uint8) + ramp,
                seen=rng.integers(0, 255, (length, 64, 64, 3), dtype=np.uint8),
                actions=np.tile(np.array([[0.5, 1.0, 0.0]], np.float32), (length, 1)),
                rewards=np.ones(length), ret=float(length), length=length, world="carracing", mode="zh")


def test_side_by_side_steps_both_agents_with_one_slider():
    from wmlib.book.widgets import SideBySide

    player = SideBySide({"V only": fake_drive(5, 40), "V + M": fake_drive(9, 120)})
    assert player.t == 0 and player.steps == 9 and player.slider.max == 9
    first = bytes(player.image.value)
    assert first[:4] == b"\x89PNG" and "V only" in player.caption.value and "V + M" in player.caption.value
    pic = player.picture()
    assert pic.shape == (96, 2 * 96 + SideBySide.GAP, 3)
    np.testing.assert_array_equal(pic[:, :96], 40)            # each agent's own frame, left to right
    np.testing.assert_array_equal(pic[:, -96:], 120)
    player.play.value = 3                                     # Play moves the slider, and both agents
    assert player.slider.value == 3 and bytes(player.image.value) != first
    assert player.returns() == {"V only": 3.0, "V + M": 3.0}
    assert player.picture()[0, 0, 0] == 43 and player.picture()[0, -1, 0] == 123
    player.slider.value = 8                                   # V only ended at step 5: its last frame, greyed
    assert player.returns() == {"V only": 5.0, "V + M": 8.0}
    assert "ended after 5 steps" in player.caption.value
    left = player.picture()[:, :96]
    assert not np.array_equal(left, np.full_like(left, 45)) and player.picture()[0, -1, 0] == 128


def test_side_by_side_shows_what_v_saw_and_animates_for_the_book(parts):
    from wmlib.book.widgets import SideBySide

    vae, _, _ = parts
    player = SideBySide({"a": fake_drive(30, 10), "b": fake_drive(12, 200)}, vaes={"a": vae, "b": vae})
    assert player.picture().shape == (2 * 96 + SideBySide.GAP, 2 * 96 + SideBySide.GAP, 3)  # frames, V's views
    assert "V made of" in player.caption.value
    frames = player.book_frames(max_frames=10)
    assert 10 <= len(frames) <= 12 and len({f.shape for f in frames}) == 1
    assert frames[0].shape == (96, 2 * 96 + SideBySide.GAP, 3)  # the animation leaves V's views out
    assert "the same track, left to right: a: 30 in 30 steps" in player.book_caption
    with pytest.raises(ValueError, match="at least one drive"):
        SideBySide({})


def test_record_drive_plays_both_agents_on_the_same_track(parts):
    from wmlib.agent.rollout import agent_spec
    from wmlib.book.widgets import SideBySide, record_drive, record_side_by_side

    vae, m, c = parts
    rng = np.random.default_rng(1)
    agents = {"V only": (agent_spec("carracing", "z", vae, None, 12, 1, renderer="fast"), rng.normal(size=Z * 3 + 3)),
              "V + M": (agent_spec("carracing", "zh", vae, m, 12, 1, renderer="fast"), c.get_flat())}
    drives = record_side_by_side(agents, seed=5)
    for d in drives.values():
        assert d["length"] == 12 and d["frames"].shape == (13, 96, 96, 3) and d["seen"].shape == (12, 64, 64, 3)
        assert d["actions"].shape == (12, 3) and d["rewards"].shape == (12,)
        assert d["ret"] == pytest.approx(d["rewards"].sum())
    np.testing.assert_array_equal(drives["V only"]["frames"][0], drives["V + M"]["frames"][0])  # one track
    player = SideBySide(drives)
    player.play.value = 12
    assert player.returns() == pytest.approx({k: d["ret"] for k, d in drives.items()})
    spec, params = agents["V + M"]
    more = record_drive(spec, params, 5, more_seeds=[6, 7])  # the same game again, and two more only scored
    assert more["games"]["seeds"] == [5, 6, 7] and len(more["games"]["returns"]) == 3
    assert more["ret"] == pytest.approx(drives["V + M"]["ret"]) and more["games"]["returns"][0] == more["ret"]
