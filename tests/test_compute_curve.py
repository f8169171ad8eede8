"""The score-against-compute curve: the line's maths against numpy, and the arms read from the histories."""
import math

import numpy as np
import pytest

from wmlib import paper
from wmlib.book import history
from wmlib.book import compute_curve as cc


def _arm(compute, *seeds):
    return cc.Arm("arm", "lever", compute, tuple(seeds), "test")


def test_the_line_recovers_a_known_gain_per_doubling():
    arms = [_arm(c, 100 + 40 * math.log2(c) + d, 100 + 40 * math.log2(c) - d) for c, d in [(8, 5), (16, 9), (64, 1)]]
    fit = cc.fit_doublings(arms)
    assert fit.per_doubling == pytest.approx(40)
    assert fit.score_at(32) == pytest.approx(300)
    assert fit.compute_for(300) == pytest.approx(32)
    assert fit.residual == pytest.approx(0, abs=1e-9)


def test_a_line_that_does_not_climb_never_reaches_a_target_and_one_budget_is_refused():
    flat = cc.fit_doublings([_arm(4, 500), _arm(8, 490)])
    assert flat.compute_for(600) == math.inf
    with pytest.raises(ValueError, match="two budgets"):
        cc.fit_doublings([_arm(4, 500), _arm(4, 510)])


def test_an_arm_is_the_mean_and_spread_of_its_seeds():
    arm = _arm(10, 600.0, 700.0, 800.0)
    assert arm.mean == 700.0 and arm.spread == pytest.approx(np.std([600, 700, 800]))


def test_doom_arms_come_from_the_histories_with_minutes_growing_with_m():
    arms = cc.doom_arms()
    epochs = [a for a in arms if a.lever == "M's epochs"]
    assert len(epochs) >= 5 and all(len(a.seeds) >= 3 for a in arms)
    t = cc.doom_minutes()
    epochs_of = {a.label: int(a.label.split()[1]) for a in epochs}
    assert {40, 80, 160} <= set(epochs_of.values())
    for a in epochs:                                      # minutes grow with M's epochs, at the timed rate
        assert a.compute == pytest.approx(t["other"] + epochs_of[a.label] * t["m_per_epoch"])
    rounds = [a for a in arms if a.lever == "one iterative round"]
    assert rounds and all(a.compute > t["other"] + 160 * t["m_per_epoch"] for a in rounds)
    # the 256-unit M: its own measured minutes, not the 512-unit M's rate (which would put 270 epochs at ~55 min)
    facts = history.load("doom", "round0_seeds")["facts"]
    small = [a for a in arms if a.lever == cc.SMALL_M_LEVER]
    assert len(small) >= 2 and all("256 units" in a.label for a in small)
    for a in small:
        fact = next(f for f in facts.values() if isinstance(f, dict) and f.get("tests") == list(a.seeds))
        assert a.compute == pytest.approx(t["other"] + fact["m_minutes"])
        assert a.compute < t["other"] + 270 * t["m_per_epoch"]
    # a round on a 256-unit M starts from that M's own minutes
    r1 = history.load("doom", "round1_seeds")["rows"]
    for a in rounds:
        m = a.label.split(",")[0]                                       # "M k, one iterative round" -> "M k"
        rows = [r for r in r1 if r["m"].startswith(m)]
        if "256 units" in rows[0]["m"]:
            base = next(b for b in small if b.label.endswith(f"({m})"))
            assert a.compute == pytest.approx(base.compute + np.mean([r["round1_minutes"] for r in rows]))
    assert all(0 < s < paper.DOOM_EPISODE_CAP for a in arms for s in a.seeds)


def test_car_arms_count_the_tracks_their_recipes_drive():
    arms = {a.label: a for a in cc.car_arms()}
    one = arms["from zero, one track per candidate"].compute
    assert arms["from zero, four tracks per candidate"].compute == 4 * one
    assert arms["from zero, 80 generations"].compute == 2 * one
    assert arms["from the V-only C"].compute == 2 * one                       # the start's own evolution counts
    assert arms["from the V-only C, same tracks, 80 generations"].compute == 3 * one
    assert cc.paper_car_tracks() == 1800 * 64 * 16
    assert all(len(a.seeds) == 3 for k, a in arms.items() if k.startswith("from the V-only C"))
    assert cc.car_minutes_per_track() > 0


def test_a_missing_recipe_names_where_the_budgets_come_from(monkeypatch, tmp_path):
    monkeypatch.setattr(cc, "RECIPES", tmp_path)
    with pytest.raises(FileNotFoundError, match="experiments/recipes"):
        cc.car_tracks("carracing-rollouts4")


def test_the_curves_fit_what_they_say_and_draw_targets_and_budget():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doom = cc.doom_curve()
    m_arms = [a for a in doom.arms if a.lever == "M's epochs"]
    assert doom.fit == cc.fit_doublings(m_arms) and doom.fit.arms < len(doom.arms)   # rounds are not in the line
    assert doom.targets == {"solved": paper.DOOM_SOLVED, "paper": paper.DOOM_TEMPERATURE[1.15][1][0]}
    car = cc.car_curve()
    assert car.fit.arms == len(car.arms) and car.budget is None
    fig, ax = plt.subplots()
    cc.draw(doom, ax)
    labels = ax.get_legend_handles_labels()[1]
    assert {"M's epochs", "one iterative round", "solved (750)", "paper (1092)"} <= set(labels)
    assert labels.count("M's epochs") == 1                                    # one legend entry per lever
    assert cc.SMALL_M_LEVER in labels and all(a.lever != cc.SMALL_M_LEVER for a in m_arms)   # not in the line
    assert any(list(line.get_xdata()) == [doom.budget, doom.budget] for line in ax.get_lines())
    plt.close(fig)
