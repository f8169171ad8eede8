"""The car trained in its own dream, measured: dream and real scores over CMA-ES seeds, beside random play.

    python experiments/car_dream.py artifacts --seeds 0 1 2 --out car-dream
    python experiments/car_dream.py artifacts --seeds 0 1 2 --out car-dream-k1 --set mdnrnn.reward_pessimism=1
    python experiments/car_dream.py artifacts --seeds 0 1 2 --out car-dream-k1 --set mdnrnn.reward_pessimism=1 --rounds 1

The first argument is a finished car root (an ``--artifacts`` folder whose ``carracing/<profile>/`` holds
the random-play data, V and the encoded series: ``python -m wmlib reproduce carracing`` makes one). It is
only read. In ``--out`` the script builds, with the library's own functions:

* ``m/``: the source's data, V and series (linked, not copied) and M trained there afresh with the
  recipe (default ``experiments/recipes/carracing-dream.toml``: a reward head), shared by every seed;
* ``seed-<s>/``: the same models linked, and C evolved in M's dream with ``evolution.seed=s``
  (``train_in_dream``), then scored by ``evaluate_in_reality``: ``--episodes`` dreams and as many
  official tracks (gymnasium's renderer, the test seeds every car score uses);
* with ``--rounds k``: then k iterative rounds per seed (``iterate``: the seed's C drives ``iterate.episodes``
  real tracks, their rewards join M's data, M is fine-tuned and C re-evolved in the new dream), each round's C
  scored on the same tracks; the rounds' rows go under the seed's ``rounds``;
* ``car_dream.json``: the settings, M's held-out reward error, each seed's dream and real score, their
  mean, and the random policy's real score over ``--episodes`` tracks for reference; and ``trace``: the
  first seed's C on the first official track, per step the game's reward and the one M predicted
  (``training.dream.real_reward_trace``; notebook 08 draws it).

Every stage is get-or-build, so a killed run resumes and a finished one is read back. Training
happens here (M, C), but only through the library's commands' functions.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from wmlib import paths
from wmlib.artifacts import link_stages, write_json
from wmlib.config import apply_recipe, apply_settings, get_config

RECIPE = Path(__file__).resolve().parent / "recipes" / "carracing-dream.toml"
SHARED = ("data", "vae", "series")  # what every arm reads from the source root, unchanged


def car_config(root: Path, profile: str, recipe: Path, settings) -> object:
    cfg = get_config("carracing", profile, str(root))
    return apply_settings(apply_recipe(cfg, recipe), settings)


def summary(returns) -> dict:
    r = np.asarray(returns, np.float64)
    return dict(mean=float(r.mean()), std=float(r.std()), episodes=int(r.size))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="a finished car artifacts root (read only)")
    ap.add_argument("--out", default="car-dream", help="folder for the runs and car_dream.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="CMA-ES seeds (evolution.seed)")
    ap.add_argument("--episodes", type=int, default=100, help="dreams and official tracks per score")
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--recipe", default=str(RECIPE))
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    ap.add_argument("--workers", type=int, default=2, help="real-track worker processes")
    ap.add_argument("--backend", default="processes", help="real tracks on: processes | serial | ray")
    ap.add_argument("--device", default=None, help="where M dreams (default: cuda when present)")
    ap.add_argument("--rounds", type=int, default=0,
                    help="iterative rounds after each seed's C (iterate: its own tracks join M's data, M is "
                         "fine-tuned, C re-evolved in the new dream); each round scored on the same tracks")
    args = ap.parse_args(argv)
    if args.episodes < 1 or not args.seeds or args.rounds < 0:
        raise SystemExit("need --episodes >= 1, at least one seed and --rounds >= 0")

    from wmlib.training.dream import dream_params, evaluate_in_reality, real_reward_trace, train_in_dream
    from wmlib.training.iterate import iterate
    from wmlib.training.mdnrnn import evaluate_mdnrnn, train_mdnrnn
    from wmlib.worlds.baseline import random_baseline

    out = Path(args.out).resolve()
    source = paths.run_dir(get_config("carracing", args.profile, str(Path(args.source).resolve())))
    shared = car_config(out / "m", args.profile, args.recipe, args.set)
    if not shared.mdnrnn.reward_head:
        raise SystemExit("the car's dream needs M's reward head: keep mdnrnn.reward_head=true (the recipe's)")
    link_stages(source, paths.run_dir(shared), SHARED)
    t0 = time.time()
    train_mdnrnn(shared)
    m_eval = evaluate_mdnrnn(shared)
    m_seconds = time.time() - t0
    print(f"M with a reward head: held-out NLL {m_eval['nll']:.4f}, reward squared error {m_eval['reward_mse']:.4f} "
          f"(a constant: {m_eval['reward_baseline_mse']:.4f})")

    seeds, trace = [], None
    for seed in args.seeds:
        # every score (round 0's and the rounds') over --episodes tracks and dreams; a round's games seeded by seed
        cfg = apply_settings(car_config(out / f"seed-{seed}", args.profile, args.recipe, args.set),
                             [f"evolution.seed={seed}", f"iterate.seed={seed}", f"dream.real_episodes={args.episodes}",
                              f"dream.dream_episodes={args.episodes}"])
        link_stages(paths.run_dir(shared), paths.run_dir(cfg), SHARED + ("mdnrnn",))
        t0 = time.time()
        res = train_in_dream(cfg, device=args.device)
        score = evaluate_in_reality(cfg, backend=args.backend, workers=args.workers, device=args.device)
        seeds.append(dict(seed=seed, generations=res.generations, seconds=time.time() - t0,
                          dream=summary(score["dream"]["returns"]), real=summary(score["real"]["returns"]),
                          real_returns=score["real"]["returns"]))
        if args.rounds:  # round k's M and C (iterate's rounds table: M judged on the new tracks, the scores)
            rows = iterate(cfg, rounds=args.rounds)
            seeds[-1]["rounds"] = [dict(round=r["round"], dream=r["dream"], real=r["real"],
                                        new_m_heldout=r.get("new_m_heldout"), minutes=sum(r["seconds"].values()) / 60)
                                   for r in rows[1:]]
        if trace is None:  # the first seed's C on the first official track: M's predicted reward beside the game's
            t = real_reward_trace(cfg, dream_params(cfg, cfg.dream.tau))
            trace = dict(t, seed=seed, track_seed=t["seed"], real=[round(x, 4) for x in t["real"]],
                         predicted=[round(x, 4) for x in t["predicted"]])
        print(f"seed {seed}: dream {seeds[-1]['dream']['mean']:.1f}, real {seeds[-1]['real']['mean']:.1f} "
              f"+- {seeds[-1]['real']['std']:.1f} over {args.episodes} official tracks"
              + "".join(f"; round {r['round']}: dream {r['dream']['mean']:.1f}, real {r['real']['mean']:.1f} +- "
                        f"{r['real']['std']:.1f}" for r in seeds[-1].get("rounds", [])))

    rnd = random_baseline("carracing", args.episodes, workers=args.workers, max_steps=shared.dream.max_steps)
    record = dict(source=str(Path(args.source).resolve()), profile=args.profile, recipe=str(args.recipe),
                  settings=list(args.set), mdnrnn=dataclasses.asdict(shared.mdnrnn),
                  dream=dataclasses.asdict(shared.dream),
                  evolution={k: getattr(shared.evolution, k) for k in ("population", "rollouts", "generations")},
                  m=dict(seconds=m_seconds, **{k: m_eval[k] for k in m_eval if k.startswith(("nll", "reward"))
                                               and not k.endswith("per_dim")}),
                  seeds=seeds, random=summary(rnd["returns"]), trace=trace,
                  mean_over_seeds=dict(dream=float(np.mean([s["dream"]["mean"] for s in seeds])),
                                       real=float(np.mean([s["real"]["mean"] for s in seeds]))))
    for k in range(1, args.rounds + 1):  # round k's scores over the seeds
        record["mean_over_seeds"][f"round_{k}"] = {
            w: float(np.mean([s["rounds"][k - 1][w]["mean"] for s in seeds])) for w in ("dream", "real")}
    write_json(out / "car_dream.json", record)
    print(f"mean over {len(seeds)} seeds: dream {record['mean_over_seeds']['dream']:.1f}, real "
          f"{record['mean_over_seeds']['real']:.1f}; random policy {record['random']['mean']:.1f} +- "
          f"{record['random']['std']:.1f}\n-> {out / 'car_dream.json'}")
    return record


if __name__ == "__main__":
    main()
