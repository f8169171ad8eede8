"""Training C in the dream: runs from M alone, a no-op once done, exact resume, guards; scores get-or-build."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import wmlib.training.c_run
import wmlib.training.series
from wmlib.book.plots import plot_temperature
import wmlib.training.dream as tid
from wmlib.config import get_config
from wmlib.artifacts import save_checkpoint
from wmlib.models.mdnrnn import MDNRNN
from wmlib import paths
from wmlib.models.vae import ConvVAE

Z, H, CAP = 8, 16, 30


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_cfg(**dream):
    return get_config("doom", "ci").with_overrides(
        vae=dict(z_size=Z), mdnrnn=dict(hidden=H),
        evolution=dict(population=4, rollouts=1, generations=9, eval_every=2, eval_episodes=3, sigma0=0.5),
        dream={**dict(max_steps=CAP, population=6, rollouts=2, generations=3, real_episodes=2, dream_episodes=3,
                      start_from="first"),  # the fixture has first codes only (starts: test_dream_starts)
               **dream})


def save_models(cfg, seed=0):
    """A random Doom M (death head biased so dreams end at varied steps) and V, where training puts them."""
    torch.manual_seed(seed)
    m = MDNRNN(Z, 1, H, done_head=True)
    with torch.no_grad():
        m.done.weight.mul_(40.0)
        m.done.bias.fill_(-3.0)
    save_checkpoint(paths.mdnrnn_file(cfg), dict(model=m.state_dict(), arch=m.arch()))
    vae = ConvVAE(Z)
    save_checkpoint(paths.vae_file(cfg), dict(z_size=Z, model=vae.state_dict()))


@pytest.fixture
def world(artifacts, monkeypatch):
    """Models on disk, and the first-frame codes dreams start from (no dataset needed)."""
    rng = np.random.default_rng(0)
    first = SimpleNamespace(first_mu=rng.normal(size=(5, Z)).astype(np.float32),
                            first_logvar=np.full((5, Z), -1.0, np.float32))
    monkeypatch.setattr(wmlib.training.series, "load_series", lambda cfg: first)
    cfg = small_cfg()
    save_models(cfg)
    return cfg


def test_train_in_dream_evolves_in_its_own_folder_and_is_then_a_no_op(world, monkeypatch):
    res = tid.train_in_dream(world, 1.15, progress=False)
    out = paths.dream_dir(world, 1.15)
    assert out.name == "dream-tau1.15" and res.ckpt_dir == out and (out / "run.json").exists()
    assert res.generations == 3 and len(res.history) == 3
    assert res.deployed_params.shape == (Z + 2 * H,)
    assert [h["generation"] for h in res.history if "eval_mean" in h] == [1, 2]  # every 2nd, and the last
    assert all(1 <= h["mean"] <= CAP for h in res.history)
    monkeypatch.setattr(wmlib.training.c_run, "evolve", lambda *a, **k: pytest.fail("a finished run must not evolve again"))
    again = tid.train_in_dream(world, 1.15, progress=False)
    np.testing.assert_array_equal(again.deployed_params, res.deployed_params)
    np.testing.assert_array_equal(tid.dream_params(world, 1.15, "mean"), res.mean_params)


def test_a_killed_run_resumes_exactly(world, artifacts, monkeypatch, tmp_path):
    tid.train_in_dream(world, 0.5, progress=False, generations=1)
    resumed = tid.train_in_dream(world, 0.5, progress=False)
    monkeypatch.setenv("WM_ARTIFACTS", str(tmp_path / "other"))
    save_models(world)
    whole = tid.train_in_dream(world, 0.5, progress=False)
    np.testing.assert_array_equal(resumed.mean_params, whole.mean_params)
    assert [h["mean"] for h in resumed.history] == [h["mean"] for h in whole.history]


def test_the_run_keeps_its_m_and_dream(world):
    tid.train_in_dream(world, 1.0, progress=False, generations=1)
    with pytest.raises(ValueError, match=r"other dream settings: max_steps=30 \(config now says 31\); resume"):
        tid.train_in_dream(small_cfg(max_steps=CAP + 1), 1.0, progress=False)
    with pytest.raises(ValueError, match=r"dropout=None \(config now says 0.1\)"):  # the field that differs
        tid.train_in_dream(small_cfg(dropout=0.1), 1.0, progress=False)
    save_models(world, seed=1)
    with pytest.raises(ValueError, match="M changed"):
        tid.train_in_dream(world, 1.0, progress=False)


def test_bad_requests_name_the_fix(world):
    with pytest.raises(ValueError, match="train-controller carracing"):
        tid.train_in_dream(get_config("carracing", "ci"), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        tid.train_in_dream(world, -0.5)
    with pytest.raises(FileNotFoundError, match="train-in-dream doom --tau 1.3"):
        tid.dream_params(world, 1.3)
    with pytest.raises(ValueError, match="dream.population"):
        tid.dream_evolution_config(small_cfg(population=-1))
    with pytest.raises(ValueError, match="dream.dropout=0.1"):
        tid.train_in_dream(small_cfg(dropout=1.5), 1.0, progress=False)


def test_dream_dropout_reaches_the_dreams_c_is_evolved_in(world):
    """``dream.dropout`` gives every dream its own mask: the same C, seed and M dream other episodes."""
    params = np.random.default_rng(0).normal(size=(2, Z + 2 * H))
    plain = tid.Dreamer(world, 1.15)(params, 6, seed=3)
    masked = tid.Dreamer(small_cfg(dropout=0.5), 1.15)(params, 6, seed=3)
    assert not np.array_equal(plain, masked)
    np.testing.assert_array_equal(masked, tid.Dreamer(small_cfg(dropout=0.5), 1.15)(params, 6, seed=3))


def test_scores_in_dream_and_reality_are_saved_and_reused(world, monkeypatch):
    tid.train_in_dream(world, 1.15, progress=False)
    score = tid.evaluate_in_reality(world, 1.15, backend="serial")
    assert score["dream"]["episodes"] == 3 and score["real"]["episodes"] == 2
    assert all(1 <= r <= CAP for r in score["dream"]["returns"] + score["real"]["returns"])
    assert score["paper"] == {"dream": [918, 546], "real": [1092, 556]}
    # The dream score is the deployed C's dreams, as dream_rollouts plays them.
    params = tid.dream_params(world, 1.15)
    direct = tid.Dreamer(world, 1.15)(params[None], 3, tid.DREAM_TEST_SEED)[0]
    assert score["dream"]["returns"] == direct.tolist()
    monkeypatch.setattr(tid.SharedPool, "run", lambda *a, **k: pytest.fail("a saved score must be reused"))
    assert tid.evaluate_in_reality(world, 1.15, backend="serial") == score
    # More episodes asked for: not the saved score any more.
    with pytest.raises(pytest.fail.Exception):
        tid.evaluate_in_reality(world, 1.15, real_episodes=3, backend="serial")


def test_table_and_plot(tmp_path):
    rows = [dict(tau=t, dream_mean=10.0 * i, dream_std=1.0, real_mean=5.0, real_std=2.0,
                 paper_dream=list(tid.paper_row(t)[0]), paper_real=list(tid.paper_row(t)[1]))
            for i, t in enumerate((0.1, 1.15))]
    text = tid.format_table(rows)
    assert "2086 +-  140" in text and " 1.15 |" in text and "random policy" in text
    # The car: no paper row (the paper never trained it in the dream), nor Doom's random policy or units.
    assert tid.paper_row(1.0, "carracing") is None
    car = tid.format_table([dict(rows[1], paper_dream=None, paper_real=None)], "carracing")
    assert "random policy" not in car and "solved: > 900" in car and "steps survived" not in car
    fig = plot_temperature(rows, tmp_path / "t.png", cap=CAP)
    assert (tmp_path / "t.png").stat().st_size > 1000
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_seed_plot_draws_one_row_per_group_with_its_mean(tmp_path):
    import matplotlib.pyplot as plt
    from wmlib.book.plots import plot_seeds

    fig = plot_seeds({"M a": [790.3, 780.1, 795.0], "M b": [523.8, 617.6]}, tmp_path / "s.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["M a", "M b"]
    assert [len(c.get_offsets()) for c in ax.collections] == [3, 2]  # every seed a dot
    assert {t.get_text() for t in ax.texts} == {"mean 788 (3 seeds)", "mean 571 (2 seeds)"}
    assert (tmp_path / "s.png").stat().st_size > 1000
    plt.close(fig)
