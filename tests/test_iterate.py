"""Iterative training: rounds add C's real games to M's data, M and C are retrained, and a killed
round resumes at the step it was in."""
import numpy as np
import pytest

import wmlib.training.iterate as it
from wmlib import paths
from wmlib.config import get_config
from wmlib.training.pipeline import reproduce
from wmlib.worlds.data import RolloutDataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cfg_with_rounds(rounds=1):
    return get_config("doom", "ci").with_overrides(
        iterate=dict(rounds=rounds, episodes=3, mdnrnn_epochs=1, generations=2, explore=(0.0, 0.5)),
        dream=dict(done_rule="sample", real_z="sample"))


@pytest.fixture(scope="module")
def round0(tmp_path_factory):
    """The ci pipeline on disk (round 0), shared by the tests of this module."""
    root = tmp_path_factory.mktemp("iterate")
    mp = pytest.MonkeyPatch()
    mp.setenv("WM_ARTIFACTS", str(root))
    reproduce(cfg_with_rounds(0))
    yield root
    mp.undo()


def test_rounds_add_real_games_and_retrain_m_and_c(round0, monkeypatch):
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(1)
    rows = it.iterate(cfg, progress=False)
    assert [r["round"] for r in rows] == [0, 1]
    base = rows[0]["episodes"]
    assert rows[1]["episodes"] == base + 3
    assert rows[1]["transitions"] > rows[0]["transitions"]
    for r in rows:
        assert r["real"]["episodes"] == cfg.dream.real_episodes and r["dream"]["episodes"] == cfg.dream.dream_episodes
        assert 1 <= r["real"]["mean"] <= cfg.dream.max_steps
    judged = rows[1]["new_m_heldout"]
    assert np.isfinite(judged["nll"]) and judged["deaths"] >= 0
    assert set(rows[1]["seconds"]) == {"play", "encode", "train M", "evolve C", "score"}
    data = RolloutDataset(paths.iterate_data_dir(cfg))
    assert data.n_episodes == 3 and (data.episode_ids // it.ROUND_EPISODE_BASE == 1).all()
    # M of round 1 differs from round 0's (fine-tuned), C of round 1 is its own run
    m0, m1 = it.load_round_mdnrnn(cfg, 0), it.load_round_mdnrnn(cfg, 1)
    assert any(not np.allclose(a.detach(), b.detach()) for a, b in zip(m0.parameters(), m1.parameters()))
    assert it.round_params(cfg, 1).shape == it.round_params(cfg, 0).shape
    assert "round" in it.format_rounds(rows)
    # a no-op when asked again: the table is read back
    assert it.iterate(cfg, progress=False) == rows


def test_a_killed_round_resumes_where_it_stopped(round0, monkeypatch):
    monkeypatch.setenv("WM_ARTIFACTS", str(round0))
    cfg = cfg_with_rounds(2)

    def killed(*a, **k):
        raise KeyboardInterrupt

    real_evolve = it.evolve_round
    monkeypatch.setattr(it, "evolve_round", killed)
    with pytest.raises(KeyboardInterrupt):
        it.iterate(cfg, progress=False)
    m2 = paths.round_mdnrnn(cfg, 2)
    assert m2.exists() and not paths.round_score(cfg, 2).exists()
    stamp = m2.stat().st_mtime_ns
    monkeypatch.setattr(it, "evolve_round", real_evolve)
    rows = it.iterate(cfg, progress=False)
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert m2.stat().st_mtime_ns == stamp  # M of round 2 was not trained twice
    assert RolloutDataset(paths.iterate_data_dir(cfg)).n_episodes == 6  # nor its games played twice


def test_bad_settings_name_the_fix():
    with pytest.raises(ValueError, match="iterate.explore"):
        it.check_iterate(get_config("doom", "ci").with_overrides(iterate=dict(explore=(1.5,))))
    with pytest.raises(ValueError, match="iterate.episodes"):
        it.check_iterate(get_config("doom", "ci").with_overrides(iterate=dict(episodes=0)))
    with pytest.raises(ValueError, match="Doom"):
        it.check_iterate(get_config("carracing", "ci"))
