"""Shipped models: fp16 on disk, weights-only loading, fallbacks, the committed files, the results table."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from wmlib.book import export, model_card, pretrained, results, shipped_files
from wmlib.config import get_config
from wmlib.models.mdnrnn import MDNRNN
from wmlib.models.vae import ConvVAE


def _ship(root, world="doom", z=16, hidden=32):
    torch.manual_seed(0)
    action = 1 if world == "doom" else 3
    vae, m = ConvVAE(z), MDNRNN(z, action, hidden, 5, done_head=(world == "doom"))
    from wmlib.models.controller import param_count

    params = np.random.default_rng(0).normal(size=param_count(world, z, hidden, "zh"))
    first_mu, first_logvar = np.zeros((3, z), np.float32), np.full((3, z), -2.0, np.float32)
    card = dict(world=world, profile="ci", exported="today", controller="test", tau=1.15,
                data=dict(episodes=3, frames=30, policy="random"))
    export.write_shipped(pretrained.shipped_dir(world, root), vae, m, params, first_mu, first_logvar, card)
    return vae, m, params


def test_shipped_models_are_fp16_and_load_back_close(tmp_path):
    vae, m, params = _ship(tmp_path)
    raw = torch.load(tmp_path / "doom" / "vae.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in raw["model"].values() if v.is_floating_point())
    v2 = pretrained.load_shipped_vae("doom", root=tmp_path)
    m2 = pretrained.load_shipped_mdnrnn("doom", root=tmp_path)
    assert next(v2.parameters()).dtype == torch.float32          # computed in fp32 after loading
    for a, b in zip(vae.state_dict().values(), v2.state_dict().values()):
        assert torch.allclose(a, b, atol=2e-3, rtol=2e-3)
    for a, b in zip(m.state_dict().values(), m2.state_dict().values()):
        assert torch.allclose(a, b, atol=2e-3, rtol=2e-3)
    p2 = pretrained.load_shipped_controller_params("doom", root=tmp_path)
    assert p2.shape == params.shape and np.allclose(p2, params, atol=2e-3, rtol=2e-3)
    # fp16 halves the size of fp32 weights
    size = (tmp_path / "doom" / "vae.pt").stat().st_size
    assert size < 0.55 * 4 * sum(p.numel() for p in vae.parameters())


def test_a_pickled_object_in_a_shipped_file_is_refused(tmp_path):
    _ship(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    with open(tmp_path / "doom" / "vae.pt", "wb") as fh:
        pickle.dump({"z_size": 16, "model": Evil()}, fh)
    with pytest.raises(ValueError, match="unreadable"):
        pretrained.load_shipped_vae("doom", root=tmp_path)


def test_missing_shipped_model_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="reproduce doom"):
        pretrained.load_shipped_vae("doom", root=tmp_path)
    assert not pretrained.has_shipped("doom", root=tmp_path)


def test_own_models_else_shipped_ones_never_mixed(tmp_path, monkeypatch, artifacts):
    _ship(tmp_path)
    monkeypatch.setattr(shipped_files, "SHIPPED_ROOT", tmp_path)
    cfg = get_config("doom", "ci")
    vae, source = pretrained.vae_for(cfg)
    assert "shipped" in source and vae.z_size == 16
    wm = pretrained.world_model_for(cfg)
    assert "shipped" in wm["source"] and wm["mdnrnn"].hidden == 32 and wm["first_mu"].shape == (3, 16)
    # once the reader has trained V, their V wins for V alone ...
    from wmlib.artifacts import save_checkpoint
    from wmlib import paths

    save_checkpoint(paths.vae_file(cfg), dict(z_size=64, model=ConvVAE(64).state_dict()))
    vae, source = pretrained.vae_for(cfg)
    assert "your V" in source and vae.z_size == 64
    # ... but the dream keeps the shipped V, M and codes together until their M exists too
    wm = pretrained.world_model_for(cfg)
    assert "shipped" in wm["source"] and wm["vae"].z_size == wm["mdnrnn"].z_size == 16


def test_evaluate_shipped_plays_the_real_game_and_updates_the_card(tmp_path):
    _ship(tmp_path)
    res = model_card.evaluate_shipped("doom", episodes=2, workers=1, backend="serial", root=tmp_path, max_steps=30)
    assert res["episodes"] == 2 and 1 <= res["mean"] <= 30
    card = pretrained.shipped_card("doom", root=tmp_path)
    assert card["scores"]["real"]["mean"] == res["mean"]
    text = (tmp_path / "doom" / "MODEL_CARD.md").read_text()
    assert f"{res['mean']:.1f}" in text and "weights_only" in text


def test_committed_shipped_models_fit_the_budget_and_load():
    worlds = [w for w in ("doom", "carracing") if pretrained.has_shipped(w)]
    assert worlds, "no shipped models in wmlib/pretrained/: run `python -m wmlib export-pretrained <world>`"
    total = sum(f.stat().st_size for f in pretrained.SHIPPED_ROOT.glob("*/*.pt"))
    assert total < 30 * 2**20, f"shipped models take {total / 2**20:.1f} MiB (budget 30)"
    for world in worlds:
        card = pretrained.shipped_card(world)
        vae = pretrained.load_shipped_vae(world)
        m = pretrained.load_shipped_mdnrnn(world)
        params = pretrained.load_shipped_controller_params(world)
        assert card["parameters"]["vae"] == sum(p.numel() for p in vae.parameters())
        assert card["parameters"]["controller"] == len(params)
        assert m.z_size == vae.z_size
        assert "real" in card["scores"], f"{world}: shipped models not scored (`evaluate-shipped {world}`)"
        with torch.no_grad():
            x = vae.decode(torch.zeros(1, vae.z_size))
        assert x.shape == (1, 3, 64, 64) and torch.isfinite(x).all()


def test_results_table_is_written_between_markers(tmp_path, artifacts):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{results.START}\nold table\n{results.END}\noutro\n")
    results.write_readme(readme)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("intro") and text.rstrip().endswith("outro")
    assert "| doom: vae parameters | 4,446,915 | 4,446,915 |" in text
    assert "210 +- 108" in text and "not run" in text      # empty artifacts: rows say which command fills them
    readme.write_text("no markers here")
    with pytest.raises(ValueError, match="markers"):
        results.write_readme(readme)


def test_results_keep_earlier_rows_this_root_has_not_run(tmp_path, artifacts):
    readme = tmp_path / "README.md"
    readme.write_text(f"{results.START}\n{results.table()}\n{results.END}\n")
    # a row neither this root nor the shipped run has measured (the shipped run fills the others)
    row = ("| CarRacing, random policy (100 episodes, a uniform action each step) | - | 111 +- 22 | - | "
           "`python -m wmlib baseline carracing --episodes 100` |")
    text = readme.read_text()
    old_row = next(r for r in text.splitlines() if r.startswith("| CarRacing, random policy"))
    readme.write_text(text.replace(old_row, row))
    results.write_readme(readme, keep=True)  # the empty root did not run it: the measured row survives, marked
    text = readme.read_text()
    assert "| 111 +- 22 (earlier run) |" in text and "not run" in text
    results.write_readme(readme, keep=True)  # kept once, marked once
    assert readme.read_text().count("(earlier run)") == 1
    results.write_readme(readme)              # without keep, the table is this root's alone
    assert "111 +- 22" not in readme.read_text()


def test_the_pipeline_row_gives_its_time_and_the_score_it_ended_with(artifacts):
    from wmlib import paths
    from wmlib.artifacts import read_json, write_json
    from wmlib.config import get_config

    cfg = get_config("doom", results.PROFILE)
    real = lambda mean, std: dict(real=dict(mean=mean, std=std, episodes=100))
    write_json(paths.ready(paths.reproduce_record(cfg).parent) / paths.reproduce_record(cfg).name, dict(
        order=["collect", "score C in the real game", "iterative round 1"], total_seconds=2400.0,
        stages={"collect": dict(seconds=1500.0), "score C in the real game": dict(seconds=300.0, **real(643.8, 387.0)),
                "iterative round 1": dict(seconds=600.0, **real(421.4, 221.1))}))
    row = next(r for r in results.reproduce_rows() if r.startswith("| doom: whole pipeline"))
    if cfg.iterate.reproduce_rounds == 0:  # laptop: the main job ends at round 0, the longer run beside it
        assert "30 min on 2 CPU cores; it ends at 644 +- 387 real (100 episodes); `--rounds 1`: 40 min, 421 +- 221" in row
    else:
        assert "40 min on 2 CPU cores; it ends at 421 +- 221 real (100 episodes)" in row
    rec = read_json(paths.reproduce_record(cfg))  # a stage another command built: not timed, the last C's score
    write_json(paths.reproduce_record(cfg), dict(rec, stages=dict(rec["stages"], collect=dict(seconds=0.0, reused=True))))
    row = next(r for r in results.reproduce_rows() if r.startswith("| doom: whole pipeline"))
    assert "(some stages built earlier, not counted); it ends at 421 +- 221" in row


def test_shipped_doom_models_of_an_iterative_round_score_on_the_pipeline_row(tmp_path, monkeypatch, artifacts):
    from wmlib.artifacts import write_json

    _ship(tmp_path)
    monkeypatch.setattr(shipped_files, "SHIPPED_ROOT", tmp_path)
    card = pretrained.shipped_card("doom")
    card["scores"]["real"] = dict(mean=732.1, std=431.1, episodes=100)
    for rnd, on_pipeline_row in ((0, False), (1, True)):  # round 0's C is the tau-1.15 row's; a round's C ends the pipeline
        write_json(tmp_path / "doom" / "card.json", dict(card, round=rnd))
        rows = results.table().splitlines()
        tau = next(r for r in rows if r.startswith("| Doom, tau 1.15: score in the real game"))
        pipeline = next(r for r in rows if r.startswith("| doom: whole pipeline"))
        assert ("732 +- 431" in pipeline) == on_pipeline_row and ("732 +- 431" in tau) != on_pipeline_row


def test_the_readme_chapter_table_names_every_chapter_with_its_recorded_time(tmp_path):
    notebooks = sorted(p.stem for p in (Path(results.__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(results.CHAPTERS) == notebooks  # a new chapter needs its line in the README's table
    times = tmp_path / "times.json"
    times.write_text(json.dumps(dict(profile="laptop", train=False, cores=2, chapters={
        "00_worlds": dict(seconds=31, ran=True, load=5.0), "02_memory": dict(seconds=20, ran=True, load=1.0), "01_vision": dict(seconds=9, ran=False, load=1.0)})))
    table = results.chapter_table(times)
    assert "time at `laptop`, `TRAIN` off, 2 CPU cores" in table
    assert "| 31 s (loaded: 5.0) |" in table and "| 20 s |" in table and "| failed |" in table
    assert table.count("| - |") == len(notebooks) - 3
    readme = tmp_path / "README.md"
    readme.write_text(f"{results.CHAPTERS_START}\nSTALE ROWS\n{results.CHAPTERS_END}\n{results.START}\n{results.END}\n")
    results.write_readme(readme)
    assert "STALE ROWS" not in readme.read_text() and "| `07_when_the_dream_lies` |" in readme.read_text()
