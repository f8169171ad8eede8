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


# ----------------------------------------------------------------------------- autopilot, Play, tau, the car

def test_autopilot_drives_when_playing_and_you_can_take_over(vae):
    env = dream(vae, done_bias=-20.0, max_steps=100)
    from wmlib.models.controller import Controller

    c = Controller("doom", env.z_size, env.hidden).set_flat(np.full(env.z_size + 2 * env.hidden, 0.5))
    player = DreamPlayer(env, controller=c.get_flat(), override_steps=3)
    assert player.autopilot.value and not player.autopilot.disabled
    for _ in range(4):
        player.play.value += 1  # what the Play button does, tick by tick
    assert player.steps == 4 and player.drivers == ["C"] * 4
    assert "autopilot (C)" in player.status.value
    player.buttons["right"].click()  # you take the wheel ...
    assert player.drivers[-1] == "you" and player.last_action[0] == 1.0 and player.override == 3
    for _ in range(3):
        player.play.value += 1       # ... for override_steps ticks, holding your choice
    assert player.drivers[-3:] == ["you"] * 3 and player.override == 0
    player.play.value += 1           # then C drives again
    assert player.drivers[-1] == "C"
    player.autopilot.value = False   # autopilot off: Play repeats your last choice
    player.play.value += 1
    assert player.drivers[-1] == "you" and player.last_action[0] == 1.0


def test_the_autopilot_acts_as_the_controller_does(vae):
    from wmlib.models.controller import Controller

    env = dream(vae, done_bias=-20.0)
    rng = np.random.default_rng(3)
    c = Controller("doom", env.z_size, env.hidden).set_flat(rng.normal(size=env.z_size + 2 * env.hidden))
    player = DreamPlayer(env, controller=c)
    z, c_state, h = env.split_obs(player.obs)
    expected = c.act(z, h, c_state)
    np.testing.assert_allclose(player.autopilot_action(), expected, atol=1e-6)
    player.tick()
    np.testing.assert_allclose(player.last_action, expected, atol=1e-6)


def test_tau_slider_sets_the_dream_temperature(vae):
    player = DreamPlayer(dream(vae, done_bias=-20.0))
    assert player.tau.value == pytest.approx(1.15)
    player.tau.value = 0.3
    assert player.env.tau == pytest.approx(0.3) and "tau = 0.3" in player.status.value
    player.tau.value = 0.0  # no randomness: the most likely next code, the same twice over
    player.new_dream()
    seed_dream = player.dreams
    for _ in range(3):
        player.tick()
    z1 = player.env.z.clone()
    player.dreams = seed_dream - 1
    player.new_dream()
    for _ in range(3):
        player.tick()
    assert torch.allclose(player.env.z, z1)


def test_without_a_controller_the_autopilot_is_off_and_play_holds_your_choice(vae):
    player = DreamPlayer(dream(vae, done_bias=-20.0))
    assert not player.autopilot.value and player.autopilot.disabled and player.autopilot_action() is None
    player.play.value += 1
    assert player.drivers == ["you"] and player.last_action[0] == 0.0  # "stay" until you choose
    player.buttons["left"].click()
    player.play.value += 1
    assert player.last_action[0] == -1.0


def test_a_car_dream_with_autopilot(vae):
    from wmlib.models.controller import Controller

    torch.manual_seed(2)
    m = MDNRNN(Z, 3, H).eval()  # the car's M: three actions, no death head
    mu = np.random.default_rng(1).normal(size=(2, Z)).astype(np.float32)
    env = DreamEnv(m, mu, np.full((2, Z), -2.0, np.float32), tau=1.0, max_steps=5, vae=vae)
    c = Controller("carracing", Z, H).set_flat(np.random.default_rng(0).normal(size=(Z + H) * 3 + 3) * 0.1)
    player = DreamPlayer(env, controller=c.get_flat())
    assert set(player.buttons) == {"left", "straight", "right", "brake"}
    assert player.death.layout.display == "none" and "death" not in player.status.value
    before = png(player)
    player.play.value += 1
    assert player.steps == 1 and player.drivers == ["C"] and png(player) != before
    assert player.last_action.shape == (3,) and 0 <= player.last_action[1] <= 1
    player.buttons["brake"].click()
    np.testing.assert_allclose(player.last_action, [0.0, 0.0, 0.8])
    for _ in range(3):
        player.play.value += 1
    assert player.ended and not player.died and "survived" in player.status.value
    player.play.value += 1  # a tick after the end starts a new dream
    assert player.dreams == 2 and player.steps == 0


def test_controller_size_must_fit(vae):
    with pytest.raises(ValueError, match="fit no doom controller"):
        DreamPlayer(dream(vae), controller=np.zeros(7))


@pytest.mark.parametrize("world", ["doom", "carracing"])
def test_the_shipped_models_play_a_dream_with_their_own_c(world):
    """The widget works before any training: shipped V, M and C, a few ticks of Play."""
    from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae
    from wmlib.book.pretrained import load_shipped_checkpoint

    ck = load_shipped_checkpoint(world, "mdnrnn")  # the first-frame codes dreams start from ship with M
    env = DreamEnv(load_shipped_mdnrnn(world), ck["first_mu"].float().numpy(), ck["first_logvar"].float().numpy(),
                   tau=1.0, max_steps=30, vae=load_shipped_vae(world))
    player = DreamPlayer(env, controller=load_shipped_controller_params(world))
    for _ in range(5):
        player.play.value += 1
    assert player.dreams >= 1 and set(player.drivers) <= {"C"} and player.frame.shape == (64, 64, 3)


def test_tau_stepper_shows_each_taus_bars_and_films():
    from wmlib.book.widgets import TauStepper

    rows = [dict(tau=t, dream_mean=100 * t, dream_std=5, real_mean=50 * t, real_std=3,
                 paper_dream=[1000, 10] if t == 1.15 else None, paper_real=[900, 9] if t == 1.15 else None)
            for t in (0.1, 1.15)]
    rng = np.random.default_rng(0)
    films = {t: dict(dream=rng.integers(0, 255, (12, 64, 64, 3), dtype=np.uint8),
                     real=rng.integers(0, 255, (30, 120, 160, 3), dtype=np.uint8)) for t in (0.1, 1.15)}
    stepper = TauStepper(rows, films)
    assert stepper.tau == 0.1 and stepper.row["real_mean"] == 5.0
    first = bytes(stepper.bars.value), bytes(stepper.strip.value)
    stepper.slider.value = 1.15
    assert stepper.tau == 1.15 and stepper.row["paper_real"] == [900, 9]
    assert bytes(stepper.bars.value) != first[0] and bytes(stepper.strip.value) != first[1]
    with pytest.raises(ValueError, match="no films"):
        TauStepper(rows, {0.1: films[0.1]})


# ----------------------------------------------------------------------------- keys, the done rule, the book

def test_keys_steer_and_space_switches_the_autopilot(vae):
    from wmlib.models.controller import Controller

    env = dream(vae, done_bias=-20.0, max_steps=100)
    c = Controller("doom", env.z_size, env.hidden).set_flat(np.full(env.z_size + 2 * env.hidden, 0.5))
    player = DreamPlayer(env, controller=c)
    assert player.events is not None and player.events.source is player.image  # ipyevents listens on the picture
    assert "keydown" in player.events.watched_events
    assert player.on_key({"type": "keydown", "key": "ArrowLeft", "code": "ArrowLeft"}) == "left"
    assert player.steps == 1 and player.last_action[0] == -1.0 and player.drivers == ["you"]
    assert player.on_key({"type": "keydown", "key": "d", "code": "KeyD"}) == "right"
    assert player.last_action[0] == 1.0
    assert player.on_key({"type": "keydown", "key": "D"}) == "right"          # shift held: the same key
    assert player.on_key({"type": "keydown", "key": "ArrowUp"}) == "stay"     # Doom has no gas: up is stay
    assert player.last_action[0] == 0.0 and player.steps == 4
    assert player.on_key({"type": "keyup", "key": "ArrowLeft"}) is None       # only presses count
    assert player.on_key({"type": "keydown", "key": "q"}) is None and player.steps == 4
    assert player.autopilot.value
    assert player.on_key({"type": "keydown", "key": " ", "code": "Space"}) == "autopilot"
    assert not player.autopilot.value and "autopilot off" in player.status.value
    player.on_key({"type": "keydown", "key": " ", "code": "Space"})
    assert player.autopilot.value


def test_keys_without_a_controller_and_in_the_car(vae):
    player = DreamPlayer(dream(vae, done_bias=-20.0))
    assert player.on_key({"type": "keydown", "key": " ", "code": "Space"}) is None and not player.autopilot.value
    torch.manual_seed(2)
    m = MDNRNN(Z, 3, H).eval()
    mu = np.random.default_rng(1).normal(size=(2, Z)).astype(np.float32)
    car = DreamPlayer(DreamEnv(m, mu, np.full((2, Z), -2.0, np.float32), tau=1.0, max_steps=50, vae=vae))
    assert car.on_key({"type": "keydown", "key": "ArrowDown"}) == "brake"
    np.testing.assert_allclose(car.last_action, [0.0, 0.0, 0.8])
    assert car.on_key({"type": "keydown", "key": "w"}) == "straight"
    assert car.on_key({"type": "keydown", "key": "a"}) == "left" and car.last_action[0] == -1.0


def test_the_bar_shows_what_the_sample_rule_draws(vae):
    from wmlib.book.widgets import death_chance, describe_done_rule

    env = dream(vae, done_bias=-1.0)
    env.done_rule, env.done_pos_weight = "sample", 10.0
    player = DreamPlayer(env)
    assert player.rule == "sample" and "draws death" in player.rule_note.value
    player.step("stay")
    weighted = 1 / (1 + np.exp(1.0))                      # the head's own probability, sigmoid(-1)
    unweighted = 1 / (1 + np.exp(1.0 + np.log(10.0)))     # what "sample" draws from: sigmoid(-1 - log 10)
    if not player.ended:
        assert player.done_prob == pytest.approx(weighted, abs=1e-5)
        assert player.death_chance == pytest.approx(unweighted, abs=1e-5)
        assert player.death.value == pytest.approx(unweighted, abs=1e-5) and player.death.bar_style == "info"
        assert f"{unweighted:.3f}" in player.status.value and "drawn" in player.status.value
    assert death_chance(weighted, "threshold", 10.0) == weighted
    assert death_chance(weighted, "sample", 10.0) == pytest.approx(unweighted)
    assert "passes 0.5" in describe_done_rule("threshold", 0.5) and "cap" in describe_done_rule("never")
    with pytest.raises(ValueError, match="unknown done rule"):
        describe_done_rule("maybe")
    threshold = DreamPlayer(dream(vae, done_bias=-1.0))
    assert "passes 0.5" in threshold.rule_note.value


def test_the_player_animates_for_the_book_without_moving(vae):
    from wmlib.models.controller import Controller

    env = dream(vae, done_bias=-20.0, max_steps=8)
    c = Controller("doom", env.z_size, env.hidden).set_flat(np.full(env.z_size + 2 * env.hidden, 0.5))
    player = DreamPlayer(env, controller=c)
    player.tick()
    state = (player.steps, player.dreams, bytes(player.image.value), player.env.z.clone())
    frames = player.book_frames(steps=20)
    assert len(frames) == 9 and all(f.shape == (64 + 6, 64, 3) for f in frames)  # 8 steps to the cap, bar under
    assert (player.steps, player.dreams, bytes(player.image.value)) == state[:3]
    assert torch.equal(player.env.z, state[3])
    assert "autopilot" in player.book_caption
    player.tick()
    assert player.steps == 2


# ----------------------------------------------------------------------------- the reader's own C, found on disk

def _run(folder, n, fitness_of=lambda sols: sols.sum(1)):
    from wmlib.agent.evolution import evolve
    from wmlib.config import EvolutionConfig

    ev = EvolutionConfig(population=4, rollouts=1, generations=2, sigma0=0.5, eval_every=1, eval_episodes=1)
    return evolve(ev, n, lambda sols, g, s: fitness_of(np.asarray(sols))[:, None].repeat(1, 1), folder,
                  progress=False)


def test_round_c_on_disk_reads_what_the_round_recorded(tmp_path, monkeypatch):
    from wmlib import paths
    from wmlib.artifacts import write_json
    from wmlib.book.widgets import round_c_on_disk
    from wmlib.config import get_config
    from wmlib.training import iterate
    from wmlib.training.c_run import params_sha256

    cfg = get_config("doom", "ci", artifacts=tmp_path)
    monkeypatch.setattr(iterate, "choose_round", lambda *a, **k: pytest.fail("reading a C must not play games"))
    assert round_c_on_disk(cfg, 0) is None and round_c_on_disk(cfg, 1) is None
    r0 = _run(paths.dream_dir(cfg, cfg.dream.tau), 6)
    np.testing.assert_array_equal(round_c_on_disk(cfg, 0), r0.deployed_params)
    r1 = _run(paths.round_run_dir(cfg, 1), 6, lambda sols: -np.abs(sols).sum(1))
    assert cfg.iterate.validation_games and round_c_on_disk(cfg, 1) is None  # no choice recorded: no C
    offered = iterate.run_candidates(r1, generations=True)
    chosen, other = [w for w in offered if w != "deployed"][:2]
    write_json(paths.round_dir(cfg, 1) / "choice.json", dict(chosen=chosen))
    np.testing.assert_array_equal(round_c_on_disk(cfg, 1), offered[chosen])
    write_json(paths.round_score(cfg, 1), dict(key=dict(params=params_sha256(offered[other]))))
    np.testing.assert_array_equal(round_c_on_disk(cfg, 1), offered[other])  # the C the round's score played
    write_json(paths.round_dir(cfg, 1) / "choice.json", dict(chosen=iterate.INCUMBENT))
    write_json(paths.round_score(cfg, 1), dict(key=dict(params=params_sha256(r0.deployed_params))))
    np.testing.assert_array_equal(round_c_on_disk(cfg, 1), r0.deployed_params)  # it kept round 0's C


def test_dream_agent_for_prefers_the_readers_last_round(tmp_path, monkeypatch):
    from wmlib.book import pretrained
    from wmlib.book.widgets import dream_agent_for, dream_env_for
    from wmlib.config import get_config
    from wmlib.training import iterate

    cfg = get_config("doom", "ci", artifacts=tmp_path)
    shipped = dream_agent_for(cfg)  # nothing on disk: the shipped V, M and C, which read each other
    card = pretrained.shipped_card("doom")
    assert shipped["source"].startswith("the shipped") and shipped["round"] == card.get("round", 0)
    assert len(shipped["controller"]) == card["parameters"]["controller"]
    env = dream_env_for(shipped, cfg)
    assert env.done_rule == cfg.dream.done_rule and env.max_steps == cfg.dream.max_steps
    DreamPlayer(env, controller=shipped["controller"]).tick()

    torch.manual_seed(0)
    m0, m1 = MDNRNN(Z, 1, H, done_head=True).eval(), MDNRNN(Z, 1, H, done_head=True).eval()
    mine = dict(vae=ConvVAE(Z).eval(), mdnrnn=m0, first_mu=np.zeros((2, Z), np.float32),
                first_logvar=np.zeros((2, Z), np.float32), source="your V and M (ci profile)")
    monkeypatch.setattr(pretrained, "world_model_for", lambda cfg: dict(mine))
    found = {0: np.zeros(Z + 2 * H), 1: np.ones(Z + 2 * H)}
    monkeypatch.setattr("wmlib.book.widgets.dream.round_c_on_disk", lambda cfg, k: found.get(k))
    monkeypatch.setattr(iterate, "last_round", lambda cfg: 1)
    monkeypatch.setattr(iterate, "load_round_mdnrnn", lambda cfg, k: m1)
    agent = dream_agent_for(cfg)
    assert agent["round"] == 1 and agent["mdnrnn"] is m1 and "round 1" in agent["source"]
    np.testing.assert_array_equal(agent["controller"], found[1])
    del found[1]                                    # round 1 left no C: round 0's, with the pipeline's M
    agent = dream_agent_for(cfg)
    assert agent["round"] == 0 and agent["mdnrnn"] is m0 and agent["source"].startswith("your")
    found.clear()                                   # V and M but no C yet: the shipped agent, and a word why
    agent = dream_agent_for(cfg)
    assert agent["source"].startswith("the shipped") and "no C" in agent["note"]
