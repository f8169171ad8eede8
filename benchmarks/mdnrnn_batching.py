"""M's training stage under "windows" and "buckets" batching, timed in one run on one synthetic series.

Both cut the same random-phase windows from each episode; "windows" pads every batch to ``seq_len``,
"buckets" batches windows of about one length and cuts each batch to its longest window
(``wmlib.training.mdnrnn.bucket_batches``). Each batching trains the profile's M for ``--epochs``
epochs, alternately (windows, buckets, windows, ...) for ``--repeats`` runs each, so a drifting load
falls on both; the figure is each one's best run and the ratio of the two.

    python benchmarks/mdnrnn_batching.py                     # Doom at laptop, 2 epochs x 2 runs each: ~3 min idle
    python benchmarks/mdnrnn_batching.py --clock cpu         # on a shared box: CPU seconds per torch thread

Prints per batching: batch slots per data step (B x width over the steps; what the LSTM runs through),
data timesteps/s of the whole stage (batch assembly, z re-sampling, validation and checkpoints included),
and buckets / windows.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import wmlib  # noqa: F401  (first: it sets OMP_WAIT_POLICY=PASSIVE before torch loads OpenMP, as the CLI does)
import torch

from mdnrnn_stage import CLOCKS, build_series, epoch_slots  # noqa: E402  (the sibling benchmark)
from wmlib import paths  # noqa: E402
from wmlib.config import PROFILES, apply_settings, get_config  # noqa: E402
from wmlib.training import mdnrnn as tm  # noqa: E402

BATCHINGS = ("windows", "buckets")


def time_stage(cfg, clock) -> float:
    """Seconds of one ``train_mdnrnn`` from scratch (its folder emptied first)."""
    shutil.rmtree(paths.mdnrnn_dir(cfg), ignore_errors=True)
    t0 = clock()
    tm.train_mdnrnn(cfg, progress=False, device="cpu")
    return clock() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="doom", choices=["doom", "carracing"])
    ap.add_argument("--profile", default="laptop", choices=PROFILES)
    ap.add_argument("--epochs", type=int, default=2, help="M's epochs per timed run")
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per batching (the best counts)")
    ap.add_argument("--clock", choices=CLOCKS, default="wall")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wm-mbatch-"))
    try:
        base = apply_settings(get_config(args.world, args.profile, artifacts=str(tmp)), args.set)
        frames = build_series(base)
        cfgs = {b: base.with_overrides(mdnrnn=dict(batching=b, epochs=args.epochs)) for b in BATCHINGS}
        data = tm.Transitions.load(base)
        train_eps, _ = data.split(base.mdnrnn.val_episodes)
        slots = {b: epoch_slots(c, data, train_eps, args.epochs) for b, c in cfgs.items()}
        load = os.getloadavg()[0]
        best = {b: float("inf") for b in BATCHINGS}
        for _ in range(args.repeats):
            for b in BATCHINGS:
                best[b] = min(best[b], time_stage(cfgs[b], CLOCKS[args.clock]))
        mc = base.mdnrnn
        print(f"M {args.world} at {args.profile}: hidden {mc.hidden}, B{mc.batch_size} x L{mc.seq_len}, "
              f"{args.epochs} epochs per run, best of {args.repeats}; series {base.collect.episodes} episodes, "
              f"{frames:,} frames")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, clock {args.clock}, "
              f"load average (1 min) before {load:.2f}, after {os.getloadavg()[0]:.2f}")
        rate = {}
        for b in BATCHINGS:
            steps, n_slots = slots[b]
            rate[b] = steps / best[b]
            print(f"{b:8} {n_slots / steps:5.2f} slots per step  {rate[b]:10,.0f} timesteps/s  ({best[b]:.1f} s)")
        print(f"buckets / windows: {rate['buckets'] / rate['windows']:.2f}x the stage's rate, "
              f"{slots['buckets'][1] / slots['windows'][1]:.2f}x the slots")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
