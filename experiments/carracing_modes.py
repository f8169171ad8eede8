"""CarRacing at laptop scale: C on V only (z) against C on V and M (z and h), same V, same M, same budget.

Both modes drive the shipped laptop V and M (copied into the run's own artifacts
root as plain checkpoints), so only C's input differs. ``--phase train`` evolves
C in the real world on the fast renderer (resumable); ``--phase evaluate`` scores
the deployed C over ``--episodes`` episodes on gymnasium's own renderer (the
official pixels) and writes the learning curve (score against episodes played).

    python experiments/carracing_modes.py --mode z  --phase train --workers 1 &
    python experiments/carracing_modes.py --mode zh --phase train --workers 1 &
    wait
    python experiments/carracing_modes.py --mode z  --phase evaluate
    python experiments/carracing_modes.py --mode zh --phase evaluate
    python experiments/carracing_modes.py --phase curve          # both modes' curves in one figure
    python experiments/carracing_modes.py --phase ship           # the zh C becomes the shipped car C
    python -m wmlib evaluate-shipped carracing --episodes 100    # ... and is scored as shipped

V + M started from the V-only C (h's weights zero, so it first drives exactly as V only does),
then evolved on [z, h] with a smaller step size:

    python experiments/carracing_modes.py --name warm --mode zh --phase train --workers 1 \
        --warm-from artifacts-experiments/car/laptop --generations 20 --sigma0 0.05
    python experiments/carracing_modes.py --name warm --mode zh --phase evaluate

C on the V and M of a pipeline run (``reproduce carracing``'s root, say) instead of the shipped ones:

    python experiments/carracing_modes.py --name fresh-s1 --models-from /tmp/wm-fresh --mode zh --phase train --seed 1

Sizes default to the laptop profile; ``--generations`` etc. override them.
Results go to ``artifacts-experiments/car/<name>/`` (``summary-<mode>.json``, ``curve.png``).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path


def shipped_vae(cfg):
    """The shipped laptop V as this run's V (a plain checkpoint; written once)."""
    from wmlib import paths
    from wmlib.artifacts import save_checkpoint
    from wmlib.book.pretrained import load_shipped_vae

    if not paths.vae_file(cfg).exists():
        v = load_shipped_vae(cfg.world)
        save_checkpoint(paths.vae_file(cfg), dict(
            model={k: t.detach().float() for k, t in v.state_dict().items()}, z_size=v.z_size, world=cfg.world,
            profile=cfg.profile, config=dataclasses.asdict(cfg.vae), complete=True, source="the shipped laptop V"))


def shipped_models(cfg):
    """The shipped laptop V and M as this run's V and M (plain checkpoints; each written once, so a
    run folder that trained its own M keeps it: experiments/carracing_better_m.py)."""
    from wmlib import paths
    from wmlib.artifacts import save_checkpoint
    from wmlib.book.pretrained import load_shipped_mdnrnn

    shipped_vae(cfg)
    if not paths.mdnrnn_file(cfg).exists():
        m = load_shipped_mdnrnn(cfg.world)
        save_checkpoint(paths.mdnrnn_file(cfg), dict(
            model={k: t.detach().float() for k, t in m.state_dict().items()}, arch=m.arch(),
            config=dataclasses.asdict(cfg.mdnrnn), complete=True, source="the shipped laptop M"))


def models_from(cfg, source):
    """V and M of another artifacts root (its laptop car pipeline) as this run's V and M (copied once)."""
    import os
    import shutil

    from wmlib import paths
    from wmlib.config import get_config

    src = get_config("carracing", "laptop", artifacts=source)
    for name, file in (("V", paths.vae_file), ("M", paths.mdnrnn_file)):
        if not file(src).exists():
            raise SystemExit(f"--models-from {source}: no {name} at {file(src)}; train it there first "
                             f"(python -m wmlib reproduce carracing --artifacts {source})")
        if not file(cfg).exists():  # copied whole, then renamed: both modes may start at once
            file(cfg).parent.mkdir(parents=True, exist_ok=True)
            part = file(cfg).with_suffix(f".part{os.getpid()}")
            shutil.copyfile(file(src), part)
            os.replace(part, file(cfg))


def saved_run(cfg, mode):
    """The run's evolution checkpoint: its history and the evolution config it was evolved with."""
    from wmlib import paths
    from wmlib.agent.evolution import CHECKPOINT
    from wmlib.artifacts import load_checkpoint

    return load_checkpoint(paths.controller_dir(cfg, mode) / CHECKPOINT)


def curve(run):
    """(episodes played, score) per generation of a ``saved_run``: the candidates' mean, and the evaluated
    mean where run; episodes counted with the run's own population and rollouts, whatever the flags now."""
    ev, played, rows = run["config"], 0, []
    for h in run["history"]:
        played += ev["population"] * ev["rollouts"] + h.get("eval_episodes", 0)
        rows.append(dict(generation=h["generation"], episodes=played, mean=h["mean"], max=h["max"],
                         eval_mean=h.get("eval_mean"), seconds=h["seconds"]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="laptop", help="run folder: artifacts-experiments/car/<name>")
    ap.add_argument("--mode", choices=["z", "zh"])
    ap.add_argument("--phase", required=True, choices=["train", "evaluate", "curve", "ship"])
    ap.add_argument("--population", type=int)
    ap.add_argument("--rollouts", type=int)
    ap.add_argument("--generations", type=int)
    ap.add_argument("--eval-every", type=int)
    ap.add_argument("--eval-episodes", type=int)
    ap.add_argument("--sigma0", type=float)
    ap.add_argument("--diagonal", action="store_true", help="separable CMA-ES (evolution.diagonal)")
    ap.add_argument("--same-episodes", action="store_true",
                    help="every candidate of a generation plays the same tracks (evolution.same_episodes)")
    ap.add_argument("--warm-from", help="a run folder whose V-only (z) C starts this zh run (h's weights zero)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=100, help="official-renderer test episodes")
    ap.add_argument("--seed", type=int, default=None, help="evolution.seed: another CMA-ES run (and its tracks)")
    ap.add_argument("--models-from", help="an artifacts root whose laptop car V and M this run drives "
                                          "(default: the shipped V and M)")
    args = ap.parse_args()

    from wmlib.config import get_config
    from wmlib.training.controller import controller_params, evaluate_controller, train_controller, widen_z_to_zh

    root = Path("artifacts-experiments/car") / args.name
    ev = {k: v for k, v in dict(population=args.population, rollouts=args.rollouts, generations=args.generations,
                                eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                                sigma0=args.sigma0, diagonal=args.diagonal or None,
                                same_episodes=args.same_episodes or None, seed=args.seed).items()
          if v is not None}
    cfg = get_config("carracing", "laptop", artifacts=root).with_overrides(evolution=ev)

    if args.phase == "curve":
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for mode, label, color in (("z", "V only (z)", "tab:blue"), ("zh", "V and M (z, h)", "tab:red")):
            try:
                rows = curve(saved_run(cfg, mode))
            except FileNotFoundError:
                continue
            ax.plot([r["episodes"] for r in rows], [r["mean"] for r in rows], alpha=0.4, color=color,
                    label=f"{label}: candidates' mean")
            pts = [(r["episodes"], r["eval_mean"]) for r in rows if r["eval_mean"] is not None]
            ax.plot(*zip(*pts), "o-", color=color, label=f"{label}: C's mean, {cfg.evolution.eval_episodes} episodes")
        ax.set_xlabel("episodes played (fast renderer)")
        ax.set_ylabel("return")
        ax.set_title(f"CarRacing at the laptop profile ({cfg.evolution.population} x {cfg.evolution.rollouts})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(root / "curve.png", dpi=100)
        print(root / "curve.png")
        return

    if args.phase == "ship":  # the shipped V and M stay bit for bit; only C (mode zh, deployed) changes
        import torch
        from wmlib.book import export, model_card
        from wmlib.book import pretrained as pt
        from wmlib.training.controller import controller_params

        old = pt.shipped_card("carracing")
        m_ckpt = pt._load("carracing", "mdnrnn")
        params = controller_params(cfg, "zh")
        card = {k: old[k] for k in ("world", "profile", "data", "tau")}
        ev = cfg.evolution
        card.update(exported=time.strftime("%Y-%m-%d"),
                    controller=f"evolved in the real world (C reads z and h): {ev.generations} generations x "
                               f"{ev.population} x {ev.rollouts} on the fast renderer (experiments/carracing_modes.py)")
        export.write_shipped(pt.shipped_dir("carracing"), pt.load_shipped_vae("carracing"),
                             pt.load_shipped_mdnrnn("carracing"), params, m_ckpt["first_mu"].float().numpy(),
                             m_ckpt["first_logvar"].float().numpy(), card)
        model_card.write_model_card("carracing")
        print(pt.shipped_dir("carracing"), "(now score it: python -m wmlib evaluate-shipped carracing --episodes 100)")
        return

    if args.mode is None:
        ap.error("--mode z or zh is needed for train and evaluate")
    root.mkdir(parents=True, exist_ok=True)
    if args.models_from:
        models_from(cfg, args.models_from)
    shipped_models(cfg)
    t0 = time.perf_counter()
    if args.phase == "train":
        x0 = None
        if args.warm_from:
            if args.mode != "zh":
                ap.error("--warm-from starts a zh run from a z run's C: use --mode zh")
            x0 = widen_z_to_zh(cfg, controller_params(get_config("carracing", "laptop", artifacts=args.warm_from), "z"))
        res = train_controller(cfg, args.mode, workers=args.workers, progress=False, x0=x0)
        minutes = (time.perf_counter() - t0) / 60
        rows = curve(saved_run(cfg, args.mode))
        print(f"{args.mode}: {len(rows)} generations, {rows[-1]['episodes']} episodes, "
              f"{sum(r['seconds'] for r in rows) / 60:.1f} min of evolution (this call {minutes:.1f} min); "
              f"deployed from generation {res.best_eval_generation if hasattr(res, 'best_eval_generation') else '?'}")
        return
    score = evaluate_controller(cfg, args.mode, episodes=args.episodes, workers=args.workers)
    minutes = (time.perf_counter() - t0) / 60
    rows = curve(saved_run(cfg, args.mode))
    summary = dict(mode=args.mode, evolution=dataclasses.asdict(cfg.evolution), generations=len(rows),
                   episodes_played=rows[-1]["episodes"],
                   evolution_minutes=round(sum(r["seconds"] for r in rows) / 60, 1),
                   test=dict(episodes=args.episodes, mean=score["mean"], std=score["std"], renderer="gymnasium"),
                   evaluate_minutes=round(minutes, 1), curve=rows)
    (root / f"summary-{args.mode}.json").write_text(json.dumps(summary, indent=2))
    print(f"{args.mode}: {score['mean']:.1f} +- {score['std']:.1f} over {args.episodes} official-renderer episodes "
          f"(evaluate {minutes:.1f} min); evolution {summary['evolution_minutes']} min, "
          f"{summary['episodes_played']} episodes")


if __name__ == "__main__":
    main()
