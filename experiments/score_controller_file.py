"""Score a controller file (as shipped or exported) on an artifacts root's V and M, over the test tracks or games.

    python experiments/score_controller_file.py artifacts wmlib/pretrained/carracing/controllers/z.pt \
        --out artifacts/carracing/laptop/start-z-100.json

The same episodes (``TEST_SEED``) and renderer (gymnasium's) as ``python -m wmlib evaluate``, so the file pairs
with a run's ``test-deployed-100.json`` in ``experiments/paired.py``: how a C evolved from this one compares
with where it started, track by track.
"""
from __future__ import annotations

import argparse
import time

from wmlib.agent.pool import RolloutPool
from wmlib.artifacts import file_sha256, write_json
from wmlib.config import get_config
from wmlib.training.c_run import params_sha256
from wmlib.training.controller import TEST_SEED, build_spec, read_controller_file


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("artifacts", help="the root whose V (and M, for a C reading h) play")
    ap.add_argument("controller", help="a controller file: params, mode, z_size, hidden")
    ap.add_argument("--out", required=True, help="where the score goes (JSON)")
    ap.add_argument("--world", default="carracing")
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cfg = get_config(args.world, args.profile, args.artifacts)
    try:
        mode, params = read_controller_file(cfg, args.controller)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(str(err)) from None
    t0 = time.time()
    with RolloutPool(build_spec(cfg, mode), "processes", args.workers) as pool:
        run = pool.run(params[None], args.episodes, TEST_SEED)
    r = run["returns"][0]
    write_json(args.out, dict(world=cfg.world, profile=cfg.profile, mode=mode, controller=args.controller,
                              controller_sha256=file_sha256(args.controller), params_sha256=params_sha256(params),
                              renderer="gymnasium", episodes=args.episodes, seed=TEST_SEED, returns=r.tolist(),
                              lengths=run["lengths"][0].tolist(), mean=float(r.mean()), std=float(r.std()),
                              seconds=round(time.time() - t0, 1)))
    print(f"{args.controller} on {args.artifacts}: {r.mean():.1f} +- {r.std():.1f} over {args.episodes} "
          f"({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
