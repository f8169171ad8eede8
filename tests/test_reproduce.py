"""The README's main job, end to end at the ci profile: every stage runs, a rerun resumes as a no-op."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wmlib.artifacts import read_json


def _reproduce(artifacts, *args):
    env = dict(os.environ, WM_ARTIFACTS=str(artifacts), WM_PROFILE="ci", SDL_VIDEODRIVER="dummy")
    return subprocess.run([sys.executable, "-m", "wmlib", "reproduce", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args, world, last", [
    (["doom"], "doom", "iterative round 1"),  # the ci profile runs one tiny round of iterative training
    (["--world", "carracing"], "carracing", "score C"),
])
def test_reproduce_runs_every_stage_and_resumes(tmp_path, args, world, last):
    out = _reproduce(tmp_path, *args)
    assert out.returncode == 0, out.stderr[-3000:]
    record = read_json(tmp_path / world / "ci" / "reproduce.json")
    assert record["order"][0] == "collect" and record["order"][-1] == last
    assert set(record["order"]) == set(record["stages"])
    real = record["scores"]["real"]
    assert real["episodes"] == 2 and real["mean"] > 0
    assert "total" in out.stdout and "score" in out.stdout

    saved = {p: p.stat().st_mtime_ns for p in (tmp_path / world / "ci").rglob("*.pt")}
    again = _reproduce(tmp_path, *args)                  # everything on disk: each stage is a no-op
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_json(tmp_path / world / "ci" / "reproduce.json")["scores"] == record["scores"]
    assert {p: p.stat().st_mtime_ns for p in saved} == saved, "a finished stage rewrote its checkpoint"
    if world == "carracing":  # the shipped card names the budget its C was evolved with
        from wmlib.book import export
        from wmlib.config import get_config

        ev = get_config(world, "ci").evolution
        out = export.export_pretrained(world, "ci", root=tmp_path / "shipped", artifacts=str(tmp_path))
        controller = read_json(out / "card.json")["controller"]
        assert f"{ev.generations} generations x {ev.population} candidates x {ev.rollouts} track(s)" in controller
        assert "--rollouts" not in controller  # the profile's own budget needs no extra flag


def test_diagnose_dream_reports_actions_in_both_worlds(tmp_path):
    assert _reproduce(tmp_path, "doom").returncode == 0
    env = dict(os.environ, WM_ARTIFACTS=str(tmp_path), WM_PROFILE="ci", SDL_VIDEODRIVER="dummy")
    out = subprocess.run([sys.executable, "-m", "wmlib", "diagnose-dream", "doom", "--episodes", "2"], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    dream, real = out.stdout.split("in the real game")
    for part in (dream, real):
        rows = [line.split() for line in part.splitlines() if line.strip()[:1].isdigit()]
        assert len(rows) == 2
        for row in rows:
            steps, shares = int(row[1]), [float(x) for x in row[2:5]]
            # ci caps episodes at 100 steps; three shares printed to 2 decimals sum to 1 within 3 x 0.005
            assert 1 <= steps <= 100 and abs(sum(shares) - 1) <= 0.015 + 1e-9
    for row in [line.split() for line in real.splitlines() if line.strip()[:1].isdigit()]:
        assert 0 <= float(row[7]) <= 1 and row[8] in ("True", "False")  # share of steps at a wall, died there


def test_reproduce_rejects_an_unknown_world(tmp_path):
    out = _reproduce(tmp_path, "pong")
    assert out.returncode == 2 and "unknown world 'pong'" in out.stderr and "doom" in out.stderr


def test_laptop_reproduce_stops_at_round_0_unless_rounds_are_asked_for(monkeypatch, tmp_path):
    """The laptop main job ends at round 0 (within 45 minutes); --rounds runs the longer, best recipe."""
    from wmlib import cli
    from wmlib.config import get_config
    from wmlib.training import pipeline

    cfg = get_config("doom", "laptop", str(tmp_path))
    assert cfg.iterate.rounds == 1 and pipeline.reproduce_rounds(cfg) == 0
    names = [name for name, _ in pipeline.pipeline(cfg)]
    assert names[-1] == "score C in the real game" and not any("round" in n for n in names)
    assert pipeline.reproduce_rounds(get_config("doom", "ci", str(tmp_path))) == 1  # -1: iterate.rounds

    seen = []
    monkeypatch.setattr(pipeline, "reproduce", lambda cfg, tau: seen.append(cfg) or dict(order=[], stages={}))
    monkeypatch.setattr(pipeline, "format_record", lambda record, tau: "")
    for argv, rounds in ((["doom"], 0), (["doom", "--rounds", "2"], 2)):
        assert cli.main(["reproduce", *argv, "--profile", "laptop", "--artifacts", str(tmp_path)]) == 0
        assert pipeline.reproduce_rounds(seen[-1]) == rounds
    assert [n for n, _ in pipeline.pipeline(seen[-1])][-2:] == ["iterative round 1", "iterative round 2"]


def test_the_gpu_profile_runs_end_to_end_on_a_cpu_at_ci_sizes(tmp_path):
    """The gpu profile's pipeline (buckets, 64 x 16 dreams shrunk, a round of iterative training) at ci's
    sizes on this machine's CPU: what a GPU session runs at full size (benchmarks/gpu_reproduce.sh)."""
    from wmlib import config
    from wmlib.training import pipeline

    cfg = config.get_config("doom", "gpu", str(tmp_path))
    small = {section: dict(values) for section, values in config._CI["doom"].items()}
    small["dream"].update(population=4, rollouts=2, generations=2)
    cfg = cfg.with_overrides(**small)
    assert cfg.mdnrnn.batching == "buckets" and cfg.collect.episodes == 4
    stages = pipeline.pipeline(cfg)
    assert [name for name, _ in stages][-1] == "iterative round 1"
    out = {name: run() for name, run in stages}
    assert out["iterative round 1"]["real"]["episodes"] == cfg.dream.real_episodes
    log = read_json(tmp_path / "doom" / "gpu" / "mdnrnn" / "log.json")
    assert log["step"], "M trained"
