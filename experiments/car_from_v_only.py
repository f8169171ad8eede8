"""V+M evolved from a V-only C, against the same V-only C evolved on: does reading M's h pay once C drives?

    python experiments/car_from_v_only.py artifacts-car --shipped --seeds 0 1 2 --history from_v_only
    python experiments/car_from_v_only.py artifacts-car-s002 --shipped --set evolution.sigma0=0.02 \
        --history from_v_only_sigma002

``root`` is a CarRacing laptop root with V and M (``reproduce carracing`` made one; ``--shipped`` first copies
the shipped V and M into it). The start is a controller file reading z (``--start``, default
``experiments/starts/carracing-v-only.pt``: the V-only C the book shipped until 2026-12-05). For every CMA-ES
seed, in a folder of its own beside the root (``<root>-seedS``: V and M are links to the root's), two arms with
the same budget, both from that start:

* V+M: ``train-controller carracing --mode zh --set evolution.start=START`` (C on [z, h], h's weights zero:
  it begins as the V-only driver);
* V only evolved on: ``train-controller carracing --mode z --set evolution.start=START``;

each then scored on the 100 official test tracks (``evaluate``), and the start itself once on the same tracks
(``score_controller_file.py``). Prints each arm per seed and the paired differences (same tracks, +- the
standard error over them); ``--history NAME`` writes the table to ``wmlib/pretrained/carracing/history``.
Runs already finished are reused (the library's stage keys), so the same command only assembles the table.
``--set KEY=VALUE`` (repeatable): a setting for both arms, e.g. ``evolution.sigma0=0.02`` (a first step size that
keeps the first populations near the start's driver) or ``evolution.same_episodes=true`` (every candidate of a
generation on the same track); named in the history's title, command and facts.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from wmlib import paths
from wmlib.agent.evolution import load_result
from wmlib.artifacts import file_sha256, link_stages, read_json, write_json
from wmlib.book.history import history_dir
from wmlib.book.pretrained import shipped_dir
from wmlib.config import apply_settings, get_config
from wmlib.training.c_run import params_sha256

from paired import paired_difference  # experiments/paired.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
ARMS = {"zh": "V+M from the start", "z": "V only, evolved on"}


def machine() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
             if line.startswith("model name")] if cpuinfo.exists() else []
    return f"{names[0]} x {len(names)}" if names else (platform.processor() or platform.machine())


def seed_root(root: Path, seed: int) -> Path:
    return root.parent / f"{root.name}-seed{seed}"


def ship_models(root: Path, profile: str) -> None:
    """The shipped V and M as the root's (kept if the root has its own)."""
    cfg = get_config("carracing", profile, str(root))
    for part, path in (("vae", paths.vae_file(cfg)), ("mdnrnn", paths.mdnrnn_file(cfg))):
        if not path.exists():
            paths.ready(path.parent)
            shutil.copyfile(shipped_dir("carracing") / f"{part}.pt", path)


def run(cmd: list[str], log: Path) -> None:
    with open(log, "a") as out:
        subprocess.run([sys.executable, *cmd], check=True, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def arm(out: Path, mode: str, seed: int, start: Path, args) -> dict | None:
    """Evolve and score one arm of one seed (reused when done): its score, time and deployed generation.
    With ``--no-run``: what is finished, else None."""
    cfg = get_config("carracing", args.profile, str(out))
    done = paths.controller_score(cfg, mode, "deployed", args.episodes)
    if args.no_run and not done.exists():
        return None
    flags = ["carracing", "--mode", mode, "--profile", args.profile, "--artifacts", str(out),
             "--set", f"evolution.start={start}", "--set", f"evolution.seed={seed}", "--workers", str(args.workers)]
    for setting in args.set:
        flags += ["--set", setting]
    log = out / f"arm-{mode}.log"
    if not args.no_run:
        run(["-m", "wmlib", "train-controller", *flags], log)
        run(["-m", "wmlib", "evaluate", *flags, "--episodes", str(args.episodes)], log)
    res = load_result(paths.controller_dir(cfg, mode))
    evals = res.evaluations
    best = max(evals, key=lambda e: e["mean"]) if evals else None
    score = read_json(done)
    if score.get("key", {}).get("params_sha256") != params_sha256(res.deployed_params):
        if args.no_run:  # a run continued since it was scored (more generations): not finished yet
            return None
        raise RuntimeError(f"{done} scored another C than {paths.controller_dir(cfg, mode)} deploys now")
    return dict(returns=np.asarray(score["returns"], float), minutes=sum(h["seconds"] for h in res.history) / 60,
                deployed=None if best is None else int(best["generation"]))


def start_score(root: Path, start: Path, args) -> np.ndarray:
    out = paths.run_dir(get_config("carracing", args.profile, str(root))) / f"start-{args.episodes}.json"
    if not (out.exists() and read_json(out).get("controller_sha256") == file_sha256(start)):
        run([str(ROOT / "experiments" / "score_controller_file.py"), str(root), str(start), "--out", str(out),
             "--profile", args.profile, "--episodes", str(args.episodes), "--workers", str(args.workers)],
            root / "start.log")
    return np.asarray(read_json(out)["returns"], float)


def score(r: np.ndarray) -> dict:
    return dict(mean=round(float(r.mean()), 1), std=round(float(r.std()), 1))


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    diff, se = paired_difference(a, b)
    return dict(diff=round(diff, 1), se=round(se, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--start", type=Path, default=ROOT / "experiments" / "starts" / "carracing-v-only.pt",
                    help="a controller file reading z (default: the V-only C shipped until 2026-12-05, kept here "
                         "since the shipped one is replaced by each export)")
    ap.add_argument("--shipped", action="store_true", help="copy the shipped V and M into the root first")
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a setting for both arms (repeatable), e.g. evolution.sigma0=0.02")
    ap.add_argument("--no-run", action="store_true", help="only assemble the arms already scored")
    ap.add_argument("--history", default=None, help="write the table as this history name (carracing)")
    args = ap.parse_args()
    root, start = args.root.resolve(), args.start.resolve()
    try:  # every setting checked before any run
        ev = apply_settings(get_config("carracing", args.profile), args.set).evolution
    except ValueError as err:
        ap.error(str(err))
    settings = dict(s.split("=", 1) for s in args.set)
    if args.shipped:
        ship_models(root, args.profile)
    base = start_score(root, start, args)
    rows, arms = [], {}
    for seed in args.seeds:
        out = seed_root(root, seed)
        link_stages(paths.run_dir(get_config("carracing", args.profile, str(root))),
                    paths.run_dir(get_config("carracing", args.profile, str(out))), ("vae", "mdnrnn"))
        arms[seed] = {mode: arm(out, mode, seed, start, args) for mode in ARMS}
        zh, z = arms[seed]["zh"], arms[seed]["z"]
        if zh is None and z is None:
            continue
        row = dict(seed=seed)  # an arm not run (--no-run) is left out of its row
        for mode, a in (("zh", zh), ("z", z)):
            if a is not None:
                row.update({mode: score(a["returns"]), f"{mode}_start": paired(a["returns"], base)})
        if zh is not None and z is not None:
            row["zh_z"] = paired(zh["returns"], z["returns"])
        row["minutes"] = [None if a is None else round(a["minutes"], 1) for a in (zh, z)]
        row["deployed"] = [None if a is None else a["deployed"] for a in (zh, z)]
        rows.append(row)
        print(f"seed {seed}: V+M {row.get('zh')}, V only on {row.get('z')}, start {score(base)}; "
              f"V+M - V only {row.get('zh_z')}", flush=True)
    means = {m: [float(arms[s][m]["returns"].mean()) for s in args.seeds if arms[s][m] is not None] for m in ARMS}
    summary = {m: dict(mean=round(float(np.mean(v)), 1), std=round(float(np.std(v)), 1)) if v else None
               for m, v in means.items()}
    print(f"over {len(args.seeds)} seeds: V+M {summary['zh']}, V only evolved on {summary['z']}; start {score(base)}")
    also = "".join(f", {k.split('.', 1)[1]} {v}" for k, v in settings.items()
                   if k not in ("evolution.sigma0", "evolution.generations"))
    if args.history:
        doc = dict(
            title=f"V+M started from the V-only C" + (", against the V-only C evolved on" if summary["z"] else "")
                  + f" ({ev.generations} x {ev.population} x {ev.rollouts} each, sigma0 {ev.sigma0:g}{also})",
            question="C on [z, h] begins as the V-only driver (h's weights zero) instead of at zero weights. "
                     + ("With the same budget from the same start, does reading M's h beat reading z alone?"
                        if summary["z"] else "Does V+M climb above the driver it starts as?"),
            section="CarRacing: V+M from the V-only C",
            measured=f"{machine()}, {args.workers} rollout worker(s) per arm, "
                     "several arms at a time on the 2-core box (loaded); every C on the same "
                     f"{args.episodes} official-renderer test tracks; means over seeds: mean +- std of the seeds' "
                     "means (ddof 0); paired: +- the standard error over the tracks",
            command=f"python experiments/car_from_v_only.py <root> --shipped --seeds "
                    f"{' '.join(map(str, args.seeds))}"
                    + "".join(f" --set {s}" for s in args.set) + f" --history {args.history}",
            columns=[dict(key="seed", label="CMA-ES seed"), dict(key="zh", label="V+M from the start"),
                     dict(key="z", label="V only, evolved on"), dict(key="zh_z", label="paired V+M - V only"),
                     dict(key="zh_start", label="paired V+M - start"),
                     dict(key="z_start", label="paired V only - start"),
                     dict(key="minutes", label="evolution, min (V+M / V only)"),
                     dict(key="deployed", label="deployed generation (V+M / V only)")],
            rows=rows,
            facts=dict(sigma0=ev.sigma0, settings=settings,
                       start=dict(score(base), episodes=args.episodes,
                                  controller=str(start.relative_to(ROOT)) if start.is_relative_to(ROOT) else str(start)),
                       **{f"seeds_{m}": dict(summary[m], seeds=[round(v, 1) for v in means[m]])
                          for m in ARMS if summary[m]}),
            source="experiments/car_from_v_only.py",
        )
        path = history_dir("carracing") / f"{args.history}.json"
        write_json(path, doc)
        print(f"wrote {path}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
