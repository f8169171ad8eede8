"""CarRacing learning curves of several runs in one figure: C's evaluated mean against episodes played.

Each argument is an artifacts root holding ``carracing/laptop/controller-<mode>/`` (the ``--artifacts`` of
``reproduce carracing`` or ``train-controller carracing``, a car recipe's folder); every mode found is drawn,
episodes counted with the run's own saved population and rollouts, and the 100-track test score (where
scored) printed beside it.

    python experiments/carracing_curves.py artifacts artifacts-car-seed1 artifacts-car-r4 \\
        --out figures/carracing_fresh_curves.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

NAMES = {"z": "V only", "zh": "V + M"}


def curve(run: dict) -> list[dict]:
    """(episodes played, evaluated mean) per generation of a saved evolution run, episodes counted with
    the run's own population and rollouts (whatever the profile says now)."""
    ev, played, rows = run["config"], 0, []
    for h in run["history"]:
        played += ev["population"] * ev["rollouts"] + h.get("eval_episodes", 0)
        rows.append(dict(generation=h["generation"], episodes=played, eval_mean=h.get("eval_mean")))
    return rows


def run_curve(folder: Path):
    """(mode, label, episodes played, evaluated means, test score or None) per mode present in ``folder``."""
    from wmlib import paths
    from wmlib.agent.evolution import CHECKPOINT
    from wmlib.artifacts import load_checkpoint
    from wmlib.config import get_config

    cfg = get_config("carracing", "laptop", artifacts=folder)
    for mode in ("z", "zh"):
        saved = paths.controller_dir(cfg, mode) / CHECKPOINT
        if not saved.exists():
            continue
        run = load_checkpoint(saved)  # its history and the evolution config it was evolved with
        ev = run["config"]
        points = [(r["episodes"], r["eval_mean"]) for r in curve(run) if r["eval_mean"] is not None]
        xs, ys = (list(v) for v in zip(*points)) if points else ([], [])
        test = paths.controller_score(cfg, mode, "deployed", 100)
        score = json.loads(test.read_text()) if test.exists() else None
        label = f"{folder.name}: {NAMES[mode]} ({ev['population']} x {ev['rollouts']}, seed {ev['seed']})"
        yield mode, label, xs, ys, score


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", default="figures/carracing_fresh_curves.png")
    args = ap.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    styles = ["o-", "s--", "^:", "d-."]
    for i, folder in enumerate(map(Path, args.runs)):
        for mode, label, xs, ys, score in run_curve(folder):
            if score:
                label += f"; test {score['mean']:.0f} +- {score['std']:.0f}"
            ax.plot(xs, ys, styles[i % len(styles)], color="tab:blue" if mode == "z" else "tab:red",
                    alpha=0.9, ms=4, label=label)
            print(label)
    ax.axhline(800, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("episodes played in evolution (fast renderer)")
    ax.set_ylabel("C's evaluated mean (8 tracks)")
    ax.set_title("CarRacing at the laptop profile, on one fresh pipeline's V and M")
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(args.out)


if __name__ == "__main__":
    main()
