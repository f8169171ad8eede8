"""Scale or coverage? M trained with the original's compute on the laptop's random games, C evolved in its dream.

At laptop scale the dream-trained C of round 0 holds one direction and dies at the wall
(172.2 +- 47.4 real steps); one round of iterative training (C's own real games added to
M's data) lifts it to 763.8 +- 444.6. The laptop M saw ~650x fewer transitions than the
original's (1.86M against 400 epochs x 61 batches x 100 x 499 = 1.22e9). This asks whether
compute alone, on the same 200 random games, would have closed the gap: M is trained on a
GPU at the paper's batch (100 windows of 500 steps) until a wall-clock budget or the
original's 1.22e9 transitions, whichever comes first; C is evolved in its dream at the
laptop's dream settings (32 x 8 x 20 generations, tau 1.15); C then plays the same 100
real test games as the laptop's round 0. Two Ms: the last one ("final": the original had
no early stopping) and the one with the best held-out NLL ("best").

Three steps, the middle one on the GPU machine:

    python experiments/doom_m_scale.py prepare --source /tmp/wm-fresh-doom/artifacts --dest gpu-carry/m-scale
    python experiments/doom_m_scale.py train --dest gpu-carry/m-scale --budget 240 --out $OUT
    python experiments/doom_m_scale.py score --source /tmp/wm-fresh-doom/artifacts --tars <dir with final.tar, best.tar>

``prepare`` copies the round-0 data without its frames (M and the dream read V's codes,
never pixels; ``train`` puts empty frame files back so the dataset opens), ``score``
plays the real games here with the source root's V and prints the table (also written
to ``artifacts-experiments/m-scale/table.json``).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import tarfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ORIGINAL_TRANSITIONS = 400 * 61 * 100 * 499   # the original's M training: epochs x batches x batch x steps
VARIANTS = ("final", "best")
TAU = 1.15


PAPER_BATCH = (100, 500)  # windows per batch, steps per window: the original's batch


def scale_config(root: Path, batch_size: int = PAPER_BATCH[0], seq_len: int = PAPER_BATCH[1]):
    """The laptop Doom config with M trained on windows cut from single episodes (no restart inside a row,
    so the LSTM runs as one kernel call): by default the paper's batch, 100 windows of up to 500 steps."""
    from wmlib.config import get_config

    return get_config("doom", "laptop", str(root)).with_overrides(
        mdnrnn=dict(batching="windows", seq_len=seq_len, batch_size=batch_size))


def world_dir(root: Path) -> Path:
    return Path(root) / "doom" / "laptop"


# ----------------------------------------------------------------------------- prepare (here)

def prepare(source: Path, dest: Path) -> None:
    src, out = world_dir(source), world_dir(Path(dest) / "base")
    if not (src / "series" / "meta.json").exists():
        raise SystemExit(f"{src} has no encoded series: run `python -m wmlib reproduce doom` first")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src / "data", out / "data", ignore=shutil.ignore_patterns("frames.npy"))
    shutil.copytree(src / "series", out / "series")
    print(f"copied the data (no frames) and series of {src} to {out}")


def restore_frames(data_dir: Path) -> None:
    """Empty (sparse) frame files of the recorded shapes, so the dataset opens without its pixels."""
    for shard in sorted(Path(data_dir).glob("shard-*")):
        f = shard / "frames.npy"
        if not f.exists():
            steps = json.loads((shard / "meta.json").read_text())["steps"]
            np.lib.format.open_memmap(f, "w+", np.uint8, (steps, 64, 64, 3)).flush()


def variant_dir(dest: Path, name: str) -> Path:
    """The world folder of one M (or one seed): the base's data and series linked in."""
    base, wd = world_dir(Path(dest) / "base"), world_dir(Path(dest) / name)
    wd.mkdir(parents=True, exist_ok=True)
    for part in ("data", "series"):
        if not (wd / part).exists():
            os.symlink((base / part).resolve(), wd / part)
    return wd


def write_tar(wd: Path, path: Path) -> None:
    """M and its dream run, for scoring elsewhere; not the training states (CMA-ES's es-*.pkl, ~20 MB, and
    M's resumable last.pt with Adam's moments): scoring reads mdnrnn.pt and the run's evolution.pt, and a
    tar of at most 16 MiB comes back from the device machine."""
    skip = lambda info: None if info.name.endswith(".pkl") or Path(info.name).name == "last.pt" else info
    with tarfile.open(path, "w") as tar:
        for part in ("mdnrnn", f"dream-tau{TAU:g}"):
            tar.add(wd / part, arcname=part, filter=skip)


# ----------------------------------------------------------------------------- train (GPU)

class DeviceData:
    """The series on the device: codes are re-sampled there each batch, as ``batch_tensors`` does on the host."""

    def __init__(self, data, device):
        import torch

        self.device = device
        self.mu = torch.as_tensor(np.asarray(data.mu, np.float32), device=device)
        self.std = torch.as_tensor(np.asarray(data.logvar, np.float32), device=device).mul(0.5).exp()
        self.actions = torch.as_tensor(np.asarray(data.actions, np.float32), device=device)
        self.dones = torch.as_tensor(data.dones.astype(np.float32), device=device)

    def batch(self, b, gen) -> dict:
        import torch

        as_t = lambda x: torch.as_tensor(x, device=self.device)
        idx = as_t(b.idx)
        nxt = as_t(np.where(b.valid & ~b.last, b.idx + 1, b.idx))
        sample = lambda i: self.mu[i] + self.std[i] * torch.randn(*i.shape, self.mu.shape[1], generator=gen,
                                                                  device=self.device)
        return dict(z=sample(idx), z_next=sample(nxt), a=self.actions[idx], done=self.dones[idx],
                    restart=as_t(b.restart.astype(np.float32)),
                    z_mask=as_t((b.valid & ~b.last).astype(np.float32)), valid=as_t(b.valid.astype(np.float32)))


def train_scaled_m(cfg, budget: float, eval_every: float, device) -> tuple[dict, dict, dict]:
    """Train M until ``budget`` seconds or the original's transitions; returns (final, best, log)."""
    import torch

    from wmlib.device import grad_scaler
    from wmlib.training.mdnrnn import (Transitions, _epoch_generators, build_model, held_out_nll, m_loss, make_batches,
                                      optimizer_step)

    mc = cfg.mdnrnn
    data = Transitions.load(cfg)
    train_eps, val_eps = data.split(mc.val_episodes)
    dd = DeviceData(data, device)
    torch.manual_seed(mc.seed)
    model = build_model(cfg, data.z_size).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=mc.lr)
    scaler = grad_scaler(device)
    gen = torch.Generator(device=device).manual_seed(mc.seed)
    log = dict(step=[], transitions=[], seconds=[], train_loss=[], val_nll=[])
    best = dict(val_nll=float("inf"))
    step = epoch = transitions = 0
    losses = []
    t0 = last_eval = time.perf_counter()
    while True:
        rng, _ = _epoch_generators(mc.seed, epoch)
        model.train()
        for b in make_batches(cfg, data, train_eps, rng):
            loss, _, _ = m_loss(model, dd.batch(b, gen), None, mc.done_pos_weight, device)
            optimizer_step(model, opt, scaler, loss, mc.grad_clip)
            losses.append(loss.detach())
            step += 1
            transitions += int(b.valid.sum())
        epoch += 1
        now = time.perf_counter()
        stop = now - t0 >= budget or transitions >= ORIGINAL_TRANSITIONS
        if now - last_eval >= eval_every or stop:
            last_eval = now
            val = float(held_out_nll(model, data, val_eps, device).mean())
            log["step"].append(step)
            log["transitions"].append(transitions)
            log["seconds"].append(now - t0)
            log["train_loss"].append(float(torch.stack(losses).mean()))
            log["val_nll"].append(val)
            losses = []
            print(f"step {step:6d}  epoch {epoch:5d}  {transitions / 1e6:8.1f}M transitions  {now - t0:6.0f} s  "
                  f"train {log['train_loss'][-1]:.4f}  val NLL {val:.4f}", flush=True)
            if val < best["val_nll"]:
                best = dict(val_nll=val, step=step, epoch=epoch, transitions=transitions,
                            model=copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()}))
        if stop:
            break
    final = dict(val_nll=log["val_nll"][-1], step=step, epoch=epoch, transitions=transitions,
                 model={k: v.detach().cpu() for k, v in model.state_dict().items()})
    meta = dict(arch=model.arch(), config=asdict(mc), series=data.series_id)
    return final, best, dict(log=log, meta=meta, seconds=time.perf_counter() - t0)


def train(dest: Path, budget: float, eval_every: float, out: Path, dream_generations: int | None = None,
          variants=VARIANTS, batch: tuple = PAPER_BATCH) -> None:
    import torch

    from wmlib import paths
    from wmlib.artifacts import save_checkpoint
    from wmlib.device import default_device
    from wmlib.training.dream import train_in_dream

    device = default_device()
    restore_frames(world_dir(Path(dest) / "base") / "data")
    out.mkdir(parents=True, exist_ok=True)
    print(f"device {device}" + (f" ({torch.cuda.get_device_name()})" if device.type == "cuda" else ""), flush=True)
    final, best, info = train_scaled_m(scale_config(Path(dest) / "base", *batch), budget, eval_every, device)
    summary = dict(device=str(device), budget_s=budget, batch_size=batch[0], seq_len=batch[1], original_transitions=ORIGINAL_TRANSITIONS,
                   train_seconds=info["seconds"], log=info["log"], variants={})
    for name, ckpt in (("final", final), ("best", best)):
        if name not in variants:
            continue
        wd = variant_dir(dest, name)
        cfg = scale_config(Path(dest) / name)
        save_checkpoint(paths.ready(paths.mdnrnn_dir(cfg)) / paths.mdnrnn_file(cfg).name,
                        dict(model=ckpt["model"], epoch=ckpt["epoch"], step=ckpt["step"], **info["meta"]))
        t0 = time.perf_counter()
        res = train_in_dream(cfg, TAU, progress=False, generations=dream_generations, device=device)
        seconds = time.perf_counter() - t0
        summary["variants"][name] = dict({k: v for k, v in ckpt.items() if k != "model"}, dream_seconds=seconds,
                                         dream_best_eval=res.best_eval)
        print(f"{name}: val NLL {ckpt['val_nll']:.4f} at {ckpt['transitions'] / 1e6:.1f}M transitions; "
              f"C evolved in its dream in {seconds:.0f} s", flush=True)
        write_tar(wd, out / f"{name}.tar")
    (out / "m_scale.json").write_text(json.dumps(summary, indent=2))


def evolve(dest: Path, tars: Path, variant: str, seeds, out: Path, dream_generations: int | None = None) -> None:
    """More CMA-ES seeds in one trained M's dream (``train``'s tar of ``variant``), one tar per seed."""
    from wmlib.device import default_device
    from wmlib.training.dream import train_in_dream

    device = default_device()
    restore_frames(world_dir(Path(dest) / "base") / "data")
    out.mkdir(parents=True, exist_ok=True)
    trained = json.loads((Path(tars) / "m_scale.json").read_text())
    summary = dict(trained, variants={})
    for seed in seeds:
        name = f"{variant}-seed{seed}"
        wd = variant_dir(dest, name)
        with tarfile.open(Path(tars) / f"{variant}.tar") as tar:
            tar.extractall(wd, members=[m for m in tar.getmembers() if m.name.startswith("mdnrnn")], filter="data")
        cfg = scale_config(Path(dest) / name)
        cfg = cfg.with_overrides(evolution=dict(seed=cfg.evolution.seed + seed))
        t0 = time.perf_counter()
        res = train_in_dream(cfg, TAU, progress=False, generations=dream_generations, device=device)
        summary["variants"][name] = dict(trained["variants"][variant], cma_seed=cfg.evolution.seed,
                                         dream_seconds=time.perf_counter() - t0, dream_best_eval=res.best_eval)
        write_tar(wd, out / f"{name}.tar")
        (out / "m_scale.json").write_text(json.dumps(summary, indent=2))  # after each seed: a kill keeps the rest
        print(f"{name}: C evolved in its dream in {summary['variants'][name]['dream_seconds']:.0f} s", flush=True)


# ----------------------------------------------------------------------------- score (here)

def unpack(src: Path, tar_path: Path, wd: Path) -> None:
    """A world folder to score one tar's M and C in: the source's data, codes and V linked in."""
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    for part in ("data", "series", "vae"):
        os.symlink((src / part).resolve(), wd / part)
    with tarfile.open(tar_path) as tar:
        tar.extractall(wd, filter="data")


def score(source: Path, tars: Path, work: Path, workers: int, episodes: int | None = None) -> None:
    from wmlib.config import get_config
    from wmlib.training.dream import evaluate_in_reality
    from wmlib.training.mdnrnn import evaluate_mdnrnn

    src = world_dir(source)
    summary = json.loads((Path(tars) / "m_scale.json").read_text())
    rows = []
    laptop = get_config("doom", "laptop", str(source))
    m = evaluate_mdnrnn(laptop, write=False)
    s = json.loads((src / f"dream-tau{TAU:g}" / "score-deployed.json").read_text())
    rows.append(dict(m="laptop (CPU, 30 epochs)", transitions=None, val_nll=m["nll"], done_recall=m["done_recall"],
                     done_precision=m["done_precision"], dream=s["dream"], real=s["real"]))
    for name in summary["variants"]:
        unpack(src, Path(tars) / f"{name}.tar", world_dir(Path(work) / name))
        cfg = scale_config(Path(work) / name).with_overrides(evolution=dict(workers=workers))
        if episodes:  # a smoke test
            cfg = cfg.with_overrides(dream=dict(real_episodes=episodes, dream_episodes=episodes))
        m = evaluate_mdnrnn(cfg, write=False)
        s = evaluate_in_reality(cfg, TAU)
        v = summary["variants"][name]
        shape = f"{summary.get('batch_size', PAPER_BATCH[0])} x {summary.get('seq_len', PAPER_BATCH[1])}"
        rows.append(dict(m=f"{summary['device'].upper()} {shape}, {name} (step {v['step']})" + (f", CMA-ES seed {v['cma_seed']}" if "cma_seed" in v else ""), transitions=v["transitions"], val_nll=m["nll"],
                         done_recall=m["done_recall"], done_precision=m["done_precision"],
                         dream=s["dream"], real=s["real"]))
    n = episodes or laptop.dream.real_episodes
    print(f"| M | transitions trained | held-out NLL | death recall / precision | dream ({n}) | real ({n}) |")
    for r in rows:
        tr = "1.86M" if r["transitions"] is None else f"{r['transitions'] / 1e6:.0f}M"
        print(f"| {r['m']} | {tr} | {r['val_nll']:.4f} | {r['done_recall']:.2f} / {r['done_precision']:.2f} | "
              f"{r['dream']['mean']:.1f} +- {r['dream']['std']:.1f} | {r['real']['mean']:.1f} +- {r['real']['std']:.1f} |")
    write_table(Path("artifacts-experiments/m-scale"), tars, rows, summary)


def write_table(out: Path, tars: Path, rows: list, summary: dict) -> None:
    """The scored rows beside what the GPU run said, kept as ``out/table-<tars folder>.json``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"table-{Path(tars).name}.json").write_text(json.dumps(dict(rows=rows, gpu=summary), indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--source", required=True, help="a `reproduce doom` root (laptop) with its round 0")
    p.add_argument("--dest", required=True)
    p = sub.add_parser("train")
    p.add_argument("--dest", required=True)
    p.add_argument("--budget", type=float, default=240, help="seconds of M training (stops earlier at the "
                   "original's 1.22e9 transitions)")
    p.add_argument("--eval-every", type=float, default=15, help="seconds between held-out NLL checks")
    p.add_argument("--out", default=os.environ.get("OUT", "artifacts-experiments/m-scale/gpu"))
    p.add_argument("--dream-generations", type=int, default=None, help="default: the laptop dream's (a smoke "
                   "test passes fewer)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS,
                   help="which Ms get a C evolved in their dream (on a CPU, one dream run costs ~8 min)")
    p.add_argument("--batch-size", type=int, default=PAPER_BATCH[0], help="windows per batch (paper 100)")
    p.add_argument("--seq-len", type=int, default=PAPER_BATCH[1], help="steps per window (paper 500)")
    p = sub.add_parser("evolve")
    p.add_argument("--dest", required=True)
    p.add_argument("--tars", required=True, help="the folder `train` wrote")
    p.add_argument("--variant", default="best", choices=VARIANTS)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="added to the laptop's CMA-ES seed")
    p.add_argument("--out", default=os.environ.get("OUT", "artifacts-experiments/m-scale/seeds"))
    p.add_argument("--dream-generations", type=int, default=None)
    p = sub.add_parser("score")
    p.add_argument("--source", required=True)
    p.add_argument("--tars", required=True, help="the folder `train` wrote (final.tar, best.tar, m_scale.json)")
    p.add_argument("--work", default="/tmp/wm-m-scale")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--episodes", type=int, default=None, help="real games and dreams (default: the laptop's 100)")
    args = ap.parse_args()
    if args.cmd == "prepare":
        prepare(Path(args.source), Path(args.dest))
    elif args.cmd == "train":
        train(Path(args.dest), args.budget, args.eval_every, Path(args.out), args.dream_generations, args.variants,
              (args.batch_size, args.seq_len))
    elif args.cmd == "evolve":
        evolve(Path(args.dest), Path(args.tars), args.variant, args.seeds, Path(args.out), args.dream_generations)
    else:
        score(Path(args.source), Path(args.tars), Path(args.work), args.workers, args.episodes)


if __name__ == "__main__":
    main()
