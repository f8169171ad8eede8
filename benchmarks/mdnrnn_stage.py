"""M's training stage against its kernel and the box's matmul rate, measured in one run.

Three rates, each on the profile's M (``--profile``, ``--world``):

* matmul: fp32 GFLOP/s of the matrix products one training step of M does
  (forward and backward of the LSTM's input and recurrent products, the MDN
  and done heads), timed alone at M's shapes: the most M's arithmetic could run at.
* kernel: timesteps/s of M's forward, loss, backward, clipping and Adam on
  pre-built synthetic batches of the profile's shape (``benchmarks/mdnrnn.py``'s
  ``time_training``), and the GFLOP/s that makes (``kernel / matmul``).
* stage: timesteps/s of the real ``train_mdnrnn`` (``wmlib.training.mdnrnn``)
  over a synthetic encoded series of the profile's size, written with the
  library's own shard and series writers in a temporary folder (Doom at laptop:
  200 episodes of random-play lengths, mean ~256 steps): batch assembly, z
  re-sampling, the loss curve, per-epoch validation and checkpoints included.
  ``stage / kernel`` is the share of the kernel's speed the stage keeps.

The stage counts data timesteps (every recorded step trained once per epoch);
the kernel counts batch slots (B x L). "windows" batching pads each episode's
first and last window (~1.4 slots per step at laptop Doom), so the stage's slot
rate is printed too. The LSTM runs over the padding; M's heads and loss skip it
(``m_loss``), so a slot rate above the kernel's is possible.

Timings follow the load: on a shared box run it twice and read the load averages
and the kernel before / after the stage it prints.

    python benchmarks/mdnrnn_stage.py                    # Doom, laptop, ~90 s
    python benchmarks/mdnrnn_stage.py --seconds 30 --profile ci
    python benchmarks/mdnrnn_stage.py --profile-stage    # also cProfile's top functions of the stage
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import tempfile
import time
from pathlib import Path

import wmlib  # noqa: F401  (first: it sets OMP_WAIT_POLICY=PASSIVE before torch loads OpenMP, as the CLI does)
import numpy as np
import torch

from mdnrnn import time_training  # noqa: E402  (the sibling benchmark: the kernel)
from wmlib import paths  # noqa: E402
from wmlib.config import PROFILES, apply_settings, get_config  # noqa: E402
from wmlib.training import mdnrnn as tm  # noqa: E402
from wmlib.training.series import SeriesWriter  # noqa: E402
from wmlib.worlds.data import write_shard  # noqa: E402

def wall() -> float:
    return time.perf_counter()


def cpu() -> float:
    """CPU seconds of this process per torch thread: on a loaded box, about the wall time it would take alone."""
    return time.process_time() / torch.get_num_threads()


CLOCKS = dict(wall=wall, cpu=cpu)

# Random play's episode lengths in laptop Doom (V's 10 held-out episodes hold 2,562 frames: README)
MEAN_LEN, SD_LEN = 256, 110


# ----------------------------------------------------------------------------- synthetic series

def episode_lengths(cfg, rng) -> np.ndarray:
    n = cfg.collect.episodes
    if cfg.world == "doom":  # gamma with random play's mean and spread, within the game's limit
        k = (MEAN_LEN / SD_LEN) ** 2
        return np.clip(rng.gamma(k, MEAN_LEN / k, n), 20, cfg.collect.max_steps).astype(int)
    return np.full(n, cfg.collect.max_steps)  # the car drives to the step limit


def build_series(cfg, seed: int = 0) -> int:
    """A dataset (blank frames) and its encoded series at ``cfg``'s paths; returns the frame count."""
    rng = np.random.default_rng(seed)
    lengths = episode_lengths(cfg, rng)
    z = cfg.vae.z_size
    root = paths.ready(paths.data_dir(cfg))
    (root / "dataset.json").write_text(
        f'{{"world": "{cfg.world}", "frame_shape": [64, 64, 3], "action_size": {cfg.action_size}, '
        f'"seed": {cfg.collect.seed}, "max_steps": {cfg.collect.max_steps}, "hold_max": {cfg.collect.hold_max}}}')
    starts = np.concatenate([[0], np.cumsum(lengths)])
    writer = SeriesWriter(paths.series_dir(cfg), int(starts[-1]), len(lengths), z)
    per = cfg.collect.shard_episodes
    for first in range(0, len(lengths), per):
        eps = []
        for n in lengths[first:first + per]:
            mu = np.zeros((n, z), np.float32)  # slowly drifting codes, like a game's
            mu[0] = rng.normal(size=z)
            for t in range(1, n):
                mu[t] = 0.95 * mu[t - 1] + 0.3 * rng.normal(size=z)
            writer.write(int(starts[first + len(eps)]), mu, rng.normal(-3.0, 1.0, (n, z)).astype(np.float32))
            dones = np.zeros(n, bool)
            dones[-1] = cfg.world == "doom"
            eps.append(dict(frames=np.zeros((n, 64, 64, 3), np.uint8),
                            actions=rng.uniform(-1, 1, (n, cfg.action_size)).astype(np.float32),
                            rewards=np.ones(n, np.float32), dones=dones))
        write_shard(root, list(range(first, first + len(eps))), eps, cfg.world)
    writer.commit(starts, synthetic=True)
    return int(starts[-1])


# ----------------------------------------------------------------------------- rates

def lstm_shapes(model, B: int, L: int) -> list[tuple[int, int, int, int]]:
    """(times, m, k, n) of each matrix product in one forward pass of M over [B, L]."""
    H, x = model.hidden, model.input_size + 1
    heads = [(1, B * L, H, 3 * model.n_mixtures * model.z_size)] + ([(1, B * L, H, 1)] if model.has_done else [])
    return [(1, B * L, x, 4 * H), (L, B, H, 4 * H)] + heads


def train_shapes(model, B: int, L: int):
    """Forward products plus the backward's two per product: the input's gradient (step by step for the
    recurrent one) and the weight's, summed over all steps in one product (as the LSTM kernels do)."""
    out = []
    for times, m, k, n in lstm_shapes(model, B, L):
        out += [(times, m, k, n), (times, m, n, k), (1, k, m * times, n)]
    return out


def flops(shapes) -> float:
    return sum(2.0 * times * m * k * n for times, m, k, n in shapes)


def matmul_rate(shapes, seconds: float, clock=wall) -> float:
    """fp32 GFLOP/s of ``shapes``' products, timed alone (best of a few rounds)."""
    g = torch.Generator().manual_seed(0)
    ops = [(times, torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)) for times, m, k, n in shapes]
    outs = [torch.empty(a.shape[0], b.shape[1]) for _, a, b in ops]

    def once():
        for (times, a, b), o in zip(ops, outs):
            for _ in range(times):
                torch.mm(a, b, out=o)

    once()
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = clock()
        once()
        best = min(best, clock() - t0)
    return flops(shapes) / best / 1e9


def kernel_rate(cfg, seconds: float, clock=wall) -> float:
    """Timesteps/s of M's full training step on synthetic batches (best of a few timed runs)."""
    mc = cfg.mdnrnn
    resets = "stream" if mc.batching == "stream" else "aligned"  # windows restart only on a first step
    probe = time_training(cfg, mc.batch_size, mc.seq_len, torch.device("cpu"), 2, resets, amp=False)
    steps = max(2, int(seconds / 3 * probe / (mc.batch_size * mc.seq_len)))
    return max(time_training(cfg, mc.batch_size, mc.seq_len, torch.device("cpu"), steps, resets, amp=False,
                             clock=clock) for _ in range(3))


def epoch_slots(cfg, data, train_eps, epochs: int) -> tuple[int, int]:
    """(data steps, batch slots B x L) trained over ``epochs`` epochs: the same batches the stage draws."""
    steps = slots = 0
    for e in range(epochs):
        rng, _ = tm.epoch_generators(cfg.mdnrnn.seed, e)
        for b in tm.make_batches(cfg, data, train_eps, rng):
            steps += int(b.valid.sum())
            slots += b.idx.size  # rows x width, as the LSTM runs it
    return steps, slots


def stage_rate(cfg, seconds: float, kernel: float, profile: bool = False, clock=wall) -> dict:
    """Train M for the epochs that fit ``seconds`` at ~the kernel's rate; time the whole stage."""
    data = tm.Transitions.load(cfg)
    train_eps, _ = data.split(cfg.mdnrnn.val_episodes)
    per_epoch = int(data.lengths[train_eps].sum())
    epochs = max(1, round(seconds * kernel / 1.5 / per_epoch))
    cfg = cfg.with_overrides(mdnrnn=dict(epochs=epochs))
    steps, slots = epoch_slots(cfg, data, train_eps, epochs)
    prof = cProfile.Profile() if profile else None
    t0 = clock()
    if prof:
        prof.enable()
    tm.train_mdnrnn(cfg, progress=False, device="cpu")
    if prof:
        prof.disable()
    took = clock() - t0
    log = tm.read_log(cfg)
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(25)
        print(s.getvalue())
    return dict(epochs=epochs, steps=steps, slots=slots, seconds=took, epoch_wall=float(sum(log["seconds"])))


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="doom", choices=["doom", "carracing"])
    ap.add_argument("--profile", default="laptop", choices=PROFILES)
    ap.add_argument("--seconds", type=float, default=90, help="time budget of the whole run (about)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--clock", choices=CLOCKS, default="wall",
                    help="wall: seconds as they pass (idle box); cpu: this process's CPU seconds per torch thread, "
                         "steadier on a shared box (exact with --threads 1; serial parts count half at 2)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="change a config field, as on the command line (e.g. --set mdnrnn.dropout=0.1)")
    ap.add_argument("--profile-stage", action="store_true", help="print cProfile's top functions of the stage")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="wm-mstage-"))
    try:
        cfg = apply_settings(get_config(args.world, args.profile, artifacts=str(tmp)), args.set)
        mc = cfg.mdnrnn
        t0 = time.perf_counter()
        frames = build_series(cfg)
        built = time.perf_counter() - t0
        model = tm.build_model(cfg, cfg.vae.z_size)
        B, L = mc.batch_size, mc.seq_len
        shapes = train_shapes(model, B, L)
        per_step = flops(shapes) / (B * L)
        load = os.getloadavg()

        clock = CLOCKS[args.clock]
        gflops = matmul_rate(shapes, 0.12 * args.seconds, clock)
        peak = matmul_rate([(1, 1024, 1024, 1024)], 0.03 * args.seconds, clock)
        load_mid = os.getloadavg()[0]
        kernel_before = kernel_rate(cfg, 0.15 * args.seconds, clock)
        stage = stage_rate(cfg, 0.6 * args.seconds, kernel_before, args.profile_stage, clock)
        kernel_after = kernel_rate(cfg, 0.1 * args.seconds, clock)  # again: on a shared box the load drifts
        kernel = (kernel_before + kernel_after) / 2
        rate, slot_rate = stage["steps"] / stage["seconds"], stage["slots"] / stage["seconds"]
        kernel_gflops = kernel * per_step / 1e9

        print(f"M {args.world} at {args.profile}: hidden {mc.hidden}, z {cfg.vae.z_size}, B{B} x L{L}, "
              f"batching {mc.batching!r}{' ' + ' '.join(args.set) if args.set else ''}; {model.n_params:,} parameters, {per_step / 1e6:.2f} MFLOP per timestep "
              f"(forward + backward products)")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads "
              f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}), {os.cpu_count()} CPUs, "
              f"load average (1 min) before {load[0]:.2f}, after the matmuls {load_mid:.2f}, at the end {os.getloadavg()[0]:.2f}")
        print(f"clock: {args.clock}" + (" (CPU seconds per torch thread)" if args.clock == "cpu" else ""))
        print(f"series: {cfg.collect.episodes} episodes, {frames:,} frames (written in {built:.1f} s)")
        print(f"matmul   {gflops:10.1f} GFLOP/s fp32 at M's shapes (a 1024^3 product: {peak:.1f})")
        print(f"kernel   {kernel:10,.0f} timesteps/s  ({kernel_gflops:.1f} GFLOP/s; kernel / matmul {kernel_gflops / gflops:.2f}, "
              f"/ the 1024^3 product {kernel_gflops / peak:.2f}; "
              f"before the stage {kernel_before:,.0f}, after {kernel_after:,.0f})")
        print(f"stage    {rate:10,.0f} timesteps/s  ({stage['epochs']} epochs, {stage['steps']:,} steps in "
              f"{stage['seconds']:.1f} s, {stage['epoch_wall']:.1f} s wall in its epochs; stage / kernel {rate / kernel:.2f})")
        print(f"         {slot_rate:10,.0f} slots/s      (padding: {stage['slots'] / stage['steps']:.2f} slots per step; "
              f"slot rate / kernel {slot_rate / kernel:.2f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
