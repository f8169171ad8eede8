"""Scoring a C in real Doom games: tasks that refill their lockstep slots against tasks that do not.

A rollout worker steps ``lockstep`` episodes together. When a task holds only that
many, the batch shrinks as games end, and the longest game of each task runs alone
(V + M + C on a batch of one costs ~3x per episode-step what it does at eight).
``RolloutPool.tasks`` now queues up to ``QUEUED`` x ``lockstep`` episodes per task,
so a slot whose game ends starts the next one. This plays the shipped Doom agent
(V, M and C from ``wmlib/pretrained/doom``: games of 150 to 2,100 steps) over the
same seeds both ways in one run, alternating, and prints steps/s and the ratio.

    python benchmarks/rollout_queue.py                 # 100 games, 2 workers
    python benchmarks/rollout_queue.py --games 8 --quick
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import wmlib.agent.pool as pool_module
from wmlib.agent.episode import agent_spec
from wmlib.book.pretrained import load_shipped_controller_params, load_shipped_mdnrnn, load_shipped_vae, shipped_card
from wmlib.config import world_info


def play(spec, params, games: int, workers: int, queued: int, seed: int) -> tuple[float, int, np.ndarray]:
    """(seconds, steps, lengths) of ``games`` games with tasks of up to ``queued`` x lockstep episodes."""
    was, pool_module.QUEUED = pool_module.QUEUED, queued
    try:
        with pool_module.RolloutPool(spec, "processes", workers) as pool:
            pool.run(params[None], 2 * workers, seed + 1)  # every worker builds its env and agent first
            start = time.perf_counter()
            lengths = pool.run(params[None], games, seed)["lengths"][0]
            return time.perf_counter() - start, int(lengths.sum()), lengths
    finally:
        pool_module.QUEUED = was


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="times each way is played (alternating)")
    ap.add_argument("--quick", action="store_true", help="short games (cap 200): a smoke test")
    args = ap.parse_args()

    card = shipped_card("doom")
    cap = 200 if args.quick else world_info("doom").episode_cap
    spec = agent_spec("doom", "zh", load_shipped_vae("doom"), load_shipped_mdnrnn("doom"), cap,
                      real_z=card.get("real_z", "mean"))
    params = load_shipped_controller_params("doom")
    ways = {f"tasks of at most {spec['lockstep']} (no refill)": 1,
            f"tasks of up to {pool_module.QUEUED} x {spec['lockstep']} (refill)": pool_module.QUEUED}
    runs = {name: [] for name in ways}
    for r in range(args.rounds):
        for name, queued in ways.items():
            runs[name].append(play(spec, params, args.games, args.workers, queued, seed=1000 + r))
    print(f"shipped Doom agent, {args.games} games x {args.rounds}, {args.workers} workers, lockstep "
          f"{spec['lockstep']}, cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    rates = {}
    for name, rs in runs.items():
        seconds, steps = sum(r[0] for r in rs), sum(r[1] for r in rs)
        rates[name] = steps / seconds
        lengths = np.concatenate([r[2] for r in rs])
        print(f"{name:34s} {rates[name]:7.0f} steps/s  ({steps} steps in {seconds:.1f} s; games "
              f"{lengths.mean():.0f} +- {lengths.std():.0f} steps)")
    (slow, fast) = rates.values()
    same = all(np.array_equal(a[2], b[2]) for a, b in zip(*runs.values()))
    print(f"refill: x{fast / slow:.2f} steps/s; the games' lengths {'are' if same else 'are NOT'} the same both ways")


if __name__ == "__main__":
    main()
