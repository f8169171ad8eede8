"""The Doom dream-transfer levers, one run per setting: which of them make a dream-trained C survive?

Each run is the laptop Doom pipeline (collect -> encode -> M -> C in the dream ->
score) with the levers given, in its own artifacts folder, followed by
``--rounds`` rounds of iterative training (``wmlib.iterate``). V is V of
``--vae`` (default: the shipped laptop V), so only the data, M and C change and
the runs are comparable; pass ``--train-vae`` to train V on the run's own data. A run folder that
already holds a V (e.g. copied from a fresh ``reproduce``) keeps it; ``--seed`` re-runs C's CMA-ES
with another seed on the same V and M (how much of a score is one run's luck).

    python experiments/doom_levers.py --name recipe --hold-max 40 --discrete --done-rule sample \
        --real-z sample --rounds 4
    python experiments/doom_levers.py --name no-discrete --hold-max 40 --done-rule sample --real-z sample

Prints the wall time of every stage and the rounds table (real score over
``dream.real_episodes`` games, mean +- std), and writes ``summary.json`` in the run folder.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="run folder: artifacts-experiments/levers/<name>")
    ap.add_argument("--hold-max", type=int, default=10, help="random play holds 1..N steps (paper 10)")
    ap.add_argument("--episodes", type=int, default=200, help="random-play episodes")
    ap.add_argument("--discrete", action="store_true", help="M reads the action as the game plays it")
    ap.add_argument("--done-rule", default="threshold", choices=["threshold", "sample"])
    ap.add_argument("--real-z", default="mean", choices=["mean", "sample"])
    ap.add_argument("--mdnrnn-epochs", type=int, default=30)
    ap.add_argument("--m-batching", default=None, choices=["stream", "aligned", "windows"],
                    help="how M's batches are cut (default: the laptop profile's)")
    ap.add_argument("--m-batch-size", type=int, default=None, help="M's streams / windows per batch")
    ap.add_argument("--m-seq-len", type=int, default=None, help="M's chunk length")
    ap.add_argument("--m-lr-schedule", default=None, choices=["constant", "cosine"], help="M's learning rate")
    ap.add_argument("--generations", type=int, default=20, help="round 0's dream generations")
    ap.add_argument("--rounds", type=int, default=0, help="iterative-training rounds after round 0")
    ap.add_argument("--round-episodes", type=int, default=100)
    ap.add_argument("--round-epochs", type=int, default=10)
    ap.add_argument("--round-generations", type=int, default=20)
    ap.add_argument("--tau", type=float, default=1.15)
    ap.add_argument("--seed", type=int, default=0, help="CMA-ES seed of the dream training (one run's luck)")
    ap.add_argument("--keep-incumbent", action="store_true", help="rounds: the last round's C is a candidate too")
    ap.add_argument("--train-vae", action="store_true", help="train V on this run's data (default: shipped V)")
    args = ap.parse_args()

    root = Path("artifacts-experiments/levers") / args.name
    os.environ["WM_ARTIFACTS"] = str(root.resolve())  # this process only: the run's own folder

    from wmlib.config import get_config
    from wmlib.worlds.data import collect
    from wmlib.training.iterate import format_rounds, iterate
    from wmlib.training.dream import train_in_dream
    from wmlib.training.mdnrnn import train_mdnrnn
    from wmlib.training.vae import encode_dataset, train_vae

    cfg = get_config("doom", "laptop").with_overrides(
        collect=dict(episodes=args.episodes, hold_max=args.hold_max),
        mdnrnn=dict(discrete_actions=args.discrete, epochs=args.mdnrnn_epochs,
                    **{k: v for k, v in (("batching", args.m_batching), ("batch_size", args.m_batch_size),
                                         ("seq_len", args.m_seq_len), ("lr_schedule", args.m_lr_schedule))
                       if v is not None}),
        dream=dict(done_rule=args.done_rule, real_z=args.real_z, tau=args.tau, generations=args.generations),
        evolution=dict(seed=args.seed),
        iterate=dict(rounds=args.rounds, episodes=args.round_episodes, mdnrnn_epochs=args.round_epochs,
                     generations=args.round_generations, keep_incumbent=args.keep_incumbent))
    times = {}

    def stage(name, fn):
        t0 = time.perf_counter()
        fn()
        times[name] = round((time.perf_counter() - t0) / 60, 2)
        print(f"== {name}: {times[name]} min", flush=True)

    stage("collect", lambda: collect(cfg, progress=False))
    stage("V", lambda: train_vae(cfg, progress=False) if args.train_vae else _shipped_vae(cfg))
    stage("encode", lambda: encode_dataset(cfg, progress=False))
    stage("train M", lambda: train_mdnrnn(cfg, progress=False))
    stage("C in the dream", lambda: train_in_dream(cfg, progress=False))
    rows = []
    stage("rounds (incl. round 0's score)", lambda: rows.extend(iterate(cfg, progress=True)))
    print(format_rounds(rows))
    summary = dict(args=vars(args), minutes=times, rounds=rows, config=dataclasses.asdict(cfg))
    (root / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(times))


def _shipped_vae(cfg):
    """The shipped laptop V as this run's V (a plain V checkpoint)."""
    from wmlib.artifacts import save_checkpoint
    from wmlib.worlds.data import load_dataset
    from wmlib.book.pretrained import load_shipped_vae
    from wmlib.paths import vae_file

    path = vae_file(cfg)
    if path.exists():
        return
    v, ds = load_shipped_vae("doom"), load_dataset(cfg)
    save_checkpoint(path, dict(model={k: t.detach().float() for k, t in v.state_dict().items()}, z_size=v.z_size,
                               world=cfg.world, profile=cfg.profile, config=dataclasses.asdict(cfg.vae),
                               steps=0, frames=0, val=None, n_frames=ds.n_frames, n_episodes=ds.n_episodes,
                               complete=True, source="the shipped laptop V"))


if __name__ == "__main__":
    main()
