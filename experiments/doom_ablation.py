"""Ablations of the Doom recipe that keep its V, data and M: the dream's done rule, and the real z.

The recipe's run (``experiments/doom_levers.py --name recipe ...``) must exist. Each ablation
gets its own folder under ``artifacts-experiments/levers/<name>`` that links the recipe's
data, V, series and M (so only C's training or scoring changes) and prints the real score
over 100 games (mean +- std):

    python experiments/doom_ablation.py threshold   # C trained with the original threshold done rule
    python experiments/doom_ablation.py mean-z      # the recipe's C, scored feeding C V's mean code

The levers that change M (discrete actions, long holds) need their own M:
``experiments/doom_levers.py --name no-discrete ...`` and ``--name short-holds ...``.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

RECIPE = dict(collect=dict(hold_max=40), mdnrnn=dict(discrete_actions=True),
              dream=dict(done_rule="sample", real_z="sample", generations=20))
LINKED = ("data", "vae", "series", "mdnrnn")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ablation", choices=("threshold", "mean-z"))
    ap.add_argument("--recipe", default="artifacts-experiments/levers/recipe")
    args = ap.parse_args()

    from wmlib.config import get_config
    from wmlib.training.dream import evaluate_in_reality, train_in_dream

    src = Path(args.recipe).resolve() / "doom" / "laptop"
    root = Path("artifacts-experiments/levers") / f"ablate-{args.ablation}"
    run = root.resolve() / "doom" / "laptop"
    run.mkdir(parents=True, exist_ok=True)
    for name in LINKED:  # the recipe's data, V and M, read only
        if not (run / name).exists():
            (run / name).symlink_to(src / name, target_is_directory=True)
    cfg = get_config("doom", "laptop", str(root.resolve())).with_overrides(**RECIPE)
    if args.ablation == "threshold":
        cfg = cfg.with_overrides(dream=dict(done_rule="threshold"))
    else:  # the recipe's own C, copied, scored with V's mean code
        cfg = cfg.with_overrides(dream=dict(real_z="mean"))
        dst = run / "dream-tau1.15"
        if not dst.exists():
            shutil.copytree(src / "dream-tau1.15", dst, ignore=shutil.ignore_patterns("score-*.json"))
    res = train_in_dream(cfg, progress=False)
    score = evaluate_in_reality(cfg)
    print(f"{args.ablation}: {res.generations} generations; dream {score['dream']['mean']:.1f} +- "
          f"{score['dream']['std']:.1f}, real {score['real']['mean']:.1f} +- {score['real']['std']:.1f} "
          f"over {score['real']['episodes']} games")


if __name__ == "__main__":
    main()
