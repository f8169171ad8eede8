"""What else we tried to carry a dream-trained Doom agent to the real game at laptop scale.

At the laptop profile every dream-trained C learns to hold "left" and scores below
the random policy in the real game (README, notebook 05). This script reruns the
Doom pipeline with one or more of the remedies changed, in its own artifacts
folder, reusing the laptop profile's V (so only M and C change):

    --episodes N        random-play episodes for M (laptop: 200)
    --mdnrnn-epochs E   M's epochs on them (laptop: 30)
    --done-rule R       how a dream ends: threshold (the original code's) | sample
    --generations G     CMA-ES generations in the dream (laptop: 20)

    python experiments/doom_transfer.py --done-rule sample
    python experiments/doom_transfer.py --episodes 1000 --mdnrnn-epochs 10
    python experiments/doom_transfer.py --episodes 1000 --mdnrnn-epochs 10 --generations 150

Every stage is get-or-build, so a rerun with more generations resumes the evolution.
Prints M's held-out quality, the wall time of each stage, and the dream and real
scores (mean +- std over 100 episodes each).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifacts", default=None,
                    help="this experiment's folder (default: artifacts-experiments/<settings>)")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--mdnrnn-epochs", type=int, default=30)
    ap.add_argument("--done-rule", default="threshold", choices=["threshold", "sample"])
    ap.add_argument("--generations", type=int, default=20)
    ap.add_argument("--tau", type=float, default=1.15)
    args = ap.parse_args()

    from wmlib import paths
    from wmlib.config import get_config
    from wmlib.training.dream import evaluate_in_reality, train_in_dream
    from wmlib.training.mdnrnn import evaluate_mdnrnn, format_evaluation, train_mdnrnn
    from wmlib.training.vae import encode_dataset
    from wmlib.worlds.data import collect

    laptop = get_config("doom", "laptop")  # its root: WM_ARTIFACTS or ./artifacts
    name = f"ep{args.episodes}-m{args.mdnrnn_epochs}-{args.done_rule}"
    root = Path(args.artifacts or Path("artifacts-experiments") / name).resolve()
    cfg = get_config("doom", "laptop", artifacts=root).with_overrides(  # every stage below lives under root
        collect=dict(episodes=args.episodes), mdnrnn=dict(epochs=args.mdnrnn_epochs),
        dream=dict(done_rule=args.done_rule))

    vae = paths.vae_dir(cfg)
    if not vae.exists():
        if not paths.vae_file(laptop).exists():
            raise SystemExit(f"no laptop V at {paths.vae_dir(laptop)}: train it first (`python -m wmlib "
                             "train-vae doom`), or point WM_ARTIFACTS at the artifacts folder that holds it")
        vae.parent.mkdir(parents=True, exist_ok=True)
        vae.symlink_to(paths.vae_dir(laptop), target_is_directory=True)  # the same V: only M and C change

    times = {}
    for stage, run in [("collect", lambda: collect(cfg)), ("encode", lambda: encode_dataset(cfg)),
                       ("train M", lambda: train_mdnrnn(cfg)),
                       ("dream", lambda: train_in_dream(cfg, args.tau, generations=args.generations))]:
        t0 = time.perf_counter()
        run()
        times[stage] = time.perf_counter() - t0
    print(format_evaluation(evaluate_mdnrnn(cfg)))
    t0 = time.perf_counter()
    score = evaluate_in_reality(cfg, args.tau)
    times["score"] = time.perf_counter() - t0
    print(f"\n{name}, {args.generations} dream generations at tau {args.tau:g}, artifacts {root}")
    print("stage minutes (0 = already on disk): " + ", ".join(f"{k} {v / 60:.1f}" for k, v in times.items()))
    for world in ("dream", "real"):
        s = score[world]
        print(f"{world:>5}: {s['mean']:.1f} +- {s['std']:.1f} over {s['episodes']} episodes")


if __name__ == "__main__":
    main()
