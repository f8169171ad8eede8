"""The whole pipeline in one command: ``python -m wmlib reproduce doom``.

Doom (the paper's headline): collect random play -> train V -> encode every
frame -> train M -> evolve C inside M's dream at tau -> score C in the real
game. CarRacing (``--world carracing``): the same first four stages, then C is
evolved in the real world reading [z, h] and scored there.

Every stage is get-or-build through one store (``training.stages``): it resumes
a killed run and is a no-op once its output exists with the same key, so running
the command again after an interruption picks up where it stopped. The store
says which stages were reused; the wall time of each stage, as measured by the
run that did the work, is kept in ``<world>/<profile>/reproduce.json``.
"""
from __future__ import annotations

import time

from .. import paths
from ..artifacts import read_json, write_json
from ..config import Config, world_info
from .. import paper
from .stages import watch


def _record(cfg: Config) -> dict:
    path = paths.reproduce_record(cfg)
    return read_json(path) if path.exists() else dict(world=cfg.world, profile=cfg.profile, stages={})


def _save_record(cfg: Config, record: dict) -> None:
    write_json(paths.reproduce_record(cfg), record)


def pipeline(cfg: Config, tau: float | None = None) -> list:
    """The stages as (name, function) pairs; each function returns a JSON-able summary."""
    from ..worlds.data import collect, pending_episodes
    from .mdnrnn import train_mdnrnn
    from .stages import note
    from .vae import encode_dataset, train_vae

    def collect_stage():
        root = paths.data_dir(cfg)
        missing = not (root / "dataset.json").exists() or pending_episodes(root, cfg.collect.episodes)
        ds = collect(cfg)
        note("random play", "built" if missing else "reused")
        return dict(episodes=int(ds.n_episodes), frames=int(ds.n_frames))

    stages = [
        ("collect", collect_stage),
        ("train V", lambda: dict(path=str(train_vae(cfg)))),
        ("encode", lambda: dict(episodes=int(encode_dataset(cfg).n_episodes))),
        ("train M", lambda: dict(path=str(train_mdnrnn(cfg)))),
    ]
    if world_info(cfg.world).dream_trained:
        from .dream import evaluate_in_reality, train_in_dream

        tau = cfg.dream.tau if tau is None else float(tau)
        stages += [
            (f"train C in the dream (tau {tau:g})", lambda: dict(generations=int(train_in_dream(cfg, tau).generations))),
            ("score C in the real game", lambda: _scores(evaluate_in_reality(cfg, tau))),
        ]
        # The paper's iterative training: each round adds C's real games to M's data (training.iterate).
        for k in range(1, reproduce_rounds(cfg) + 1):
            stages.append((f"iterative round {k}", lambda k=k: _round_scores(cfg, k)))
    else:
        from .controller import evaluate_controller, train_controller

        if cfg.evolution.start == "v_only":  # V+M starts from the V-only C: evolve and score that one first
            stages += [
                ("train C on z alone", lambda: dict(generations=int(train_controller(cfg, "z").generations))),
                ("score C on z alone", lambda: _scores(dict(real=evaluate_controller(cfg, "z")))),
            ]
        stages += [
            ("train C in the real world", lambda: dict(generations=int(train_controller(cfg, "zh").generations))),
            ("score C", lambda: _scores(dict(real=evaluate_controller(cfg, "zh")))),
        ]
    return stages


def reproduce_rounds(cfg: Config) -> int:
    """Rounds of iterative training ``reproduce doom`` runs: ``iterate.reproduce_rounds``, or ``rounds``."""
    it = cfg.iterate
    return it.rounds if it.reproduce_rounds < 0 else it.reproduce_rounds


def _round_scores(cfg: Config, k: int) -> dict:
    from .iterate import iterate

    row = iterate(cfg, rounds=k)[-1]
    return dict(round=k, episodes=row["episodes"], dream=row["dream"], real=row["real"])


def _scores(res: dict) -> dict:
    """Keep mean, std and episodes of each score in a result (drop per-episode lists)."""
    out = {}
    for key in ("dream", "real"):
        if isinstance(res.get(key), dict):
            r = res[key]
            out[key] = dict(mean=float(r["mean"]), std=float(r["std"]),
                            episodes=int(r.get("episodes", len(r.get("returns", [])))))
    return out


def reproduce(cfg: Config, tau: float | None = None) -> dict:
    """Run (or resume) every stage; returns the record with stage times and scores."""
    record = _record(cfg)
    stages = pipeline(cfg, tau)
    record["order"] = [name for name, _ in stages]  # JSON files keep keys sorted: remember the order
    for name, run in stages:
        print(f"== {cfg.world} / {cfg.profile}: {name}", flush=True)
        t0 = time.time()
        with watch() as seen:
            summary = run()
        seconds = time.time() - t0
        old = record["stages"].get(name)
        # A stage the store found on disk took ~0 s: keep the time of the run that did the work,
        # or, if another command built it, say so rather than claim it took no time.
        if any(how == "built" for _, how in seen) or not seen:
            record["stages"][name] = dict(seconds=round(seconds, 1), **summary)
        elif old is not None:
            record["stages"][name] = dict(old, **summary)
        else:
            record["stages"][name] = dict(seconds=round(seconds, 1), reused=True, **summary)
        _save_record(cfg, record)
    last = record["stages"][record["order"][-1]]
    record["scores"] = {k: last[k] for k in ("dream", "real") if k in last}
    record["total_seconds"] = round(sum(record["stages"][n]["seconds"] for n in record["order"]), 1)
    _save_record(cfg, record)
    return record


def format_record(record: dict, tau: float | None = None) -> str:
    lines = [f"{'stage':<40} {'wall time':>10}"]
    reused = False
    for name in record["order"]:
        s = record["stages"][name]
        if s.get("reused"):
            reused = True
            lines.append(f"{name:<40} {'on disk':>12}")
        else:
            lines.append(f"{name:<40} {s['seconds'] / 60:>8.1f} min")
    lines.append(f"{'total':<40} {record['total_seconds'] / 60:>8.1f} min"
                 + ("  (stages found on disk, built by other commands, not counted)" if reused else ""))
    lines.append("")
    scores = record.get("scores", {})
    if world_info(record["world"]).dream_trained:
        tau = tau if tau is not None else 1.15
        ref = paper.DOOM_TEMPERATURE.get(round(tau, 2))
        for key, idx in (("dream", 0), ("real", 1)):
            if key in scores:
                s = scores[key]
                line = f"score in the {key:<6} {s['mean']:7.1f} +- {s['std']:.1f} over {s['episodes']} episodes"
                if ref:
                    line += f"   (paper at tau {tau:g}: {ref[idx][0]} +- {ref[idx][1]})"
                lines.append(line)
        if "real" in scores:
            solved = scores["real"]["mean"] >= paper.DOOM_SOLVED
            lines.append(f"solved (> {paper.DOOM_SOLVED} steps in the real game): {'yes' if solved else 'no'}"
                         f"   (random policy: {paper.DOOM_RANDOM_POLICY[0]} +- {paper.DOOM_RANDOM_POLICY[1]})")
    elif "real" in scores:
        s = scores["real"]
        ref = paper.CARRACING_SCORES["World Model, full (C reads z and h)"]
        lines.append(f"score (C reads z and h) {s['mean']:.1f} +- {s['std']:.1f} over {s['episodes']} episodes"
                     f"   (paper: {ref[0]} +- {ref[1]}; solved at {paper.CARRACING_SOLVED})")
    return "\n".join(lines)


__all__ = ["pipeline", "reproduce", "format_record"]
