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
