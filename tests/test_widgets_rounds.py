"""Round 0's and round 1's C on one real game (RoundsPlayer), and the temperature stepper's site animation."""
import numpy as np
import pytest
import torch

from wmlib.book.widgets import RoundsPlayer, TauStepper, play_real_game, round_agents


def film(steps, shade, died=True):
    """A fake ``play_real_game`` result: every frame one colour, M sure of nothing."""
    frames = np.full((steps + 1, 120, 160, 3), shade, np.uint8)
    return dict(frames=frames, steps=steps, actions=np.linspace(-1, 1, steps).astype(np.float32),
                y=np.full(steps, 384.0), done_prob=np.zeros(steps), died=died)


def png(widget):
    return bytes(widget.image.value)


def test_one_slider_steps_both_games_and_a_dead_agent_goes_dark():
    player = RoundsPlayer({"round 0": film(10, 200), "round 1": film(30, 100)}, seed=7)
    assert player.t == 0 and player.slider.max == 30 and player.play.max == 30
    assert player.alive == {"round 0": True, "round 1": True}
    first = png(player)
    assert first[:4] == b"\x89PNG" and "seed 7" in player.status.value
    player.slider.value = 20
    assert player.t == 20 and player.alive == {"round 0": False, "round 1": True}
    assert png(player) != first
    assert "died after 10 steps" in player.status.value and "step 20" in player.status.value
    assert "368 units from a wall" in player.status.value  # y = 384: the room's middle
    panel = player.panel(20)
    left, right = panel[:, :160], panel[:, 164:]
    assert left.max() < 200 and right.min() == 100  # round 0 dead (darkened), round 1 as recorded


def test_another_game_plays_both_agents_on_the_next_seed():
    asked = []

    def record(seed):
        asked.append(seed)
        return {"round 0": film(5 + seed, 50), "round 1": film(8 + seed, 60)}

    player = RoundsPlayer(record(3), seed=3, record=record)
    player.slider.value = 4
    player.new_button.click()
    assert asked == [3, 4] and player.seed == 4 and player.t == 0
    assert player.films["round 1"]["steps"] == 12 and player.slider.max == 12
    with pytest.raises(ValueError, match="record="):
        RoundsPlayer({"a": film(3, 1)}).new_game()
    with pytest.raises(ValueError, match="no games"):
        RoundsPlayer({})


def test_book_frames_animate_both_games_at_one_size():
    player = RoundsPlayer({"round 0": film(10, 200), "round 1": film(30, 100, died=False)})
    frames = player.book_frames(n=12)
    assert len(frames) == 12 and len({f.shape for f in frames}) == 1 and frames[0].dtype == np.uint8
    assert frames[0].shape == (120, 324, 3)


def test_play_real_game_and_round_agents_fall_back_to_the_shipped_ones(tmp_path, monkeypatch):
    from wmlib.book import pretrained, recorded, shipped_files
    from wmlib.config import get_config
    from wmlib.models.controller import param_count
    from wmlib.models.mdnrnn import MDNRNN
    from wmlib.models.vae import ConvVAE

    torch.manual_seed(0)
    vae, m = ConvVAE(64).eval(), MDNRNN(64, 1, 16, done_head=True).eval()
    n = param_count("doom", 64, 16, "zh")
    cfg = get_config("doom", "ci", artifacts=str(tmp_path / "art"))
    monkeypatch.setattr(shipped_files, "SHIPPED_ROOT", tmp_path / "ship")
    assert round_agents(cfg) == {}  # nothing of yours, nothing shipped: no player, no crash

    recorded.ship_mdnrnn("doom", "mdnrnn-round-0", m, np.zeros((2, 64)), np.full((2, 64), -2.0), root=tmp_path / "ship")
    recorded.ship_controller("doom", "round-0", np.full(n, 0.5), "zh", 64, 16, "test", root=tmp_path / "ship",
                             mdnrnn="mdnrnn-round-0")
    monkeypatch.setattr(pretrained, "load_shipped_vae", lambda world, device="cpu": vae)
    monkeypatch.setattr(pretrained, "load_shipped_mdnrnn", lambda world, device="cpu": m)
    monkeypatch.setattr(pretrained, "load_shipped_controller_params", lambda world: np.full(n, -0.5))
    agents = round_agents(cfg)
    assert list(agents) == ["round 0", "round 1"] and "shipped" in agents["round 0"]["source"]
    assert agents["round 0"]["params"][0] == pytest.approx(0.5) and agents["round 1"]["params"][0] == -0.5

    games = {name: play_real_game(a, seed=11, max_steps=15) for name, a in agents.items()}
    for g in games.values():
        assert 1 <= g["steps"] <= 15 and g["frames"].shape == (g["steps"] + 1, 120, 160, 3)
        assert len(g["actions"]) == len(g["y"]) == len(g["done_prob"]) == g["steps"]
    n0 = min(games["round 0"]["steps"], games["round 1"]["steps"])
    assert not np.allclose(games["round 0"]["actions"][:n0], games["round 1"]["actions"][:n0])  # two Cs, two games
    again = play_real_game(agents["round 0"], seed=11, max_steps=15)
    assert np.array_equal(again["frames"], games["round 0"]["frames"])  # one seed, one game
    player = RoundsPlayer(games, seed=11)
    player.slider.value = player.slider.max
    assert not any(player.alive.values())


# ----------------------------------------------------------------------------- the temperature stepper on the site

def rows(taus):
    return [dict(tau=t, dream_mean=100 * t, dream_std=5, real_mean=50 * t, real_std=3,
                 paper_dream=None, paper_real=None) for t in taus]


def test_tau_stepper_book_frames_step_through_every_tau_at_one_size():
    rng = np.random.default_rng(0)
    films = {t: dict(dream=rng.integers(0, 255, (12 + i, 64, 64, 3), dtype=np.uint8),
                     real=rng.integers(0, 255, (30 - i, 120, 160, 3), dtype=np.uint8))
             for i, t in enumerate((0.1, 1.15, 1.3))}
    stepper = TauStepper(rows(films), films)
    frames = stepper.book_frames(moments=4)
    assert len(frames) == 3 * 4 and len({f.shape for f in frames}) == 1 and frames[0].dtype == np.uint8
    assert stepper.tau == 0.1  # it goes back to the first tau when done
    stepper.step.value = 5
    assert stepper.t == 5 and "step 5" in stepper.status.value


def test_tau_stepper_plays_a_tau_when_first_shown_and_another_game_on_demand():
    calls = []

    def films(tau, game):
        calls.append((tau, game))
        if tau == 1.3:
            return None  # no controller for this tau
        steps = 6 + game
        return dict(dream=dict(frames=np.zeros((steps + 1, 64, 64, 3), np.uint8), steps=steps, died=True),
                    real=dict(frames=np.zeros((steps + 3, 120, 160, 3), np.uint8), steps=steps + 2, died=True))

    stepper = TauStepper(rows((0.1, 1.3)), films)
    assert calls == [(0.1, 0)] and stepper.step.max == 8
    stepper.new_button.click()
    assert calls[-1] == (0.1, 1) and stepper.game == 1 and stepper.film["real"]["steps"] == 9
    stepper.slider.value = 1.3
    assert stepper.film is None and "no controller" in stepper.status.value
    stepper.slider.value = 0.1
    assert calls.count((0.1, 0)) == 1  # played once, then kept
    bars_only = TauStepper(rows((0.5,)))
    assert bars_only.film is None and bytes(bars_only.bars.value)[:4] == b"\x89PNG" and bars_only.new_button.disabled
