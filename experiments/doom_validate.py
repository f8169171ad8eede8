"""Can a few real games pick the C that transfers? Validation games against the 100 test games.

Five CMA-ES seeds of the same round, in the same dream, give Cs that score 172-593 real
steps while the dream scores four of them alike (~1,600). This asks whether ``--games``
real games on seeds of their own (never the test's, never the rounds' data) rank the
candidates as the test does: every run folder under ``--runs`` (the round-1 Cs that
``doom_round_taus.py`` left) gives its deployed C, its final mean and its best candidate;
each plays the same validation games and the same 100 test games.

    python experiments/doom_validate.py --games 20

Prints one row per C (validation mean, test mean +- std) and, over the runs, what picking
by validation would have given: the test score of the validation's pick, against the
mean over all Cs and the best one. Writes artifacts-experiments/validate/table.json
(resumable: a C already scored is not replayed).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="/tmp/wm-fresh-doom2/artifacts", help="a finished `reproduce doom` root")
    ap.add_argument("--runs", default="artifacts-experiments/round-taus/round-1", help="folders of round-k Cs")
    ap.add_argument("--round", type=int, default=1, help="whose M drives the Cs (their h and c)")
    ap.add_argument("--games", type=int, default=20, help="validation games per C")
    ap.add_argument("--match", default="", help="only the run folders whose name contains this")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    runs = Path(args.runs).resolve()
    os.environ["WM_ARTIFACTS"] = str(Path(args.source).resolve())

    import numpy as np
    from wmlib.agent.evolution import load_result
    from wmlib.agent.rollout import RolloutPool
    from wmlib.config import get_config
    from wmlib.training.c_run import result_params
    from wmlib.training.controller import TEST_SEED
    from wmlib.training.dream import real_spec
    from wmlib import paths
    from wmlib.training.iterate import VALIDATION_SEED, load_round_mdnrnn

    cfg = get_config("doom", "laptop").with_overrides(evolution=dict(workers=args.workers))
    out = Path("artifacts-experiments/validate")
    out.mkdir(parents=True, exist_ok=True)
    table_path = out / "table.json"
    table = json.loads(table_path.read_text()) if table_path.exists() else {}
    cands = {}
    # the root's own round-k run (the default's C) first, then the experiments' runs
    folders = [paths.round_dir(cfg, args.round)] + sorted(p for p in runs.iterdir()
                                                   if (p / "score.json").exists() and args.match in p.name)
    for folder in folders:
        res = load_result(folder)
        name = folder.name if folder.parent == runs else f"root round-{args.round}"
        for which, p in result_params(res).items():
            cands[f"{name} {which}"] = p
    m = load_round_mdnrnn(cfg, args.round)
    with RolloutPool(real_spec(cfg, m), "processes", cfg.evolution.workers) as pool:
        for key, p in cands.items():
            row = table.get(key, {})
            if row.get("games") != args.games:
                v = pool.run(p[None], args.games, VALIDATION_SEED)["returns"][0]
                row.update(games=args.games, validation=float(v.mean()))
            if "test_mean" not in row:
                t = pool.run(p[None], cfg.dream.real_episodes, TEST_SEED)["returns"][0]
                row.update(test_mean=float(t.mean()), test_std=float(t.std()), test_episodes=int(t.size))
            table[key] = row
            table_path.write_text(json.dumps(table, indent=1))
            print(f"{key:32s} validation {row['validation']:7.1f}   test {row['test_mean']:7.1f} "
                  f"+- {row['test_std']:6.1f}", flush=True)
    keys = list(cands)
    val = np.array([table[k]["validation"] for k in keys])
    test = np.array([table[k]["test_mean"] for k in keys])
    pick = int(np.argmax(val))
    print(f"\n{len(keys)} Cs: test mean over all {test.mean():.1f}, best {test.max():.1f}; "
          f"validation's pick ({keys[pick]}) scores {test[pick]:.1f} on the test; "
          f"rank correlation {np.corrcoef(np.argsort(np.argsort(val)), np.argsort(np.argsort(test)))[0, 1]:.2f}")
    # within one run (deployed / mean / best), what the validation's pick gives against the deployed C
    gains = []
    for name in sorted({k.rsplit(' ', 1)[0] for k in keys}):
        ks = [k for k in keys if k.rsplit(' ', 1)[0] == name]
        best = max(ks, key=lambda k: table[k]["validation"])
        gains.append(table[best]["test_mean"] - table[f"{name} deployed"]["test_mean"])
        print(f"  {name:26s} pick {best.rsplit(' ', 1)[1]:8s} test {table[best]['test_mean']:7.1f} "
              f"(deployed {table[f'{name} deployed']['test_mean']:7.1f})")
    print(f"picking within each run changes the test by {np.mean(gains):+.1f} on average over {len(gains)} runs")


if __name__ == "__main__":
    main()
