"""CarRacing learning curves of several runs in one figure: C's evaluated mean against episodes played.

Each argument is a run folder of ``experiments/carracing_modes.py`` (``artifacts-experiments/car/<name>``,
or any artifacts root holding ``carracing/laptop/controller-<mode>/``); every mode found is drawn, the
population and rollouts read from the run's own saved evolution config, and the 100-track test score
(where scored) printed beside it.

    python experiments/carracing_curves.py artifacts-experiments/car/fresh-s0 artifacts-experiments/car/fresh-s1 \\
        artifacts-experiments/car/fresh-r4 --out figures/carracing_fresh_curves.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

NAMES = {"z": "V only", "zh": "V + M"}


def run_curve(folder: Path):
    """(label, episodes played, evaluated means, test score or None) per mode present in ``folder``."""
    import torch

    for mode in ("z", "zh"):
        d = folder / "carracing" / "laptop" / f"controller-{mode}"
        if not (d / "evolution.pt").exists():
            continue
        state = torch.load(d / "evolution.pt", map_location="cpu", weights_only=False)
        ev = state["config"]  # the evolution config the run used
        per_generation = ev["population"] * ev["rollouts"]
        played, xs, ys = 0, [], []
        for h in state["history"]:
            played += per_generation + h.get("eval_episodes", 0)
            if h.get("eval_mean") is not None:
                xs.append(played)
                ys.append(h["eval_mean"])
        test = d / "test-deployed-100.json"
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
