"""Collection throughput: raw env steps/s in one process vs W collector workers.

The env is the limit, so W workers should reach close to W x the single-process
rate (aim: ratio >= 0.85). Both numbers are measured in this one run.

    python benchmarks/collect.py --world doom --workers 2
    python benchmarks/collect.py --world carracing --workers 2 --quick
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from wmlib.config import get_config  # noqa: E402
from wmlib.worlds.data import collect, collection_seed  # noqa: E402
from wmlib.worlds.envs import make_env  # noqa: E402
from wmlib.worlds.policies import random_policy  # noqa: E402


def raw_steps_per_second(world: str, seconds: float, max_steps: int, renderer: str = "gymnasium") -> float:
    """Step one env with the data policy (no recording) for about ``seconds`` (``renderer``: CarRacing's)."""
    env = make_env(world, max_steps=max_steps, renderer=renderer)
    steps, episode, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        policy = random_policy(world, np.random.default_rng(episode))
        obs, _ = env.reset(seed=collection_seed(99, episode))
        while True:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            steps += 1
            if terminated or truncated:
                break
        episode += 1
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="doom", choices=["doom", "carracing"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=None, help="episodes for the collection run")
    ap.add_argument("--renderers", nargs="+", default=None, choices=["fast", "gymnasium"],
                    help="CarRacing: collect with each in turn (default: the profile's collect.renderer)")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = ap.parse_args()

    cfg = get_config(args.world, "laptop")
    max_steps = cfg.collect.max_steps if args.world == "doom" else (200 if args.quick else 1000)
    episodes = args.episodes or (4 if args.quick else (400 if args.world == "doom" else 16))
    cfg = cfg.with_overrides(collect=dict(max_steps=max_steps, shard_episodes=2 if args.world == "carracing" else 10))
    renderers = args.renderers or [cfg.collect.renderer]
    if args.world == "doom":
        renderers = ["fast"]  # Doom has its engine's renderer only; the knob is ignored

    print(f"world: {args.world}   cores: {os.cpu_count()}   workers: {args.workers}")
    rates = {}
    for renderer in renderers:
        rcfg = cfg.with_overrides(collect=dict(renderer=renderer))
        raw = raw_steps_per_second(args.world, 3 if args.quick else 15, max_steps, renderer)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            ds = collect(rcfg, episodes=episodes, workers=args.workers, root=Path(tmp), progress=False)
            elapsed = time.perf_counter() - start
            steps = ds.n_frames
            on_disk = sum(f.stat().st_size for f in Path(tmp).rglob("*.npy")) / 2**20
        rates[renderer] = rate = steps / elapsed
        name = f"{renderer} renderer" if args.world == "carracing" else "engine"
        print(f"[{name}] raw env steps/s, one process:  {raw:9.0f}")
        print(f"[{name}] collection steps/s, {args.workers} workers: {rate:9.0f}  "
              f"({episodes} episodes, {steps} steps, {elapsed:.1f} s, {on_disk:.0f} MiB written)")
        print(f"[{name}] ratio to {args.workers} x raw:            {rate / (args.workers * raw):9.2f}  (aim >= 0.85)")
    if {"fast", "gymnasium"} <= rates.keys():
        print(f"collection, fast / gymnasium renderer: {rates['fast'] / rates['gymnasium']:.2f}x")


if __name__ == "__main__":
    main()
