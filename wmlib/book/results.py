"""The README's results table: the paper vs the laptop profile vs the shipped models.

    python -m wmlib results                  # print the table
    python -m wmlib results --write-readme   # replace the table between the markers in README.md

Nothing is typed by hand: parameter counts come from building the models,
scores from the JSON files that the commands named in the table wrote
(``reproduce``, ``evaluate``, ``temperature-sweep``, ``baseline``,
``evaluate-shipped``). A row that has not been run says which command fills it.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import paper
from .. import paths
from ..config import get_config, world_info
from ..training import pipeline

START, END = "<!-- results:start -->", "<!-- results:end -->"
CHAPTERS_START, CHAPTERS_END = "<!-- chapters:start -->", "<!-- chapters:end -->"
# What each chapter builds and shows (the README's chapter table); its time comes from the shipped record.
CHAPTERS = {
    "00_worlds": "the two worlds, what the agent sees, random baselines, random play on disk",
    "01_vision": "V: the VAE, its loss, the latent explorer, bend the track by painting the frame",
    "02_memory": "M: the mixture density RNN, temperature, imagined futures",
    "03_controller": "C and CMA-ES in the real world; V only and V+M driving the same track side by side",
    "04_dream": "C trained inside M's dream and carried back to Doom; the dream player (keys or autopilot)",
    "05_temperature": "the paper's temperature table, one tau at a time",
    "06_iterative": "iterative training: round 0's and round 1's agents on the same real game",
    "07_when_the_dream_lies": "what went wrong at laptop scale and what fixed it, from recorded runs",
    "08_beyond_the_paper": "the paper's two proposals: M's surprise along a real game (curiosity); the car in its own dream",
}
CHAPTER_TIMES = Path(__file__).resolve().parents[1] / "pretrained" / "book" / "chapter_times.json"
PROFILE = "laptop"  # the README reports the laptop profile's runs


def _fmt(score) -> str:
    if not score:
        return "not run"
    return f"{score['mean']:.0f} +- {score['std']:.0f}"


def _paper(pair) -> str:
    return f"{pair[0]} +- {pair[1]}"


def _read(cfg, path: Path):
    """The run's JSON at ``path``; else the shipped run's copy (``wmlib.book.recorded``); else None."""
    from .recorded import result

    found = result(cfg, path)
    return found.data if found else None


def parameter_rows() -> list[str]:
    from ..models.controller import param_count
    from ..models.mdnrnn import MDNRNN
    from ..models.vae import ConvVAE

    rows = []
    for world in ("carracing", "doom"):  # the paper's sizes
        cfg = get_config(world, "paper")
        z, hidden = cfg.vae.z_size, cfg.mdnrnn.hidden
        ours = dict(vae=sum(p.numel() for p in ConvVAE(z).parameters()),
                    mdnrnn=MDNRNN(z, cfg.action_size, hidden, cfg.mdnrnn.n_mixtures,
                                  done_head=cfg.mdnrnn.done_head).n_params,
                    controller=param_count(world, z, hidden, "zh"))
        for part in ("vae", "mdnrnn", "controller"):
            rows.append(f"| {world}: {part} parameters | {paper.PARAMS[world][part]:,} | {ours[part]:,} | "
                        f"same code | `python -m pytest tests/` |")
    return rows


def car_rows(profile: str = PROFILE, artifacts=None) -> list[str]:
    cfg = get_config("carracing", profile, artifacts)
    shipped, _ = _shipped("carracing")
    rows = []
    for mode, label in (("z", "World Model, V only (C reads z)"), ("zh", "World Model, full (C reads z and h)")):
        episodes = cfg.evolution.test_episodes
        res = _read(cfg, paths.controller_score(cfg, mode, "deployed", episodes))
        run = _read(cfg, paths.controller_dir(cfg, mode) / paths.RUN) or {}
        warm = " (CMA-ES began at a V-only C: `evolution.start`)" if res and run.get("start") else ""
        ship = _fmt(shipped) if mode == "zh" else "-"
        rows.append(f"| CarRacing, {label[13:]} ({episodes} episodes) | {_paper(paper.CARRACING_SCORES[label])} | "
                    f"{_fmt(res)}{warm} | {ship} | `python -m wmlib train-controller carracing --mode {mode}` then "
                    f"`python -m wmlib evaluate carracing --mode {mode} --episodes {episodes}` |")
    base = _read(cfg, paths.baseline_file(cfg, 100))
    rows.append(f"| CarRacing, random policy (100 episodes, a uniform action each step) | - | {_fmt(base)} | - | "
                f"`python -m wmlib baseline carracing --episodes 100` |")
    return rows


def _sweep_row(cfg, tau: float):
    """(dream, real) scores of the laptop sweep at tau, from the files train-in-dream writes."""
    res = _read(cfg, paths.dream_score(cfg, tau, "deployed"))
    if not res:
        return None, None
    return res.get("dream"), res.get("real")


def doom_rows(profile: str = PROFILE, artifacts=None) -> list[str]:
    rows = []
    cfg = get_config("doom", profile, artifacts)
    # shipped Doom models from an iterative round are the pipeline's end, not the tau-1.15 row's round-0 C
    shipped, shipped_round = _shipped("doom")
    for tau, (dream_ref, real_ref) in paper.DOOM_TEMPERATURE.items():
        dream, real = _sweep_row(cfg, tau)
        cmd = f"`python -m wmlib train-in-dream doom --tau {tau:.2f}` (all five: `python -m wmlib temperature-sweep doom`)"
        rows.append(f"| Doom, tau {tau:.2f}: score in the dream (100 dreams) | {_paper(dream_ref)} | {_fmt(dream)} | - | {cmd} |")
        ship = _fmt(shipped) if abs(tau - 1.15) < 1e-9 and shipped_round == 0 else "-"
        rows.append(f"| Doom, tau {tau:.2f}: score in the real game (100 episodes) | {_paper(real_ref)} | {_fmt(real)} | "
                    f"{ship} | same |")
    base = _read(cfg, paths.baseline_file(cfg, 100))
    rows.append(f"| Doom, random policy (100 episodes) | {_paper(paper.DOOM_RANDOM_POLICY)} | {_fmt(base)} | - | "
                f"`python -m wmlib baseline doom --episodes 100` |")
    return rows


def _ends(rec: dict) -> list:
    """(minutes so far, real score) at each stage that scored a C in the real game, in order: round 0, 1, ..."""
    ends, seconds = [], 0.0
    for name in rec.get("order", []):
        stage = rec["stages"].get(name, {})
        seconds += stage.get("seconds", 0.0)
        if isinstance(stage.get("real"), dict):
            ends.append((seconds / 60, stage["real"]))
    return ends


def reproduce_rows(profile: str = PROFILE, artifacts=None) -> list[str]:
    rows = []
    for world in ("doom", "carracing"):
        wcfg = get_config(world, profile, artifacts)
        rec = _read(wcfg, paths.reproduce_record(wcfg))
        took = "not run"
        if rec and "total_seconds" in rec:
            took = f"{rec['total_seconds'] / 60:.0f} min on 2 CPU cores"
            reused = [s.get("reused", False) for s in rec["stages"].values()]
            if all(reused):
                took = "every stage built by its own command (not timed as one run)"
            elif any(reused):
                took += " (some stages built earlier, not counted)"
            ends = _ends(rec)
            if ends and not any(reused):  # the main job's end; a longer run's rounds (--rounds k) beside it
                cfg = get_config(world, profile, artifacts)
                end_at = (min(pipeline.reproduce_rounds(cfg), len(ends) - 1) if world_info(world).dream_trained
                          else len(ends) - 1)
                minutes, r = ends[end_at]
                took = (f"{minutes:.0f} min on 2 CPU cores; it ends at {r['mean']:.0f} +- {r['std']:.0f} real "
                        f"({r.get('episodes', '?')} episodes)")
                took += "".join(f"; `--rounds {k}`: {m:.0f} min, {x['mean']:.0f} +- {x['std']:.0f}"
                                for k, (m, x) in enumerate(ends) if k > end_at)
            elif ends:
                r = ends[-1][1]
                took += f"; it ends at {r['mean']:.0f} +- {r['std']:.0f} real ({r.get('episodes', '?')} episodes)"
        paper_cost = paper.COST[world]
        shipped, shipped_round = _shipped(world)
        ship = f"{_fmt(shipped)} (round {shipped_round})" if shipped_round else "-"
        rows.append(f"| {world}: whole pipeline, wall time | {paper_cost} | {took} | {ship} | "
                    f"`python -m wmlib reproduce {world}` |")
    return rows


def own_rows(profile: str = PROFILE, artifacts=None) -> list[str]:
    """Measurements the paper does not report but the book does: V's and M's held-out quality."""
    rows = []
    for world in ("doom", "carracing"):
        cfg = get_config(world, profile, artifacts)
        v = _read(cfg, paths.vae_dir(cfg) / paths.VAE_HELDOUT)
        m = _read(cfg, paths.mdnrnn_dir(cfg) / paths.MDNRNN_EVAL)
        v_text = f"{v['mse_per_pixel']:.5f} ({v['frames']:,} frames)" if v else "not run"
        m_text = f"{m['nll']:.3f} ({m['baseline_nll']:.3f})" if m else "not run"
        rows.append(f"| {world}: V held-out squared error per pixel | - | {v_text} | - | "
                    f"`python -m wmlib vae-report {world}` |")
        rows.append(f"| {world}: M held-out NLL, nats per latent dim (no-change baseline) | - | {m_text} | - | "
                    f"`python -m wmlib eval-mdnrnn {world}` |")
        if world_info(world).done_head:
            d_text = (f"{m['done_precision']:.2f} / {m['done_recall']:.2f} ({m['deaths']} deaths)"
                      if m else "not run")
            rows.append(f"| {world}: M's done head at p > 0.5, precision / recall | - | {d_text} | - | "
                        f"`python -m wmlib eval-mdnrnn {world}` |")
    return rows


def _shipped(world: str) -> tuple[dict | None, int]:
    """The shipped models' real score (None: not shipped or not scored) and the iterative-training
    round they come from (0: none, or not Doom)."""
    from .pretrained import has_shipped, shipped_card

    if not has_shipped(world):
        return None, 0
    card = shipped_card(world)
    return card.get("scores", {}).get("real"), int(card.get("round", 0))


def table(profile: str = PROFILE, artifacts=None) -> str:
    """The table in markdown: the paper's numbers beside ``profile``'s runs under ``artifacts``."""
    head = ["| row of ../shared/PAPER.md | paper | laptop profile (ours) | shipped models | command |",
            "|---|---|---|---|---|"]
    runs = dict(profile=profile, artifacts=artifacts)
    return "\n".join(head + parameter_rows() + own_rows(**runs) + car_rows(**runs) + doom_rows(**runs)
                     + reproduce_rows(**runs))


KEPT = "(earlier run)"  # marks a row kept from the README because this artifacts root has not run it


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def merge_rows(new: str, old: str) -> str:
    """``new`` table, except rows it has not run ("not run" in our column) keep ``old``'s measured row,
    marked as an earlier run. Lets one artifacts root update the rows it measured without erasing the rest."""
    kept = {}
    for row in old.splitlines():
        cells = _cells(row)
        if len(cells) >= 3 and row.startswith("|") and "not run" not in cells[2]:
            kept[cells[0]] = cells
    out = []
    for row in new.splitlines():
        cells = _cells(row)
        if len(cells) >= 3 and "not run" in cells[2] and cells[0] in kept:
            cells = list(kept[cells[0]])
            if KEPT not in cells[2]:
                cells[2] = f"{cells[2]} {KEPT}"
            row = "| " + " | ".join(cells) + " |"
        out.append(row)
    return "\n".join(out)


def chapter_table(times: Path = CHAPTER_TIMES) -> str:
    """The chapters, what each builds, and how long it ran top to bottom with TRAIN off (shipped models)
    in the recorded run of ``bash experiments/time_notebooks.sh`` (WM_RECORD=1)."""
    record = json.loads(times.read_text()) if times.exists() else {"chapters": {}}
    where = (f"time at `{record['profile']}`, `TRAIN` off, {record['cores']} CPU cores" if record["chapters"]
             else "time (not recorded: `WM_RECORD=1 bash experiments/time_notebooks.sh <empty folder>`)")
    lines = [f"| chapter | what you build and see | {where} |", "|---|---|---|"]
    for name, what in CHAPTERS.items():
        run = record["chapters"].get(name)
        took = "-" if not run else (f"{run['seconds']} s" if run["ran"] else "failed")
        if run and run["ran"] and run.get("load", 0) > record["cores"]:  # other jobs shared the cores
            took += f" (loaded: {run['load']:.1f})"
        lines.append(f"| `{name}` | {what} | {took} |")
    return "\n".join(lines)


def _replace_block(text: str, start: str, end: str, new: str, where: str) -> str:
    if start not in text or end not in text:
        raise ValueError(f"{where} has no markers {start} / {end}: add the two lines where the table belongs")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{new}\n{end}{after}"


def write_readme(readme: Path, profile: str = PROFILE, artifacts=None, keep: bool = False) -> None:
    """Replace the table between the markers; ``keep``: rows not run under ``artifacts`` keep the
    README's earlier measurement, marked "(earlier run)"."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no results markers: add the lines {START} and {END} where the "
                         "table belongs")
    old = text.split(START, 1)[1].split(END, 1)[0]
    new = table(profile, artifacts)
    if keep:
        new = merge_rows(new, old)
    text = _replace_block(text, START, END, new, str(readme))
    if CHAPTERS_START in text:  # the chapter table, where the README has one
        text = _replace_block(text, CHAPTERS_START, CHAPTERS_END, chapter_table(), str(readme))
    readme.write_text(text)


__all__ = ["PROFILE", "parameter_rows", "car_rows", "doom_rows", "reproduce_rows", "own_rows", "table",
           "write_readme", "merge_rows", "chapter_table", "CHAPTERS"]
