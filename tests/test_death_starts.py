"""Dream starts weighted towards recorded deaths (``dream.death_share``, ``dream.death_window``)."""
from types import SimpleNamespace

import numpy as np
import pytest

from wmlib import paths
from wmlib.config import get_config
from wmlib.training import stages
from wmlib.training.dream import (Dreamer, check_start_from, death_weighted_rows, dream_fields, recorded_starts,
                                  start_frames)
from wmlib.training.mdnrnn import Transitions
from tests.test_dream import H, Z, population, tiny_m
from tests.test_dream_starts import FakeSeries

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def dying_series(lengths, died, seed=0):
    """``FakeSeries`` whose episode i ends in a death where ``died[i]`` (else it was cut off, e.g. at the cap)."""
    series = FakeSeries(lengths, seed)
    ds, plain = series.dataset, series.dataset.episode

    def episode(i):
        ep = plain(i)
        dones = np.zeros(len(ep.actions), bool)
        dones[-1] = died[i]
        return SimpleNamespace(actions=ep.actions, dones=dones)

    ds.episode = episode
    return series


def frame_of(series, code):
    return int(np.nonzero((series.mu == code).all(1))[0][0])


def test_start_frames_are_the_frames_recorded_starts_begin_at():
    m, series = tiny_m(), dying_series([9, 14, 6], [True, True, True])
    data = Transitions(series)
    mu, _, _ = recorded_starts(m, data, 3)
    assert [frame_of(series, code) for code in mu] == list(start_frames(data, 3))


def test_starts_before_a_death_make_up_the_share_and_a_cut_off_game_has_none():
    lengths, died, window = [40, 60, 30, 50], [True, True, False, True], 5
    data = Transitions(dying_series(lengths, died))
    frames = start_frames(data, 1)
    ends = np.cumsum(lengths)
    near = np.zeros(len(frames), bool)
    for end, d in zip(ends, died):  # the reference: the last `window` frames of each game that ended in death
        near |= d & (frames >= end - window) & (frames < end)
    assert near.sum() == 3 * window
    for share in (0.25, 0.5, 0.8):
        rows = death_weighted_rows(data, frames, share, window)
        assert set(rows) == set(range(len(frames)))                 # every start stays possible
        got = near[rows].mean()
        assert abs(got - share) < 0.05, (share, got)
        counts = np.bincount(rows, minlength=len(frames))
        assert np.unique(counts[near]).size == 1 and (counts[~near] == 1).all()  # near ones equally often
    cut = ends[1] + np.arange(lengths[2])                           # the game that did not end in death
    assert np.bincount(death_weighted_rows(data, frames, 0.8, window), minlength=len(frames))[
        np.isin(frames, cut)].max() == 1


def test_no_death_in_reach_is_refused_with_the_fix():
    data = Transitions(dying_series([20, 30], [False, False]))
    with pytest.raises(ValueError, match="no recorded start lies within 4 steps of a recorded death"):
        death_weighted_rows(data, start_frames(data, 1), 0.5, 4)


def test_bad_settings_are_refused_with_the_fix():
    cfg = get_config("doom", "ci").with_overrides(dream=dict(start_from="anywhere"))
    with pytest.raises(ValueError, match=r"death_share must be in \[0, 1\)"):
        check_start_from(cfg.with_overrides(dream=dict(death_share=1.0)))
    with pytest.raises(ValueError, match="needs dream.start_from='anywhere'"):
        check_start_from(cfg.with_overrides(dream=dict(start_from="first", death_share=0.5)))
    with pytest.raises(ValueError, match="death_window >= 1"):
        check_start_from(cfg.with_overrides(dream=dict(death_share=0.5, death_window=0)))


def test_the_dreamer_weights_its_starts_and_the_key_names_the_setting_only_when_on():
    cfg = get_config("doom", "ci").with_overrides(vae=dict(z_size=Z), mdnrnn=dict(hidden=H),
                                                  dream=dict(start_from="anywhere", start_stride=2))
    m, series = tiny_m(), dying_series([30, 24, 40], [True, False, True])
    plain = Dreamer(cfg, 1.0, mdnrnn=m, series=[series])
    weighted = Dreamer(cfg.with_overrides(dream=dict(death_share=0.6, death_window=6)), 1.0, mdnrnn=m,
                       series=[series])
    frames = start_frames(Transitions(series), 2)
    assert len(plain.first_mu) == len(frames) < len(weighted.first_mu)
    near = {f for f in frames if (29 - 6 < f <= 29) or (54 + 40 - 6 <= f < 94)}   # games 0 and 2 died
    share = np.mean([frame_of(series, code) in near for code in weighted.first_mu])
    assert abs(share - 0.6) < 0.1
    # each weighted start keeps M's state of its own frame
    for code, h in zip(weighted.first_mu, weighted.start_state[0]):
        row = int(np.nonzero((plain.first_mu == code).all(1))[0][0])
        np.testing.assert_array_equal(h, plain.start_state[0][row])
    assert weighted(population("doom", P=2), 3, 0).shape == (2, 3)

    key = lambda c: stages.Stage("C", paths.dream_dir(c, 1.15), dream_fields(c, 1.15), done=bool).settings()
    assert not any(k.startswith("dream.death") for k in key(cfg))
    on = key(cfg.with_overrides(dream=dict(death_share=0.5)))
    assert on["dream.death_share"] == 0.5 and on["dream.death_window"] == 40


def test_after_a_round_only_the_last_recorded_players_deaths_are_weighted():
    """Round k's dream reads random play and then the rounds' games: the starts weighted are those before
    the deaths of the rounds' Cs (the last series), not random play's."""
    cfg = get_config("doom", "ci").with_overrides(vae=dict(z_size=Z), mdnrnn=dict(hidden=H),
                                                  dream=dict(start_from="anywhere", start_stride=1, death_share=0.5,
                                                             death_window=5))
    m = tiny_m()
    random_play, c_games = dying_series([20, 25], [True, True]), dying_series([30, 18], [True, False], seed=1)
    d = Dreamer(cfg, 1.0, mdnrnn=m, series=[random_play, c_games])
    codes = np.concatenate([random_play.mu, c_games.mu])
    seen = np.bincount([frame_of(SimpleNamespace(mu=codes), code) for code in d.first_mu], minlength=len(codes))
    assert (seen[:45] == 1).all()                       # random play's starts, its deaths' included, once each
    assert (seen[45 + 25:45 + 30] > 1).all()            # the C's death: its last 5 steps weighted
    assert (seen[45:45 + 25] == 1).all() and (seen[45 + 30:] == 1).all()   # the cut-off game: not weighted


def test_iterate_death_share_weights_the_rounds_dreams_alone(monkeypatch):
    """``iterate.death_share``: round k's dreams (its CMA-ES and its key) weight the last C's deaths; round 0's
    dream and every key at 0 stay as they were."""
    import wmlib.training.dream as tid
    import wmlib.training.iterate as it

    cfg = get_config("doom", "ci").with_overrides(dream=dict(start_from="anywhere"))
    on = cfg.with_overrides(iterate=dict(death_share=0.5))
    assert it.round_dream_cfg(cfg) is cfg and it.round_dream_cfg(on).dream.death_share == 0.5
    assert on.dream.death_share == 0                                  # round 0's dream is untouched
    key = lambda c: it.round_run_stage(c, 1).settings()
    assert key(cfg) == key(cfg.with_overrides(iterate=dict(death_share=0.0)))
    assert key(on)["dream.death_share"] == 0.5 and "dream.death_share" not in key(cfg)
    with pytest.raises(ValueError, match=r"iterate.death_share must be in \[0, 1\)"):
        it.round_dream_cfg(cfg.with_overrides(iterate=dict(death_share=1.5)))

    seen = []

    class Recorder:
        def __init__(self, c, tau, mdnrnn=None, series=None):
            seen.append(c.dream.death_share)
            self.n_params, self.param_scale = 3, None

    monkeypatch.setattr(tid, "Dreamer", Recorder)
    monkeypatch.setattr(it, "dream_series", lambda c: [])
    monkeypatch.setattr(it, "load_round_mdnrnn", lambda c, k, device="cpu": None)
    monkeypatch.setattr(it, "round_params", lambda c, k: np.zeros(3))
    it._round_evolution(on, 1)                      # the ci profile's ensemble: round 0's M dreams too
    assert seen and set(seen) == {0.5}
    seen.clear()
    it._round_evolution(cfg, 1)
    assert seen and set(seen) == {0.0}
