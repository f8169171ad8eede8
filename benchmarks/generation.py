"""One CMA-ES generation of real rollouts at a profile's size: seconds, and what a whole run would cost.

A generation is ``population x rollouts`` episodes of V + M + C (mode zh) played by a
``RolloutPool`` of W worker processes, each episode up to the profile's cap. This plays
one such generation with CMA-ES's first-generation spread (weights ~ N(0, 0.1^2)), after a
short warm-up of W episodes that starts the workers and gives an early per-step rate,
and prints the generation's wall time, env steps per second, and the profile's
``generations`` times that (hours, and core-hours at W workers).

V and M are UNTRAINED at the profile's sizes (their cost does not depend on the weights);
CarRacing uses the renderer evolution trains with (``--renderer``, default the config's).

    python benchmarks/generation.py --world carracing --profile paper --workers 16   # 64 x 16 episodes
    python benchmarks/generation.py --quick                                          # seconds: a smoke test
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from rollout import untrained_agent  # noqa: E402  (the sibling benchmark)
from wmlib.agent.rollout import RolloutPool, agent_spec  # noqa: E402
from wmlib.config import PROFILES, get_config  # noqa: E402
from wmlib.models.controller import param_count  # noqa: E402


def play(pool, n_params: int, population: int, rollouts: int, seed: int) -> tuple[float, int, np.ndarray]:
    """(seconds, env steps, episode lengths) of ``population`` candidates x ``rollouts`` episodes."""
    params = np.random.default_rng(seed).normal(size=(population, n_params)) * 0.1
    t0 = time.perf_counter()
    out = pool.run(params, rollouts, seed=seed)
    return time.perf_counter() - t0, int(out["lengths"].sum()), out["lengths"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="carracing", choices=["carracing", "doom"])
    ap.add_argument("--profile", default="paper", choices=PROFILES)
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="rollout worker processes (W)")
    ap.add_argument("--renderer", default=None, choices=["fast", "gymnasium"])
    ap.add_argument("--quick", action="store_true", help="4 x 2 episodes of 50 steps (a smoke test)")
    args = ap.parse_args()

    cfg = get_config(args.world, args.profile)
    ev = cfg.evolution
    population, rollouts, cap = (4, 2, 50) if args.quick else (ev.population, ev.rollouts, ev.max_steps)
    renderer = args.renderer or ev.renderer
    torch.set_num_threads(1)
    vae, m = untrained_agent(cfg)
    n = param_count(args.world, cfg.vae.z_size, cfg.mdnrnn.hidden, "zh")
    spec = agent_spec(args.world, "zh", vae, m, cap, ev.lockstep, renderer)
    print(f"world {args.world} | profile {args.profile} | generation {population} x {rollouts} episodes, cap {cap} | "
          f"workers {args.workers} | cores {os.cpu_count()} | load {os.getloadavg()[0]:.1f} | lockstep {ev.lockstep}"
          + (f" | renderer {renderer}" if args.world == "carracing" else ""), flush=True)
    with RolloutPool(spec, "processes", args.workers) as pool:
        sec, steps, _ = play(pool, n, args.workers, 1, seed=1)  # one episode per worker: starts them all
        print(f"warm-up: {args.workers} episodes, {steps} steps in {sec:.1f} s = {steps / sec:.0f} steps/s "
              f"(a generation of ~{population * rollouts * cap} steps would take ~"
              f"{population * rollouts * cap / (steps / sec):.0f} s at this rate)", flush=True)
        sec, steps, lengths = play(pool, n, population, rollouts, seed=0)
    hours = ev.generations * sec / 3600
    print(f"one generation: {population * rollouts} episodes, {steps} env steps (mean episode {lengths.mean():.0f}), "
          f"{sec:.1f} s = {steps / sec:.0f} steps/s ({steps / sec / args.workers:.0f} per worker)")
    print(f"the profile's {ev.generations} generations: {hours:.1f} h on this machine "
          f"({hours * args.workers:.0f} worker-core-hours), evaluations of the mean not counted")


if __name__ == "__main__":
    main()
