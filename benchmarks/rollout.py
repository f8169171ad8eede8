"""Real-world population rollouts: env steps/s with W workers against the env's own limit.

Training C in the real world is env-bound: a population of candidates plays
episodes, and every step costs one env step plus one V + M + C inference. This
script measures, in one run:

1. raw env steps/s of one env in this process (no agent): the limit is W x that;
2. a ``RolloutPool`` of W worker processes playing a population (V + M + C,
   mode "zh", episodes stepped ``lockstep`` at a time): env steps/s, and its
   ratio to the limit (aim >= 0.85; the gap is agent inference + parallel overhead);
3. one worker's loop (one task of episodes, V + M + C) in this process, split
   into time inside ``env.step`` and the rest (agent and bookkeeping): the
   pool's steps/s over W x this loop is the parallel efficiency, and this
   loop's share of raw env speed is what the agent costs on one core;
4. the per-step cost of the agent's inference (V encodes the frame, C acts,
   M steps) batched over the lockstep episodes and for one episode, next to the
   env step time. ``--device cuda`` times inference on the GPU; rollout workers
   always run on the CPU next to their envs.

V and M are built UNTRAINED at the paper's sizes: random weights cost exactly
what trained ones do, and no artifacts are needed.

    python benchmarks/rollout.py --quick                 # seconds: a smoke test
    python benchmarks/rollout.py --world carracing --workers 2
    python benchmarks/rollout.py --world doom --workers 16 --device cuda
    python benchmarks/rollout.py --renderer gymnasium     # CarRacing on gymnasium's renderer
                                                          # (default: evolution's, the fast one)
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from collect import raw_steps_per_second  # noqa: E402  (the sibling benchmark: one env, no recording)
from wmlib.config import get_config  # noqa: E402
from wmlib.models.controller import batched_act, controller_inputs, param_count  # noqa: E402
from wmlib.device import resolve_device  # noqa: E402
from wmlib.models.mdnrnn import MDNRNN  # noqa: E402
from wmlib.agent.rollout import EpisodeRunner, RolloutPool, agent_spec, episode_seed, mean_encoder  # noqa: E402
from wmlib.models.vae import ConvVAE, frames_to_tensor  # noqa: E402


def untrained_agent(cfg):
    """V and M at the config's sizes with random weights (same cost as trained ones)."""
    torch.manual_seed(0)
    vae = ConvVAE(cfg.vae.z_size).eval()
    m = MDNRNN(cfg.vae.z_size, cfg.action_size, cfg.mdnrnn.hidden, cfg.mdnrnn.n_mixtures,
               cfg.mdnrnn.done_head).eval()
    return vae, m


def population_steps_per_second(spec, workers: int, P: int, R: int, seed: int = 0):
    """Play P candidates x R episodes twice with one pool.

    Returns ([(steps/s, steps, seconds)] for the two runs, episodes per task). The
    first run includes each worker building its envs; the second is the steady
    state of a long training (what a generation costs).
    """
    n = param_count(spec["world"], spec["vae"]["z_size"], spec["mdnrnn"]["arch"]["hidden"], spec["mode"])
    params = np.random.default_rng(seed).normal(size=(P, n)) * 0.1  # CMA-ES's first generation: sigma0 0.1
    runs = []
    with RolloutPool(spec, "processes", workers) as pool:
        per_task = min(pool.lockstep, max(len(seeds) for _, seeds, _ in pool.tasks(params, R, seed)))  # stepped together
        for g in range(2):
            t0 = time.perf_counter()
            out = pool.run(params, R, seed=seed + g)
            elapsed = time.perf_counter() - t0
            steps = int(out["lengths"].sum())
            runs.append((steps / elapsed, steps, elapsed))
    return runs, per_task


def one_worker_loop(spec, episodes: int, seed: int = 0):
    """One task of ``episodes`` lockstep episodes run by an ``EpisodeRunner`` in this process.

    Returns (steps/s, steps, share of the time inside env.step): what one worker does
    between two messages, with no pipes and no other process.
    """
    n = param_count(spec["world"], spec["vae"]["z_size"], spec["mdnrnn"]["arch"]["hidden"], spec["mode"])
    params = np.random.default_rng(seed).normal(size=(episodes, n)).astype(np.float32) * 0.1
    runner = EpisodeRunner(spec)
    in_env = [0.0]
    for slot in range(episodes):  # build the envs first, as a warm worker has them
        env = runner._env(slot)

        def timed_step(action, _step=env.step):
            t0 = time.perf_counter()
            out = _step(action)
            in_env[0] += time.perf_counter() - t0
            return out
        env.step = timed_step
    try:
        t0 = time.perf_counter()
        out = runner.run(params, [episode_seed(seed, p, 0) for p in range(episodes)])
        elapsed = time.perf_counter() - t0
    finally:
        runner.close()
    steps = int(out["lengths"].sum())
    return steps / elapsed, steps, in_env[0] / elapsed


@torch.no_grad()
def inference_ms(world: str, mode: str, vae, m, batch: int, device, repeats: int, eager: bool = False) -> float:
    """Milliseconds for one agent step of ``batch`` episodes: frames -> V -> C -> M, actions back on the CPU.

    The rollout workers' own path (``mean_encoder``: V's encoder frozen by TorchScript;
    ``MDNRNN.advance``: one LSTM cell, no heads), or with ``eager`` the plain modules
    (``vae.encode``, ``m.step``), as the workers ran before.
    """
    encode = (lambda x: vae.encode(x)[0]) if eager else mean_encoder(vae)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(batch, 64, 64, 3), dtype=np.uint8)
    params = torch.as_tensor(rng.normal(size=(batch, param_count(world, vae.z_size, m.hidden, mode))) * 0.1,
                             dtype=torch.float32, device=device)
    h, c = (s[0] for s in m.initial_state(batch, device))
    restart = torch.zeros(batch, device=device) if m.has_done else None
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step(h, c):
        z = encode(frames_to_tensor(frames, device))
        hs, cs = (h, c) if mode == "zh" else (None, None)
        actions = batched_act(world, params, controller_inputs(world, z, hs, cs, mode)[:, None, :])[:, 0]
        if mode == "zh":
            if eager:
                _, _, (h1, c1) = m.step(z, actions, (h[None], c[None]), restart)
            else:
                h1, c1 = m.advance(z, actions, (h[None], c[None]), restart)
            h, c = h1[0], c1[0]
        actions.cpu().numpy()  # the env needs them on the host: part of the cost
        return h, c

    for _ in range(3):  # warm up (allocator, kernels, cuDNN choice)
        h, c = step(h, c)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        h, c = step(h, c)
    sync()
    return 1000 * (time.perf_counter() - t0) / repeats


def encoder_macs(vae) -> int:
    """Multiply-adds of V's encoder (convolutions and the mean's linear layer) for one 64x64 frame."""
    macs, size = 0, 64
    for layer in vae.encoder:
        if isinstance(layer, torch.nn.Conv2d):
            size = (size - layer.kernel_size[0]) // layer.stride[0] + 1
            macs += size * size * layer.out_channels * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
    return macs + vae.fc_mu.in_features * vae.fc_mu.out_features


def matmul_gflops(n: int = 512, repeats: int = 20) -> float:
    """One thread's float32 matrix-multiply rate (GFLOP/s): about the best any convolution gets here."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n ** 3 * repeats / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="carracing", choices=["carracing", "doom"])
    ap.add_argument("--workers", type=int, default=2, help="rollout worker processes (W)")
    ap.add_argument("--device", default="auto", help="where V+M+C inference is timed: cpu, cuda, auto")
    ap.add_argument("--quick", action="store_true", help="a short run (smoke test, seconds)")
    ap.add_argument("--renderer", default=None, choices=["fast", "gymnasium"],
                    help="CarRacing's renderer for the pool AND the raw env (default: the one evolution "
                         "trains with, cfg.evolution.renderer)")
    ap.add_argument("--lockstep", type=int, default=None, help="episodes per worker task (default: config)")
    ap.add_argument("--profile", action="store_true", help="also print cProfile's top functions (by own time) "
                    "in one worker's loop: where V, M, the drawing and the physics spend it")
    ap.add_argument("--max-steps", type=int, default=None, help="episode cap (default: the paper's; shorter "
                    "episodes keep a run short on a busy machine)")
    args = ap.parse_args()

    cfg = get_config(args.world, "paper")  # the paper's V, M and C sizes (the car's equal the laptop's)
    device = resolve_device(args.device)
    lockstep = args.lockstep or cfg.evolution.lockstep
    renderer = args.renderer or cfg.evolution.renderer
    if args.quick:
        max_steps, P, R, raw_seconds, repeats = 100, 4, 2, 3, 20
    else:
        lap = get_config(args.world, "laptop").evolution  # one laptop generation (car: 16 x 2 episodes)
        max_steps, P, R, raw_seconds, repeats = cfg.evolution.max_steps, lap.population, lap.rollouts, 15, 200
    max_steps = args.max_steps or max_steps
    torch.set_num_threads(1)  # as in each rollout worker

    vae, m = untrained_agent(cfg)
    print(f"world {args.world} | cores {os.cpu_count()} | load average {os.getloadavg()[0]:.2f} | "
          f"workers {args.workers} | lockstep {lockstep} | episode cap {max_steps} | torch {torch.__version__}"
          + (f" | renderer {renderer}" if args.world == "carracing" else ""))
    print("V and M are UNTRAINED, built at the paper's sizes (z {}, LSTM {}): random weights cost the same "
          "as trained ones".format(cfg.vae.z_size, cfg.mdnrnn.hidden))

    raw = raw_steps_per_second(args.world, raw_seconds, max_steps, renderer)
    env_ms = 1000 / raw
    spec = agent_spec(args.world, "zh", vae, m, max_steps, lockstep, renderer)
    ((rate0, steps0, sec0), (rate, steps, sec)), per_task = population_steps_per_second(spec, args.workers, P, R)
    limit = args.workers * raw

    print("\n-- population throughput (V + M + C, mode zh, worker processes on the CPU)")
    print(f"raw env steps/s, one env, this process:   {raw:9.0f}   ({env_ms:.2f} ms per step)")
    print(f"limit, {args.workers} x raw:                         {limit:9.0f}")
    print(f"pool, first run (workers build envs):     {rate0:9.0f}   ({P} x {R} episodes, {steps0} steps, "
          f"{sec0:.1f} s)")
    print(f"pool, second run (steady state):          {rate:9.0f}   ({steps} steps, {sec:.1f} s)")
    print(f"ratio to the limit:                       {rate / limit:9.2f}   (aim >= 0.85)")

    loop_rate, loop_steps, env_share = one_worker_loop(spec, per_task)
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(one_worker_loop, spec, per_task, 1)
        print(f"\n-- cProfile of one worker's loop ({per_task} episodes in lockstep; own time, top 15)")
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    env_rate = loop_rate / env_share  # env.step alone, under the agents' own actions
    print(f"\n-- where the gap goes: one worker's loop ({per_task} episodes in lockstep) in this process")
    print(f"loop steps/s (env + V + M + C, no pipes):  {loop_rate:9.0f}   ({loop_steps} steps; "
          f"{loop_rate / raw:.2f} of raw)")
    print(f"time inside env.step:                     {100 * env_share:8.0f}%   (the rest, "
          f"{1000 * (1 - env_share) / loop_rate:.2f} ms per step, is the agent and the loop)")
    print(f"env.step alone under the agents' actions: {env_rate:9.0f}   ({1000 / env_rate:.2f} ms per step; "
          f"raw above drives random actions)")
    print(f"parallel efficiency, pool / ({args.workers} x loop):     {rate / (args.workers * loop_rate):9.2f}")
    print(f"pool / ({args.workers} x env alone, same actions):     {rate / (args.workers * env_rate):9.2f}")

    print(f"\n-- agent inference per step on {device.type} (one thread on the CPU), next to the env step")
    print(f"{'agent':<10} {'batch':>5} {'ms per call':>12} {'ms per episode-step':>20} {'x env step':>11}")
    parts = {}
    for mode, name, eager in (("z", "V + C", False), ("zh", "V + M + C", False), ("zh", "eager *", True)):
        for batch in sorted({lockstep, per_task, 1}, reverse=True):
            ms = inference_ms(args.world, mode, vae.to(device), m.to(device), batch, device, repeats, eager)
            if not eager:
                parts[mode, batch] = ms / batch
            print(f"{name:<10} {batch:>5} {ms:12.3f} {ms / batch:20.3f} {ms / batch / env_ms:11.2f}")
    print("* V + M + C with the eager modules (vae.encode, m.step): the workers' path before TorchScript V "
          "and MDNRNN.advance")
    if device.type == "cpu":
        expected = env_ms / (env_ms + parts["zh", per_task])
        print(f"\nthis run's tasks step {per_task} episodes together; expected ratio from the parts timed alone, "
              f"env / (env + V+M+C at batch {per_task}): {expected:.2f}.\nInside the loop the agent costs more than "
              "alone, and the env's step cost depends on how the car drives; the\nparallel efficiency line "
              f"isolates the pool's own overhead (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores).")
        # the floor: V's encoder at this core's matrix-multiply rate, whatever the batching
        flops, peak = 2 * encoder_macs(vae), matmul_gflops()
        v_ms = parts["z", per_task]  # V + C per episode-step, timed above
        floor_ms = flops / peak / 1e6
        print(f"\n-- the floor: V's encoder is {flops / 1e6:.1f} MFLOP per frame; one thread multiplies matrices at "
              f"{peak:.1f} GFLOP/s,\nso V alone needs at least {floor_ms:.2f} ms per frame (V + C here: {v_ms:.2f} ms, "
              f"{flops / v_ms / 1e6:.1f} GFLOP/s).\nBest ratio any batching can reach on this CPU, env / (env + "
              f"that floor): {env_ms / (env_ms + floor_ms):.2f}; with V + C as timed: {env_ms / (env_ms + v_ms):.2f}.")
        if parts["zh", per_task] > env_ms:
            print("Here the agent's inference costs more than the env step: the agent, not the env, is the "
                  "limit, and a ratio near 0.85 is out of reach on the CPU (batch more episodes per worker, "
                  "or run V and M on a GPU).")


if __name__ == "__main__":
    main()
