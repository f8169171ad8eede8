"""More candidates for the real validation games: every generation's best, screened in two stages.

Twenty validation games choose well among a run's three Cs (deployed mean, final mean, best
candidate: Spearman 0.98 against the test), but a run whose three Cs all hold one direction
has nothing good to choose. A CMA-ES run has seen ~20 x 32 candidates, and each generation's
best is kept (``EvolutionResult.generation_bests``). This asks whether offering those too,
screened the library's way (``iterate.validate``: all play ``--screen`` games, the best
``FINALISTS`` play ``--games``), finds a C that transfers in the runs where the three did not.

Reads round-k run folders that kept their generations' bests, e.g. made by
``doom_round_taus.py ... --tag=-archive --evolve-only`` (same seeds as the runs scored before,
so the same runs, generation by generation), and the root they dreamed from:

    python experiments/doom_screen.py --match archive --screen 5 --games 20

Per run: the candidates offered, the finalists' validation means, the chosen C, its score over
the 100 test games. Writes artifacts-experiments/screen/table.json (a C already tested is not
replayed).
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
    ap.add_argument("--match", default="archive", help="only the run folders whose name contains this")
    ap.add_argument("--round", type=int, default=1, help="whose M drives the Cs (their h and c)")
    ap.add_argument("--screen", type=int, default=5, help="validation games every candidate plays")
    ap.add_argument("--games", type=int, default=20, help="validation games the finalists play")
    ap.add_argument("--test-finalists", action="store_true", help="play the test games with every finalist")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    runs = Path(args.runs).resolve()
    os.environ["WM_ARTIFACTS"] = str(Path(args.source).resolve())

    from wmlib.agent.evolution import load_result
    from wmlib.agent.rollout import RolloutPool
    from wmlib.config import get_config
    from wmlib.training.c_run import params_sha256
    from wmlib.training.controller import TEST_SEED
    from wmlib.training.dream import real_spec
    from wmlib.training.iterate import finalists, load_round_mdnrnn, run_candidates, validate

    cfg = get_config("doom", "laptop").with_overrides(evolution=dict(workers=args.workers))
    out = Path("artifacts-experiments/screen")
    out.mkdir(parents=True, exist_ok=True)
    table_path = out / "table.json"
    table = json.loads(table_path.read_text()) if table_path.exists() else {"tests": {}, "runs": {}}
    folders = sorted(p for p in runs.iterdir() if args.match in p.name and (p / "evolution.pt").exists())
    m = load_round_mdnrnn(cfg, args.round)

    with RolloutPool(real_spec(cfg, m), "processes", cfg.evolution.workers) as pool:
        def test(p) -> dict:
            key = params_sha256(p)
            if key not in table["tests"]:
                t = pool.run(p[None], cfg.dream.real_episodes, TEST_SEED)["returns"][0]
                table["tests"][key] = dict(mean=float(t.mean()), std=float(t.std()), episodes=int(t.size))
                table_path.write_text(json.dumps(table, indent=1))
            return table["tests"][key]

        for folder in folders:
            cands = run_candidates(load_result(folder), generations=True)  # as a screened round offers them
            run_key = f"{folder.name} screen {args.screen} games {args.games}"
            row = table["runs"].get(run_key)
            if row is None or row.get("candidates") != len(cands):
                row = dict(candidates=len(cands), **validate(pool, cands, args.games, args.screen))
                row["chosen_sha256"] = params_sha256(cands[row["chosen"]])
                table["runs"][run_key] = row
                table_path.write_text(json.dumps(table, indent=1))
            finals = finalists(row["validation"], args.games)
            for w in (finals if args.test_finalists else [row["chosen"]]):
                t = test(cands[w])
                finals[w] = dict(finals[w], test=t)
            t = finals[row["chosen"]]["test"]
            print(f"{folder.name}: {len(cands)} candidates; finalists "
                  + ", ".join(f"{w} {s['mean']:.1f}" + (f" (test {s['test']['mean']:.1f})" if "test" in s else "")
                              for w, s in finals.items())
                  + f" -> {row['chosen']}: test {t['mean']:.1f} +- {t['std']:.1f} over {t['episodes']}", flush=True)


if __name__ == "__main__":
    main()
