"""The car's V-only C on the shipped V, for the book: evolved at the laptop profile, scored on 100 tracks.

    python experiments/car_v_only_shipped.py --artifacts artifacts-experiments/car-z --workers 2
    python experiments/car_v_only_shipped.py --artifacts ... --phase ship   # -> wmlib/pretrained/carracing/

Notebook 03 sets this C beside the shipped V+M C (both read the same shipped V). The run puts the
shipped V where the pipeline keeps its own (``<artifacts>/carracing/laptop/vae/vae.pt``), evolves C
reading z alone (``train-controller --mode z``, the profile's budget), scores it on gymnasium's
renderer over 100 test tracks (``evaluate --mode z --episodes 100``), and ``--phase ship`` writes
the C and the run's JSON files into the shipped folder. Many cores: ``--workers``.
"""
from __future__ import annotations

import argparse
import time

from wmlib import paths
from wmlib.artifacts import save_checkpoint, write_json
from wmlib.book import pretrained, recorded
from wmlib.config import get_config
from wmlib.training.controller import controller_params, evaluate_controller, train_controller


def install_shipped_v(cfg) -> None:
    if paths.vae_file(cfg).exists():
        return
    vae = pretrained.load_shipped_vae("carracing")
    save_checkpoint(paths.ready(paths.vae_dir(cfg)) / "vae.pt", dict(z_size=vae.z_size, model=vae.state_dict()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--profile", default="laptop")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=100)
    ap.add_argument("--phase", choices=("run", "ship"), default="run")
    a = ap.parse_args()
    cfg = get_config("carracing", a.profile, a.artifacts)
    if a.phase == "ship":
        p = controller_params(cfg, "z")
        recorded.ship_controller("carracing", "z", p, "z", cfg.vae.z_size, cfg.mdnrnn.hidden,
                                 "V only: evolved in the real world reading z alone, on the shipped V "
                                 "(experiments/car_v_only_shipped.py)")
        print("shipped:", recorded.ship_run(cfg))
        return
    install_shipped_v(cfg)
    t0 = time.time()
    res = train_controller(cfg, "z", workers=a.workers)
    t1 = time.time()
    score = evaluate_controller(cfg, "z", episodes=a.episodes, workers=a.workers)
    t2 = time.time()
    write_json(paths.controller_dir(cfg, "z") / "timing.json",
               dict(evolution_seconds=round(t1 - t0, 1), scoring_seconds=round(t2 - t1, 1), workers=a.workers,
                    generations=int(res.generations)))
    print(f"V only on the shipped V: {score['mean']:.1f} +- {score['std']:.1f} over {a.episodes} tracks "
          f"(evolution {(t1 - t0) / 60:.1f} min, scoring {(t2 - t1) / 60:.1f} min, {a.workers} workers)")


if __name__ == "__main__":
    main()
