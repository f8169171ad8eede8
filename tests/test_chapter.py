"""The chapters' helpers: building V and M with TRAIN on, and the stage announcements."""
from wmlib import paths
from wmlib.book import chapter
from wmlib.config import get_config


def test_build_world_model_runs_the_pipelines_first_stages_and_announces_only_what_is_missing(tmp_path, monkeypatch,
                                                                                              capsys):
    cfg = get_config("doom", "ci", str(tmp_path))
    ran = []

    def stage(name, output=None):
        def run():
            ran.append(name)
            if output is not None:
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_bytes(b"built")
        return name, run

    fake = [stage("collect"), stage("train V", paths.vae_file(cfg)), stage("encode"),
            stage("train M", paths.mdnrnn_file(cfg)), stage("train C in the dream (tau 1.15)")]
    monkeypatch.setattr(chapter, "pipeline", lambda c: fake)

    chapter.build_world_model(cfg)
    assert ran == ["collect", "train V", "encode", "train M"]   # never C: a chapter trains that itself
    said = capsys.readouterr().out
    assert [s for s in ("collect", "train V", "encode", "train M") if f"TRAIN is on: {s} (" in said] == \
        ["collect", "train V", "encode", "train M"]

    ran.clear()
    chapter.build_world_model(cfg)                               # all on disk: each stage reuses, none announced
    assert ran == ["collect", "train V", "encode", "train M"] and "TRAIN is on" not in capsys.readouterr().out


def test_the_first_four_stages_of_the_pipeline_are_the_ones_build_world_model_names():
    from wmlib.training.pipeline import pipeline

    for world in ("doom", "carracing"):
        names = [name for name, _ in pipeline(get_config(world, "ci"))[:4]]
        assert names == ["collect", "train V", "encode", "train M"], names
