"""M's training step on one CPU thread against torch's default (one per core), for Doom's 512-unit M
and a 256-unit one, at the laptop's batch (8 windows of 100 steps), measured in one run.

At this batch every step's matrix products are small (8 rows per LSTM step), and the library runs
OpenMP with a passive wait policy (``wmlib/__init__.py``: idle threads sleep rather than spin, so
worker processes do not steal each other's cores): each parallel region then pays to wake the
other thread. Whether a second thread pays for that is what this measures; ``mdnrnn.threads``
sets the stage's threads (0: torch's default).

    python benchmarks/mdnrnn_threads.py              # ~1 minute
    python benchmarks/mdnrnn_threads.py --quick      # seconds
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import wmlib  # noqa: F401  (first: it sets OMP_WAIT_POLICY before torch loads OpenMP, as the CLI does)
import torch

from wmlib.config import get_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdnrnn import time_training  # noqa: E402  (the sibling benchmark: one full training step)


def rate(cfg, threads: int, steps: int) -> float:
    """Timesteps/s of M's training step on ``threads`` torch threads (best of three timed runs)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        mc = cfg.mdnrnn
        return max(time_training(cfg, mc.batch_size, mc.seq_len, torch.device("cpu"), steps, "aligned", amp=False)
                   for _ in range(3))
    finally:
        torch.set_num_threads(before)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few steps (seconds)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[512, 256])
    args = ap.parse_args()
    steps = 3 if args.quick else 30
    default = torch.get_num_threads()
    base = get_config("doom", "laptop")
    mc = base.mdnrnn
    print(f"M doom at laptop: B{mc.batch_size} x L{mc.seq_len}; torch default {default} threads, "
          f"{os.cpu_count()} cores, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'hidden':>6}  {'threads':>7}  {'timesteps/s':>11}  {'1 thread / default':>18}")
    for hidden in args.hidden:
        cfg = base.with_overrides(mdnrnn=dict(hidden=hidden))
        t0 = time.perf_counter()
        many = rate(cfg, default, steps)
        one = rate(cfg, 1, steps)
        print(f"{hidden:>6}  {default:>7}  {many:>11,.0f}")
        print(f"{hidden:>6}  {1:>7}  {one:>11,.0f}  {one / many:>18.2f}  ({time.perf_counter() - t0:.0f} s)")
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
