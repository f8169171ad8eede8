"""Speed of the dream: a batched population of dreams against one ``DreamEnv`` at a time.

Doom's M at the paper's size (z 64, LSTM 512, done head; random weights) and
random 1,088-parameter controllers. Two measurements:

1. agent-steps per second of ``dream_rollouts`` (the whole population x
   rollouts as one batch) and of ``play_dream`` on one ``DreamEnv`` at a time,
   with the done rule "never" so every dream runs to the cap and both count the
   same steps; the ratio is measured in the same run. One-at-a-time is timed with
   one torch thread and with all of them, and the faster counts (tiny batch-1
   ops often lose more to thread synchronisation than they gain).
2. the wall time of one paper-scale CMA-ES generation in the dream: 64
   candidates x 16 dreams, capped at 2,100 steps, with the done rule "never"
   (the worst case: 2.15 M agent-steps) and "threshold" (a random M's death
   head, so dreams end early and finished ones are dropped from the batch).

Runs on the CPU, and on CUDA too when present.

    python benchmarks/dream.py            # full sizes (one paper generation takes about a minute on 2 cores)
    python benchmarks/dream.py --quick    # tiny sizes, seconds
"""
from __future__ import annotations

import argparse
import time

import wmlib  # noqa: F401  (first: it sets OMP_WAIT_POLICY=PASSIVE before torch starts its threads)
import numpy as np
import torch

from wmlib.config import get_config
from wmlib.models.controller import Controller, param_count
from wmlib.agent.dream import DreamEnv, dream_rollouts, episode_keys, play_dream
from wmlib.models.mdnrnn import MDNRNN


def paper_doom_m(device) -> MDNRNN:
    cfg = get_config("doom", "paper")
    torch.manual_seed(0)
    m = MDNRNN(cfg.vae.z_size, cfg.action_size, cfg.mdnrnn.hidden, cfg.mdnrnn.n_mixtures, done_head=True)
    return m.to(device).eval()


def first_codes(z_size: int, n: int = 100):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, z_size)).astype(np.float32), np.full((n, z_size), -2.0, np.float32)


def population(m, P: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(P, param_count("doom", m.z_size, m.hidden))) * 0.1


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class threads:
    """Run a block with ``n`` torch threads (None: leave as is), then restore the caller's setting."""

    def __init__(self, n):
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self):
        if self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.before)


def time_batched(m, codes, P, R, steps, device, done_rule="never", repeats=1, n_threads=None):
    """(seconds, agent-steps) of one ``dream_rollouts`` call (after a warm-up call); best of ``repeats``."""
    params = population(m, P)
    with threads(n_threads):
        dream_rollouts(m, "doom", params[:2], *codes, 2, 1.15, 5, seed=1, device=device, done_rule=done_rule)
        best, total = float("inf"), 0.0
        for _ in range(repeats):
            sync(device)
            t0 = time.perf_counter()
            returns = dream_rollouts(m, "doom", params, *codes, R, 1.15, steps, seed=2, device=device,
                                     done_rule=done_rule)
            sync(device)
            best, total = min(best, time.perf_counter() - t0), float(returns.sum())
    return best, total


def time_single(m, codes, episodes, steps, n_threads=None) -> float:
    """Agent-steps per second of ``play_dream`` on one ``DreamEnv`` (every dream runs to the cap)."""
    with threads(n_threads):
        env = DreamEnv(m, *codes, tau=1.15, max_steps=steps, done_rule="never")
        ctrl = Controller("doom", m.z_size, m.hidden)
        params = population(m, episodes, seed=1)
        keys = episode_keys(3, episodes, 1)
        play_dream(env, ctrl.set_flat(params[0]), 999)  # warm-up
        t0 = time.perf_counter()
        total = sum(play_dream(env, ctrl.set_flat(params[i]), int(keys[i, 0])) for i in range(episodes))
        return total / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    args = ap.parse_args()
    q = args.quick
    P, R = (16, 4) if q else (64, 16)
    ratio_steps, single_episodes, single_steps = (20, 2, 20) if q else (100, 8, 100)
    gen_P, gen_R, gen_cap = (16, 4, 200) if q else (64, 16, 2100)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    n = torch.get_num_threads()
    counts = sorted({1, n})
    print(f"torch {torch.__version__}, CPU threads {n}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU")
          + (" (--quick: tiny sizes)" if q else ""))
    for dev in devices:
        device = torch.device(dev)
        m = paper_doom_m(device)
        codes = first_codes(m.z_size)
        print(f"\n[{dev}] Doom M: z {m.z_size}, LSTM {m.hidden}, {m.n_params:,} params; controllers "
              f"{param_count('doom', m.z_size, m.hidden):,} params")
        # On the CPU each path is timed with 1 thread and with all of them; the faster counts.
        batched = {}
        for t in (counts if dev == "cpu" else [None]):
            secs, steps = time_batched(m, codes, P, R, ratio_steps, device, repeats=2, n_threads=t)
            batched[t] = steps / secs
            print(f"  batched dream_rollouts, {P} x {R} dreams x {ratio_steps} steps"
                  f"{f', {t} thread(s)' if t else ''}: {batched[t]:>10,.0f} agent-steps/s")
        best_threads = max(batched, key=batched.get)
        if dev == "cpu":
            single = {t: time_single(m, codes, single_episodes, single_steps, t) for t in counts}
            for t, rate in single.items():
                print(f"  one DreamEnv at a time, {single_episodes} x {single_steps} steps, {t} thread(s): "
                      f"{rate:>10,.0f} agent-steps/s")
            print(f"  batched / one at a time (each at its faster thread count): "
                  f"x{max(batched.values()) / max(single.values()):.1f}")

        for rule in ("never", "threshold"):
            secs, steps = time_batched(m, codes, gen_P, gen_R, gen_cap, device, done_rule=rule, n_threads=best_threads)
            what = "worst case, every dream to the cap" if rule == "never" else "a random M's death head"
            print(f"  one generation, {gen_P} x {gen_R} dreams, cap {gen_cap}, done rule {rule!r} ({what}"
                  f"{f', {best_threads} thread(s)' if best_threads else ''}): {secs:.2f} s, {steps:,.0f} agent-steps "
                  f"(mean {steps / (gen_P * gen_R):.0f} per dream), {steps / secs:,.0f} agent-steps/s")

if __name__ == "__main__":
    main()
