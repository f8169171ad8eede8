"""The temperature lever on an iterative round's M: evolve C at several tau, score each in the real game.

The paper's table says a harder dream (tau 1.15-1.3) transfers better. Our round-1 dream
is still far kinder than the game (dream ~1,600 steps, real ~420), so this asks whether
a hotter dream closes that gap. It reads a finished `reproduce doom` root (``--source``,
e.g. the one ``experiments/reproduce_timed.sh doom`` leaves) and never writes there:
round ``--round``'s M and the dream starts of that root (random play + the rounds' games)
are used as they are; each tau's CMA-ES starts from the round before's C, with the same
seed and sizes as the round itself (so ``--taus 1.15`` re-makes the round's own C).

    python experiments/doom_round_taus.py --source /tmp/wm-fresh-doom2/artifacts --round 1 --taus 1.3 1.5
    python experiments/doom_round_taus.py --round 1 --taus 1.15 --ensemble min
    python experiments/doom_round_taus.py --round 1 --taus 1.15 --cold
    python experiments/doom_round_taus.py --round 1 --taus 1.15 --seed 1 --workers 2   # another CMA-ES seed
    python experiments/doom_round_taus.py --round 1 --taus 1.15 --population 64 --rollouts 16 --tag=-p64r16
    python experiments/doom_round_taus.py --round 1 --taus 1.15 --ensemble min --seed 1 --tag=-archive --evolve-only

``--ensemble mean|min`` dreams each candidate in every round's M (0..k; its own starts
per M, the rollouts split evenly) and scores it by the mean of all those dreams, or by its
worst M's mean: a cheat one M allows is judged by the Ms that do not. The printed dream
score is round k's M alone.

Writes ``artifacts-experiments/round-taus/round-<k>/tau-<tau>/`` (resumable) and prints
dream and real scores (mean +- std over 100 dreams / 100 real games on the test seeds).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="/tmp/wm-fresh-doom2/artifacts", help="a finished `reproduce doom` root")
    ap.add_argument("--round", type=int, default=1, help="whose M (its dream starts: all the root's games)")
    ap.add_argument("--taus", type=float, nargs="+", default=[1.0, 1.3, 1.5])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rollouts", type=int, default=0, help="dream rollouts per candidate (0: the profile's)")
    ap.add_argument("--population", type=int, default=0, help="CMA-ES population (0: the profile's)")
    ap.add_argument("--ensemble", choices=["none", "mean", "min"], default="none",
                    help="dream in the Ms of rounds 0..k, rollouts split evenly: fitness = the mean over all "
                         "dreams, or the worst M's mean (each M's cheat is judged by the others)")
    ap.add_argument("--seed", type=int, default=0, help="added to the round's CMA-ES seed (0: the round's own)")
    ap.add_argument("--cold", action="store_true", help="CMA-ES from zero weights, not the round before's C")
    ap.add_argument("--evolve-only", action="store_true", help="stop after the evolution (no scoring)")
    ap.add_argument("--tag", default="", help="suffix of the run folder, e.g. --tag=-p64r16 (with '=': it starts with '-')")
    args = ap.parse_args()
    os.environ["WM_ARTIFACTS"] = str(Path(args.source).resolve())

    import numpy as np
    from wmlib.agent.evolution import evolve
    from wmlib.agent.rollout import RolloutPool
    from wmlib.config import get_config
    from wmlib.training.controller import TEST_SEED
    from wmlib.training.dream import DREAM_TEST_SEED, Dreamer, _summary, dream_evolution_config, real_spec
    from wmlib.training.iterate import dream_series, load_round_mdnrnn, round_params, worst_dream_fitness

    sizes = {k: v for k, v in dict(rollouts=args.rollouts, population=args.population).items() if v}
    cfg = get_config("doom", "laptop").with_overrides(evolution=dict(workers=args.workers), dream=sizes)
    k = args.round
    m = load_round_mdnrnn(cfg, k)
    series = dream_series(cfg)
    ecfg = dream_evolution_config(cfg).with_overrides(evolution=dict(generations=cfg.iterate.generations,
                                                                     seed=cfg.evolution.seed + k + args.seed))
    x0 = round_params(cfg, k - 1) if (k >= 1 and cfg.iterate.warm_start and not args.cold) else None
    variant = ("" if args.ensemble == "none" else f"-ens-{args.ensemble}") + ("-cold" if args.cold else "") \
        + (f"-seed{args.seed}" if args.seed else "") + args.tag
    rollouts = ecfg.evolution.rollouts
    for tau in args.taus:
        out = Path("artifacts-experiments/round-taus") / f"round-{k}" / f"tau-{tau:g}{variant}"
        out.mkdir(parents=True, exist_ok=True)
        dreamer = Dreamer(cfg, tau, mdnrnn=m, series=series)
        # the dreams each candidate is judged in: round k's M, or every round's (round k's last, its starts reused)
        dreamers = [dreamer] if args.ensemble == "none" else \
            [Dreamer(cfg, tau, mdnrnn=load_round_mdnrnn(cfg, j), series=series) for j in range(k)] + [dreamer]
        share = max(1, rollouts // len(dreamers))

        def fitness(sol, g, seed):  # "none" and "mean": every M's dreams side by side
            return np.concatenate([d(sol, share, seed + 7919 * j) for j, d in enumerate(dreamers)], axis=1)

        if args.ensemble == "min":  # the library's iterate.ensemble="min"
            fitness = worst_dream_fitness(dreamers, rollouts)

        clock = time.perf_counter()
        res = evolve(ecfg.evolution, dreamer.n_params, fitness, out,
                     progress=False, x0=x0, evaluate_mean_fn=lambda p, n, seed: dreamer(p[None], n, seed)[0])
        minutes = (time.perf_counter() - clock) / 60
        if args.evolve_only:
            print(f"round {k} tau {tau:g} ensemble {args.ensemble}: evolved in {minutes:.1f} min", flush=True)
            continue
        params = np.asarray(res.deployed_params)
        dream = dreamer(params[None], cfg.dream.dream_episodes, DREAM_TEST_SEED)[0]
        with RolloutPool(real_spec(cfg, m), "processes", args.workers) as pool:
            real = pool.run(params[None], cfg.dream.real_episodes, TEST_SEED)["returns"][0]
        row = dict(round=k, tau=tau, ensemble=args.ensemble, warm_start=x0 is not None, seed_offset=args.seed,
                   sizes=dict(population=ecfg.evolution.population, rollouts=rollouts,
                              generations=ecfg.evolution.generations),
                   minutes_evolve=round(minutes, 2), dream=_summary(dream), real=_summary(real))
        (out / "score.json").write_text(json.dumps(row, indent=2))
        print(f"round {k} tau {tau:g} ensemble {args.ensemble}: dream {row['dream']['mean']:.1f} +- {row['dream']['std']:.1f}, "
              f"real {row['real']['mean']:.1f} +- {row['real']['std']:.1f} (evolve {minutes:.1f} min)", flush=True)


if __name__ == "__main__":
    main()
