"""How far does training M longer carry round 0? The laptop recipe's M at more epochs, trained on a GPU.

On the 2-core box, M at the laptop recipe (8 windows x 100 steps per batch, the rate decaying along a
cosine to 1e-5) took round 0's C from 566 real steps (40 epochs, mean of three CMA-ES seeds) to 694
(80 epochs): README "M trained longer". Each doubling costs the laptop ~7 idle minutes more, so the
next ones are asked on a GPU: the same data, codes, architecture, batch and schedule, only more epochs
(``wmlib.training.mdnrnn.train_mdnrnn`` itself, on CUDA), then C evolved in each M's dream at the
laptop's dream settings for several CMA-ES seeds (``train_in_dream`` on CUDA), then C scored here on
the same 100 real test games as the laptop arms.

    python experiments/doom_m_scale.py prepare --source artifacts-experiments/levers/fresh-w80cos \\
        --dest gpu-carry/m-epochs                                           # here: data (no frames), codes
    python experiments/doom_m_epochs_gpu.py train --dest gpu-carry/m-epochs --epochs 320 160 \\
        --seeds 0 1 2 --out $OUT                                            # on the GPU machine
    python experiments/doom_m_epochs_gpu.py score --source artifacts-experiments/levers/fresh-w80cos \\
        --tars <its output>                                                 # here: the real games

A kill loses at most the M in training: every (epochs, seed) is written as its own tar when done.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from doom_m_scale import TAU, restore_frames, unpack, variant_dir, world_dir, write_table, write_tar  # noqa: E402


def epochs_config(root: Path, epochs: int, seed: int = 0):
    """The laptop Doom config (today's M recipe) with M trained ``epochs`` and CMA-ES at seed + ``seed``."""
    from wmlib.config import get_config

    cfg = get_config("doom", "laptop", str(root))
    return cfg.with_overrides(mdnrnn=dict(epochs=epochs), evolution=dict(seed=cfg.evolution.seed + seed))


def train(dest: Path, epochs_list, seeds, out: Path, budget: float, generations: int | None) -> None:
    import torch

    from wmlib.device import default_device
    from wmlib.training.dream import train_in_dream
    from wmlib.training.mdnrnn import train_mdnrnn

    device = default_device()
    restore_frames(world_dir(Path(dest) / "base") / "data")
    out.mkdir(parents=True, exist_ok=True)
    print(f"device {device}" + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""), flush=True)
    t_start = time.perf_counter()
    summary = dict(device=str(device), runs={})
    for epochs in epochs_list:
        if time.perf_counter() - t_start > budget:
            print(f"budget of {budget:.0f} s spent: {epochs} epochs not started", flush=True)
            break
        m_dir = variant_dir(dest, f"e{epochs}")
        cfg = epochs_config(Path(dest) / f"e{epochs}", epochs)
        t0 = time.perf_counter()
        train_mdnrnn(cfg, progress=False, device=device)
        m_seconds = time.perf_counter() - t0
        log = json.loads((m_dir / "mdnrnn" / "log.json").read_text())
        print(f"{epochs} epochs: {log['step'][-1]} steps in {m_seconds:.0f} s, held-out NLL {log['val_nll'][-1]:.4f}",
              flush=True)
        for seed in seeds:
            name = f"e{epochs}-s{seed}"
            wd = variant_dir(dest, name)
            if not (wd / "mdnrnn").exists():
                shutil.copytree(m_dir / "mdnrnn", wd / "mdnrnn")
            t0 = time.perf_counter()
            res = train_in_dream(epochs_config(Path(dest) / name, epochs, seed), TAU, progress=False,
                                 generations=generations, device=device)
            summary["runs"][name] = dict(epochs=epochs, seed=seed, steps=log["step"][-1], m_seconds=m_seconds,
                                         val_nll=log["val_nll"][-1], dream_seconds=time.perf_counter() - t0,
                                         dream_best_eval=res.best_eval)
            write_tar(wd, out / f"{name}.tar")
            (out / "m_epochs.json").write_text(json.dumps(summary, indent=2))  # after each: a kill keeps the rest
            print(f"{name}: C evolved in its dream in {summary['runs'][name]['dream_seconds']:.0f} s", flush=True)


def score(source: Path, tars: Path, work: Path, workers: int, episodes: int | None) -> None:
    from wmlib.training.dream import evaluate_in_reality
    from wmlib.training.mdnrnn import evaluate_mdnrnn

    src = world_dir(source)
    summary = json.loads((Path(tars) / "m_epochs.json").read_text())
    rows = []
    for name, run in summary["runs"].items():
        unpack(src, Path(tars) / f"{name}.tar", world_dir(Path(work) / name))
        cfg = epochs_config(Path(work) / name, run["epochs"], run["seed"]).with_overrides(
            evolution=dict(workers=workers))
        if episodes:  # a smoke test
            cfg = cfg.with_overrides(dream=dict(real_episodes=episodes, dream_episodes=episodes))
        m = evaluate_mdnrnn(cfg, write=False)
        s = evaluate_in_reality(cfg, TAU)
        rows.append(dict(run, name=name, done_recall=m["done_recall"], done_precision=m["done_precision"],
                         val_nll=m["nll"], dream=s["dream"], real=s["real"]))
        r = rows[-1]
        print(f"| {run['epochs']} epochs ({run['steps']} steps, {run['m_seconds']:.0f} s on {summary['device']}) "
              f"| CMA-ES seed {run['seed']} | {r['val_nll']:.4f} | {r['done_precision']:.2f} / {r['done_recall']:.2f} "
              f"| {r['dream']['mean']:.1f} +- {r['dream']['std']:.1f} | {r['real']['mean']:.1f} +- {r['real']['std']:.1f} |",
              flush=True)
    write_table(Path("artifacts-experiments/m-epochs"), tars, rows, summary)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train", help="on the GPU: M at each number of epochs, then C in its dream per seed")
    p.add_argument("--dest", required=True, help="the folder `doom_m_scale.py prepare` wrote")
    p.add_argument("--epochs", type=int, nargs="+", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="added to the laptop's CMA-ES seed")
    p.add_argument("--out", default=os.environ.get("OUT", "artifacts-experiments/m-epochs/gpu"))
    p.add_argument("--budget", type=float, default=float("inf"), help="seconds after which no new M is started")
    p.add_argument("--dream-generations", type=int, default=None, help="default: the laptop dream's")
    p = sub.add_parser("score", help="here: each C on the real test games with the source's V")
    p.add_argument("--source", required=True, help="the root the data came from (its V plays the games)")
    p.add_argument("--tars", required=True, help="the folder `train` wrote")
    p.add_argument("--work", default="/tmp/wm-m-epochs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--episodes", type=int, default=None, help="real games and dreams (default: the laptop's 100)")
    a = ap.parse_args()
    if a.cmd == "train":
        train(Path(a.dest), a.epochs, a.seeds, Path(a.out), a.budget, a.dream_generations)
    else:
        score(Path(a.source), Path(a.tars), Path(a.work), a.workers, a.episodes)


if __name__ == "__main__":
    main()
