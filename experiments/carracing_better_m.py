"""CarRacing: does a better-trained M make C on [z, h] drive better? (same shipped V, more data, more steps)

The laptop car M sees 56 random episodes for 20 epochs of 16 streams x 200 steps (~350 gradient
steps, 1 minute). The paper's lesson (V+M beats V only) needs an M whose h says something about
what comes next. This builds a run folder that ``experiments/carracing_modes.py`` drives: the
shipped laptop V, ``--episodes`` random episodes (fast renderer), and an M trained on them with the
given batching and epochs; then it scores that M and the shipped M on the same held-out episodes
(neither trained on them: the shipped M saw episodes 0-55 of the same seed).

    python experiments/carracing_better_m.py --name m200 --episodes 200 --epochs 40 \\
        --batching aligned --batch-size 8 --seq-len 100 --workers 1
    python experiments/carracing_modes.py --name m200 --mode zh --phase train --workers 1
    python experiments/carracing_modes.py --name m200 --mode zh --phase evaluate --workers 1

Writes ``artifacts-experiments/car/<name>/m-quality.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from carracing_modes import shipped_vae  # the sibling experiment: the same V for every car run


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="run folder: artifacts-experiments/car/<name>")
    ap.add_argument("--episodes", type=int, default=200, help="random episodes for M")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batching", default="aligned", help="mdnrnn.batching: stream, aligned or windows")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--val-episodes", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from wmlib import paths
    from wmlib.artifacts import read_json
    from wmlib.book.pretrained import load_shipped_mdnrnn
    from wmlib.config import get_config
    from wmlib.training.mdnrnn import evaluate_mdnrnn, train_mdnrnn
    from wmlib.training.vae import encode_dataset
    from wmlib.worlds.data import collect

    root = Path("artifacts-experiments/car") / args.name
    cfg = get_config("carracing", "laptop", artifacts=root).with_overrides(
        collect=dict(episodes=args.episodes, workers=args.workers),
        mdnrnn=dict(epochs=args.epochs, batching=args.batching, batch_size=args.batch_size,
                    seq_len=args.seq_len, val_episodes=args.val_episodes))
    minutes = {}
    t0 = time.perf_counter()
    collect(cfg, progress=False)
    minutes["collect"] = (time.perf_counter() - t0) / 60
    shipped_vae(cfg)
    t0 = time.perf_counter()
    encode_dataset(cfg, progress=False)
    minutes["encode"] = (time.perf_counter() - t0) / 60
    t0 = time.perf_counter()
    train_mdnrnn(cfg, progress=True)
    minutes["train_m"] = (time.perf_counter() - t0) / 60
    ours = evaluate_mdnrnn(cfg)

    theirs = evaluate_mdnrnn(cfg, write=False, model=load_shipped_mdnrnn("carracing"))  # the same held-out episodes
    shipped = dict(nll=theirs["nll"], baseline_nll=theirs["baseline_nll"])
    val_eps = ours["val_episodes"]
    steps = read_json(paths.mdnrnn_dir(cfg) / paths.LOG)["epoch_step"][-1]
    res = dict(episodes=args.episodes, val_episodes=val_eps, mdnrnn=vars(args), steps=steps,
               minutes={k: round(v, 1) for k, v in minutes.items()},
               this_m=dict(nll=ours["nll"], baseline_nll=ours["baseline_nll"]), shipped_m=shipped)
    (root / "m-quality.json").write_text(json.dumps(res, indent=2))
    print(f"held-out NLL per dim on episodes {val_eps[0]}-{val_eps[-1]}: this M {ours['nll']:.4f}, "
          f"the shipped M {shipped['nll']:.4f}, no change {ours['baseline_nll']:.4f}; {steps} gradient steps; "
          + ", ".join(f"{k} {v:.1f} min" for k, v in minutes.items()))


if __name__ == "__main__":
    main()
