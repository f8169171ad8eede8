"""CarRacing's two renderers side by side: env steps/s of each, the ratio, and pixel agreement.

Both envs (``wmlib.worlds.carracing_fast.make_carracing``, renderer "fast" and
"gymnasium", the same wrappers as ``gym.make``) play the same seeded episodes
with the same actions (a simple track-following driver, which drives over tiles
and recolours them), stepped alternately so that both see the same machine
load. Only ``env.step`` is timed. Each round starts with ``reset``, so the
first second of the episode (the camera zooming in from the whole playfield)
is in every round. Because physics is gymnasium's in both, the two trajectories
are the same, and the frames are compared as they come.

    python benchmarks/carracing_render.py                # 3 rounds x 300 steps
    python benchmarks/carracing_render.py --quick        # seconds: a smoke test
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from wmlib.worlds.carracing_fast import follow_track, make_carracing  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="episodes (each from reset)")
    ap.add_argument("--steps", type=int, default=300, help="steps per episode")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--canvas-scale", type=float, default=0.5, help="the fast renderer's view canvas")
    ap.add_argument("--quick", action="store_true", help="1 round x 60 steps")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.steps = 1, 60

    load = os.getloadavg()
    envs = {"fast": make_carracing("fast", max_episode_steps=args.steps + 1, canvas_scale=args.canvas_scale),
            "gymnasium": make_carracing("gymnasium", max_episode_steps=args.steps + 1)}
    seconds = {name: 0.0 for name in envs}
    steps = 0
    diffs, rounds = [], []
    for r in range(args.rounds):
        obs = {name: env.reset(seed=args.seed + r)[0] for name, env in envs.items()}
        spent = {name: 0.0 for name in envs}
        for t in range(args.steps):
            action = follow_track(envs["gymnasium"])
            out = {}
            for name, env in envs.items():
                t0 = time.perf_counter()
                out[name] = env.step(action)
                spent[name] += time.perf_counter() - t0
            steps += 1
            fast, ref = out["fast"], out["gymnasium"]
            assert fast[1:4] == ref[1:4], "rewards or termination differ: physics is not gymnasium's"
            diffs.append(np.abs(fast[0].astype(np.int16) - ref[0].astype(np.int16)).astype(np.uint8))
            if fast[2] or fast[3]:
                break
        rounds.append(spent["gymnasium"] / spent["fast"])
        for name in envs:
            seconds[name] += spent[name]
        print(f"round {r} (seed {args.seed + r}, {t + 1} steps): fast {(t + 1) / spent['fast']:.0f} steps/s, "
              f"gymnasium {(t + 1) / spent['gymnasium']:.0f} steps/s, ratio {rounds[-1]:.2f}x")

    d = np.stack(diffs)
    per_frame = d.reshape(len(d), -1).mean(axis=1)
    fast_sps, gym_sps = steps / seconds["fast"], steps / seconds["gymnasium"]
    print(f"\nCarRacing-v3 env.step, {steps} steps over {args.rounds} seeded episodes "
          f"(load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs)")
    print(f"  gymnasium renderer: {gym_sps:8.1f} steps/s  ({1e3 / gym_sps:.2f} ms/step)")
    print(f"  fast renderer:      {fast_sps:8.1f} steps/s  ({1e3 / fast_sps:.2f} ms/step)")
    print(f"  ratio:              {fast_sps / gym_sps:8.2f}x  (rounds: {', '.join(f'{x:.2f}' for x in rounds)}; "
          f"goal >= 5x)")
    print(f"pixel agreement over {len(d)} frames of 96x96x3: mean |difference| {d.mean():.3f} / 255, "
          f"p99 {np.percentile(d, 99):.0f}, max {d.max()}; worst frame's mean {per_frame.max():.3f}; "
          f"first second (zoom-in) {d[:50].mean():.3f}; view rows 0:84 {d[:, :84].mean():.3f}, "
          f"dashboard rows 84:96 {d[:, 84:].mean():.4f}")
    for env in envs.values():
        env.close()


if __name__ == "__main__":
    main()
