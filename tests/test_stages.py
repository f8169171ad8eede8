"""One store of stages: V, the series, M and C are reused with the same settings, refused (or, for the
series, built afresh) when a setting they read changed, and still reused when one they do not read changed."""
import shutil

import pytest

import wmlib.training.c_run as c_run
import wmlib.training.mdnrnn as tm
import wmlib.training.vae as tv
from wmlib import paths
from wmlib.artifacts import write_json
from wmlib.config import get_config
from wmlib.training import stages
from wmlib.training.dream import train_in_dream
from wmlib.worlds.data import collect

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TRAIN_VAE = tv._train_vae  # the real one (the tests below forbid training unless they allow it)


def ci():
    return get_config("doom", "ci").with_overrides(collect=dict(workers=1), evolution=dict(workers=1))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """V, the series, M and the dream-trained C of the ci profile, on disk once for the module."""
    root = tmp_path_factory.mktemp("stages")
    mp = pytest.MonkeyPatch()
    mp.setenv("WM_ARTIFACTS", str(root))
    cfg = ci()
    collect(cfg, progress=False)
    tv.train_vae(cfg, progress=False)
    tv.encode_dataset(cfg, progress=False)
    tm.train_mdnrnn(cfg, progress=False)
    train_in_dream(cfg, progress=False)
    yield root
    mp.undo()


@pytest.fixture
def here(built, monkeypatch):
    monkeypatch.setenv("WM_ARTIFACTS", str(built))
    # any training from here on is a failure unless a test allows it
    monkeypatch.setattr(tv, "_train_vae", lambda *a: pytest.fail("V trained again"))
    monkeypatch.setattr(tm, "_train_mdnrnn", lambda *a: pytest.fail("M trained again"))
    monkeypatch.setattr(c_run, "evolve", lambda *a, **k: pytest.fail("C evolved again"))
    return ci()


def stamp(path):
    return path.stat().st_mtime_ns


def test_the_same_settings_reuse_every_stage_and_say_so(here):
    cfg = here
    mu = paths.series_dir(cfg) / "mu.npy"
    before = stamp(mu)
    with stages.watch() as seen:
        assert tv.train_vae(cfg, progress=False) == paths.vae_file(cfg)
        tv.encode_dataset(cfg, progress=False)
        assert tm.train_mdnrnn(cfg, progress=False) == paths.mdnrnn_file(cfg)
        train_in_dream(cfg, progress=False)
    assert seen == [("V", "reused"), ("series", "reused"), ("M", "reused"), ("C in the dream (tau 1.15)", "reused")]
    assert stamp(mu) == before
    for folder in (paths.vae_dir(cfg), paths.series_dir(cfg), paths.mdnrnn_dir(cfg), paths.dream_dir(cfg, 1.15)):
        assert (folder / stages.STAGE_FILE).exists()


def test_a_field_a_stage_does_not_read_leaves_it_reused(here):
    cfg = here
    before = stamp(paths.series_dir(cfg) / "mu.npy")
    # V does not read M's settings, the series not the encode batch, M not the dream's, C not the scoring's
    tv.train_vae(cfg.with_overrides(mdnrnn=dict(epochs=5)), progress=False)
    tv.encode_dataset(cfg.with_overrides(vae=dict(encode_batch=7, checkpoint_every=3)), progress=False)
    tm.train_mdnrnn(cfg.with_overrides(dream=dict(tau=0.5), iterate=dict(rounds=3)), progress=False)
    train_in_dream(cfg.with_overrides(dream=dict(real_episodes=9), evolution=dict(test_episodes=9)), progress=False)
    assert stamp(paths.series_dir(cfg) / "mu.npy") == before


def test_a_field_a_stage_reads_is_named_and_nothing_is_lost(here):
    cfg = here
    files = [paths.vae_file(cfg), paths.mdnrnn_file(cfg)]
    before = [f.read_bytes() for f in files]
    with pytest.raises(stages.StageChanged, match=r"V in .* vae\.epochs=1 \(config now says 2\)"):
        tv.train_vae(cfg.with_overrides(vae=dict(epochs=2)), progress=False)
    with pytest.raises(stages.StageChanged, match=r"M in .* mdnrnn\.epochs=1 \(config now says 2\)"):
        tm.train_mdnrnn(cfg.with_overrides(mdnrnn=dict(epochs=2)), progress=False)
    with pytest.raises(stages.StageChanged, match=r"dream\.done_threshold=0\.5 \(config now says 0\.7\)"):
        train_in_dream(cfg.with_overrides(dream=dict(done_threshold=0.7)), progress=False)
    # a stage reading a changed upstream stage names the upstream field (C reads M)
    with pytest.raises(stages.StageChanged, match=r"reads M, and M .* mdnrnn\.hidden=64"):
        train_in_dream(cfg.with_overrides(mdnrnn=dict(hidden=32)), progress=False)
    with pytest.raises(stages.StageChanged, match="move the folder"):
        tv.train_vae(cfg.with_overrides(vae=dict(seed=3)), progress=False)
    assert [f.read_bytes() for f in files] == before


def test_a_new_v_rebuilds_the_series_and_m_names_the_field_under_it(here, monkeypatch, tmp_path):
    cfg = here
    other = cfg.with_overrides(vae=dict(epochs=2))
    shutil.move(paths.vae_dir(cfg), tmp_path / "vae")  # moved away, as the error says
    shutil.move(paths.series_dir(cfg), tmp_path / "series")
    try:
        monkeypatch.setattr(tv, "_train_vae", TRAIN_VAE)
        tv.train_vae(other, progress=False)
        shutil.copytree(tmp_path / "series", paths.series_dir(cfg))  # the old V's series
        before = stamp(paths.series_dir(cfg) / "mu.npy")
        with stages.watch() as seen:
            tv.encode_dataset(other, progress=False)  # made from another V: built afresh
        assert seen == [("series", "built")] and stamp(paths.series_dir(cfg) / "mu.npy") != before
        with pytest.raises(stages.StageChanged, match=r"vae\.epochs=1 \(config now says 2\)"):
            tm.train_mdnrnn(other, progress=False)  # M was trained on the old V's codes
    finally:
        for name, folder in (("vae", paths.vae_dir(cfg)), ("series", paths.series_dir(cfg))):
            shutil.rmtree(folder, ignore_errors=True)
            shutil.move(tmp_path / name, folder)


def test_a_folder_from_before_keys_gets_the_old_check_then_a_key(here):
    cfg = here
    key = paths.vae_dir(cfg) / stages.STAGE_FILE
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(ValueError, match=r"epochs=1 \(config now says 2\)"):  # V's check from before keys
        tv.train_vae(cfg.with_overrides(vae=dict(epochs=2)), progress=False)
    assert not key.exists()
    tv.train_vae(cfg, progress=False)  # the old check passes: reused, and the key is written beside it
    assert key.read_bytes() == saved



def test_a_setting_added_later_at_its_neutral_value_keeps_old_builds(tmp_path):
    """An M built before ``mdnrnn.dropout`` existed is the one dropout 0 builds: reused, not refused;
    dropout 0.1 is refused naming the field. A key written with the neutral value spelled out matches too."""
    from wmlib.training import stages

    def stage(dropout, folder=tmp_path / "m"):
        return stages.Stage("M", folder, {"mdnrnn.epochs": 80, "mdnrnn.dropout": dropout}, done=lambda: True)

    old = tmp_path / "m"
    old.mkdir()
    write_json(old / stages.STAGE_FILE, dict(stage="M", key=stages._digest({"mdnrnn.epochs": 80}),
                                             settings={"mdnrnn.epochs": 80}))
    assert stage(0.0).key == stages._digest({"mdnrnn.epochs": 80})
    assert stages.get(stage(0.0), build=lambda: "built", load=lambda: "reused") == "reused"
    with pytest.raises(stages.StageChanged, match=r"mdnrnn.dropout=0.0 \(config now says 0.1\)"):
        stages.get(stage(0.1), build=lambda: "built", load=lambda: "reused")
    spelled = tmp_path / "spelled"
    spelled.mkdir()
    write_json(spelled / stages.STAGE_FILE, dict(stage="M", key="written-with-dropout-0",
                                                 settings={"mdnrnn.epochs": 80, "mdnrnn.dropout": 0.0}))
    assert stages.get(stage(0.0, spelled), build=lambda: "built", load=lambda: "reused") == "reused"
