"""How long does a constant action live in M's dream? Where a dream is too kind, C will go.

Plays B dreams per policy (hold left, stay, hold right, a uniform random action each step)
in the M of an artifacts root, at a temperature, starting at recorded first frames
(``--start-from first``, the paper) or anywhere along the recorded games
(``anywhere``: M's state from the real steps before the start). Deaths are drawn
from M's un-weighted probability (the laptop profile's done rule).

    python experiments/doom_constant_actions.py --artifacts artifacts
    python experiments/doom_constant_actions.py --artifacts artifacts --start-from anywhere
    python experiments/doom_constant_actions.py --artifacts artifacts-first --round 1   # doom-starts-first.toml's root
    python experiments/doom_constant_actions.py --artifacts artifacts --start-from anywhere --tau 1.15 1.3 1.45 \
        --real 100 --out dreams.json     # several temperatures, and the same policies in the real game

``--artifacts``: a finished Doom root (``python -m wmlib reproduce doom``'s, or a recipe's); it only reads it.

Prints the mean +- std of steps survived per policy (the cap is 2,100) at each temperature;
``--real N`` also plays each policy in N real games (seeds from ``REAL_SEED``, used by no other
measurement) and prints each temperature's dream survival over the real one per policy; ``--out``
writes it all as JSON.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", required=True, help="a Doom artifacts root with data, series and M")
    ap.add_argument("--round", type=int, default=0, help="the M of this iterative round (0: the pipeline's)")
    ap.add_argument("--start-from", default="first", choices=["first", "anywhere"])
    ap.add_argument("--tau", type=float, nargs="+", default=[1.15], help="one or more temperatures")
    ap.add_argument("--real", type=int, default=0, help="also play each policy in this many real games")
    ap.add_argument("--out", help="write the figures here as JSON")
    ap.add_argument("--dreams", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="the settings the root was built with, when not the laptop profile's (as on its commands)")
    args = ap.parse_args()

    from wmlib.agent.dream import done_now, sample_from_noise
    from wmlib.config import apply_settings, get_config
    from wmlib.training.dream import recorded_starts
    from wmlib.training.iterate import load_round_mdnrnn
    from wmlib.training.mdnrnn import Transitions
    from wmlib.training.series import load_series

    cfg = apply_settings(get_config("doom", "laptop", args.artifacts), args.set)
    m, series = load_round_mdnrnn(cfg, args.round), load_series(cfg)
    if args.start_from == "anywhere":
        mu, logvar, (h0, c0, restart0) = recorded_starts(m, Transitions(series), cfg.dream.start_stride)
    else:
        mu, logvar = np.asarray(series.first_mu, np.float32), np.asarray(series.first_logvar, np.float32)
        h0 = c0 = np.zeros((len(mu), m.hidden), np.float32)
        restart0 = np.ones(len(mu), np.float32)
    B, cap = args.dreams, cfg.dream.max_steps

    @torch.inference_mode()
    def survive(policy, tau):
        gen = torch.Generator().manual_seed(args.seed)  # every temperature dreams from the same starts
        idx = torch.randint(0, len(mu), (B,), generator=gen)
        z = torch.from_numpy(mu)[idx] + torch.exp(0.5 * torch.from_numpy(logvar)[idx]) * torch.randn(B, m.z_size, generator=gen)
        h, c = torch.from_numpy(h0)[idx][None], torch.from_numpy(c0)[idx][None]
        restart = torch.from_numpy(restart0)[idx]
        alive, steps = torch.ones(B, dtype=torch.bool), torch.zeros(B)
        for _ in range(cap):
            a = (torch.randint(0, 3, (B, 1), generator=gen).float() - 1 if policy == "random"
                 else torch.full((B, 1), float(policy)))
            mix, done_logit, (h, c) = m.step(z, a, (h, c), restart)
            restart = torch.zeros(B)
            z = sample_from_noise(*mix, tau, torch.rand(B, m.z_size, generator=gen),
                                  torch.rand(B, m.z_size, generator=gen))
            steps += alive
            alive &= ~done_now(done_logit, torch.rand(B, generator=gen), "sample", cfg.dream.done_threshold,
                               cfg.mdnrnn.done_pos_weight)
            if not alive.any():
                break
        return dict(mean=round(steps.mean().item(), 1), std=round(steps.std().item(), 1))

    out = dict(artifacts=str(args.artifacts), round=args.round, start_from=args.start_from, dreams=B,
               settings=args.set, dream={})
    if args.real:
        out["real"] = {name: real_survival(policy, args.real, cap) for name, policy in POLICIES}
        print(f"real game, {args.real} games each: " + ", ".join(
            f"{name} {v['mean']:.1f} +- {v['std']:.1f}" for name, v in out["real"].items()), flush=True)
    for tau in args.tau:
        print(f"{args.artifacts} round {args.round}, starts {args.start_from}, tau {tau}, {B} dreams each:")
        out["dream"][str(tau)] = row = {name: survive(policy, tau) for name, policy in POLICIES}
        for name, v in row.items():
            ratio = f"  ({v['mean'] / out['real'][name]['mean']:.2f}x the real game)" if args.real else ""
            print(f"  {name:10s} {v['mean']:7.1f} +- {v['std']:6.1f} steps{ratio}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


POLICIES = (("hold left", -1.0), ("stay", 0.0), ("hold right", 1.0), ("random", "random"))
REAL_SEED = 55_000_000   # the real games' seeds: used by no training run, test or validation


def real_survival(policy, games: int, cap: int) -> dict:
    """Steps each of ``games`` real Take Cover games lasts under a constant action (or a uniform
    random action each step), game g from seed ``REAL_SEED + g``."""
    from wmlib.worlds.data import play_episode
    from wmlib.worlds.envs import make_env

    rng = np.random.default_rng(REAL_SEED)
    act = ((lambda obs: np.array([rng.integers(-1, 2)], np.float32)) if policy == "random"
           else (lambda obs: np.array([policy], np.float32)))
    env = make_env("doom", max_steps=cap)
    try:
        lengths = [play_episode(env, act, REAL_SEED + g, keep=False)["length"] for g in range(games)]
    finally:
        env.close()
    return dict(mean=round(float(np.mean(lengths)), 1), std=round(float(np.std(lengths)), 1), games=games)


if __name__ == "__main__":
    main()
