"""Playing in the dream: a click steps M, redraws V's frame, shows the death probability, ends and restarts."""
import numpy as np
import pytest
import torch

from wmlib.agent.dream import DreamEnv
from wmlib.models.mdnrnn import MDNRNN
from wmlib.models.vae import ConvVAE
from wmlib.book.widgets import DreamPlayer

Z, H = 8, 16


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return ConvVAE(Z).eval()


def dream(vae, done_bias=-20.0, max_steps=50):
    torch.manual_seed(1)
    m = MDNRNN(Z, 1, H, done_head=True).eval()
    with torch.no_grad():
        m.done.weight.zero_()
        m.done.bias.fill_(done_bias)
    mu = np.random.default_rng(0).normal(size=(3, Z)).astype(np.float32) * 2
    return DreamEnv(m, mu, np.full((3, Z), -2.0, np.float32), tau=1.15, max_steps=max_steps, vae=vae)


def png(player):
    return bytes(player.image.value)


def test_a_click_steps_the_dream_and_redraws(vae):
    player = DreamPlayer(dream(vae, done_bias=-1.0))
    assert player.steps == 0 and not player.ended and png(player)[:4] == b"\x89PNG"
    before, code = png(player), player.env.z.clone()
    player.buttons["left"].click()
    assert player.steps == 1 and not torch.equal(player.env.z, code)
    assert png(player) != before
    p = 1 / (1 + np.exp(1.0))  # sigmoid(-1): the done head is pinned
    assert player.done_prob == pytest.approx(p, abs=1e-5) and player.death.value == pytest.approx(p, abs=1e-5)
    assert "step 1" in player.status.value and "0.269" in player.status.value
    for name in ("stay", "right"):
        player.buttons[name].click()
    assert player.steps == 3 and len(player.probs) == 3


def test_death_ends_the_dream_and_a_click_starts_another(vae):
    player = DreamPlayer(dream(vae, done_bias=20.0))
    player.buttons["stay"].click()
    assert player.ended and player.died and player.steps == 1
    assert player.death.value > 0.99 and player.death.bar_style == "danger"
    assert "died" in player.status.value
    last = png(player)
    player.buttons["left"].click()  # after the end: a new dream, not a step
    assert player.dreams == 2 and player.steps == 0 and not player.ended and player.probs == []
    assert png(player) != last and "dream 2, step 0" in player.status.value


def test_the_cap_ends_a_dream_without_a_death(vae):
    player = DreamPlayer(dream(vae, max_steps=2))
    player.buttons["right"].click()
    player.buttons["right"].click()
    assert player.ended and not player.died and "survived" in player.status.value
    player.new_button.click()
    assert player.steps == 0 and not player.ended


def test_the_player_needs_v_and_doom(vae):
    env = dream(vae)
    with pytest.raises(ValueError, match="vae=load_vae"):
        DreamPlayer(DreamEnv(env.m, env.first_mu.numpy(), env.first_logvar.numpy()))
    with pytest.raises(ValueError, match="unknown action"):
        DreamPlayer(env).step("jump")
