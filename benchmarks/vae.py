"""V's speed and memory: training and encoding frames/s, peak memory at two dataset sizes.

Collects random Doom play at two sizes (N and 4N episodes), then trains V for
one epoch and encodes the whole dataset, each in a fresh subprocess so its
peak memory is its own. Memory must stay flat as the data grows 4x: frames are
streamed from memory-mapped shards, one batch at a time.

"Peak anon" is the process's own allocations (heap, torch tensors), sampled
from /proc every few ms; "peak RSS" also counts the memory-mapped shard pages,
which are page cache the OS can drop at any time. On CUDA (with mixed
precision) the GPU's peak allocation is reported too.

    python benchmarks/vae.py --quick
    python benchmarks/vae.py --episodes 20 --device cuda
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def bench_config(world: str, quick: bool):
    from wmlib.config import get_config

    cfg = get_config(world, "laptop")
    return cfg.with_overrides(
        collect=dict(max_steps=300 if quick else cfg.collect.max_steps),
        vae=dict(epochs=1, val_episodes=1, max_frames_per_epoch=0, checkpoint_every=0))


class PeakMemory:
    """Sample this process's resident memory in a thread; keep the maxima (MiB)."""

    def __init__(self, every: float = 0.005):
        self.every, self.anon, self.rss = every, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self):
        try:
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        except OSError:  # not Linux: fall back to the kernel's own peak at the end
            return None
        kib = lambda key: float(fields.get(key, "0 kB").split()[0])
        return kib("RssAnon") / 1024, kib("VmRSS") / 1024

    def _run(self):
        while not self._stop.is_set():
            now = self._read()
            if now is None:
                return
            self.anon, self.rss = max(self.anon, now[0]), max(self.rss, now[1])
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        self.rss = max(self.rss, maxrss)


def child(phase: str, world: str, quick: bool, device: str | None) -> dict:
    """Run one phase in this (fresh) process and measure it."""
    import torch

    from wmlib.worlds.data import load_dataset
    from wmlib.device import resolve_device
    from wmlib.training.vae import encode_dataset, train_vae

    cfg = bench_config(world, quick)
    dev = resolve_device(device)
    ds = load_dataset(cfg)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    stamps = []
    with PeakMemory() as mem:
        start = time.perf_counter()
        if phase == "train":
            train_vae(cfg, progress=False, device=dev, callback=lambda step, m: stamps.append(time.perf_counter()))
        else:
            encode_dataset(cfg, progress=False, device=dev)
        elapsed = time.perf_counter() - start
    if phase == "train":
        # Frames/s over the steps after the first (which pays for warm-up), excluding
        # the validation pass and checkpoint that end the epoch.
        n = len(stamps)
        frames = (n - 1) * cfg.vae.batch_size
        rate = frames / (stamps[-1] - stamps[0]) if n > 1 else float("nan")
    else:
        rate = ds.n_frames / elapsed
    gpu = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None
    return dict(phase=phase, frames=ds.n_frames, rate=rate, seconds=elapsed, peak_anon=mem.anon,
                peak_rss=mem.rss, gpu=gpu, device=str(dev),
                threads=torch.get_num_threads())


def run_child(root: Path, phase: str, args) -> dict:
    env = {**os.environ, "WM_ARTIFACTS": str(root)}
    cmd = [sys.executable, __file__, "--child", phase, "--world", args.world]
    cmd += ["--quick"] if args.quick else []
    cmd += ["--device", args.device] if args.device else []
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="doom", choices=["doom", "carracing"])
    ap.add_argument("--episodes", type=int, default=None, help="N: the small size (the large one is 4N)")
    ap.add_argument("--device", default=None, help="cpu | cuda (default: cuda if present)")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    ap.add_argument("--child", choices=["train", "encode"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.world, args.quick, args.device)))
        return

    from wmlib.worlds.data import collect

    n = args.episodes or (3 if args.quick else 20)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wm-bench-vae-") as tmp:
        for episodes in (n, 4 * n):
            root = Path(tmp) / f"n{episodes}"
            os.environ["WM_ARTIFACTS"] = str(root)
            ds = collect(bench_config(args.world, args.quick), episodes=episodes, progress=False)
            mib = sum(f.stat().st_size for f in ds.root.rglob("frames.npy")) / 2**20
            for phase in ("train", "encode"):
                rows.append(dict(run_child(root, phase, args), episodes=episodes, data_mib=mib))

    first = rows[0]
    print(f"world: {args.world}   device: {first['device']}   torch threads: {first['threads']}   "
          f"cores: {os.cpu_count()}")
    print(f"{'phase':7s} {'episodes':>8s} {'frames':>7s} {'data MiB':>9s} {'frames/s':>9s} "
          f"{'peak anon MiB':>14s} {'peak RSS MiB':>13s}" + ("  GPU peak MiB" if first["gpu"] else ""))
    for r in rows:
        print(f"{r['phase']:7s} {r['episodes']:8d} {r['frames']:7d} {r['data_mib']:9.0f} {r['rate']:9.0f} "
              f"{r['peak_anon']:14.0f} {r['peak_rss']:13.0f}" + (f"  {r['gpu']:12.0f}" if r["gpu"] else ""))
    for phase in ("train", "encode"):
        small, large = [r for r in rows if r["phase"] == phase]
        print(f"{phase}: data x{large['data_mib'] / small['data_mib']:.1f} -> peak anon memory "
              f"x{large['peak_anon'] / small['peak_anon']:.2f}, frames/s x{large['rate'] / small['rate']:.2f}")


if __name__ == "__main__":
    main()
