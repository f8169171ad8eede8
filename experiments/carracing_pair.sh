#!/usr/bin/env bash
# One V-only / V+M pair of the laptop car recipe (40 x 16 x 1 on the fast renderer, then 100
# official-renderer tracks each) on the V and M of one pipeline root: the two modes side by side,
# each evolving and then scoring its C. Made for a machine with many cores (a GPU machine's 16:
# WORKERS=8 per mode); on this 2-core box WORKERS=1 gives the laptop's side-by-side run.
#
#   bash experiments/carracing_pair.sh NAME MODELS_ROOT SEED [WORKERS] [PHASES]
#   bash experiments/carracing_pair.sh fresh-s1 /tmp/wm-nb 1 8               # train, then evaluate
#   bash experiments/carracing_pair.sh fresh-s1 /tmp/wm-nb 1 8 evaluate      # only score (resumed runs)
#
# Results: artifacts-experiments/car/NAME/ (summary-z.json, summary-zh.json); compare the two with
#   python experiments/paired.py artifacts-experiments/car/NAME/carracing/laptop/controller-{z,zh}/test-deployed-100.json
set -euo pipefail
name=$1 models=$2 seed=$3 workers=${4:-1} phases=${5:-"train evaluate"}
log=artifacts-experiments/car/$name
mkdir -p "$log"
chain() {
  local mode=$1
  for phase in $phases; do
    echo "$(date +%T) $mode $phase start"
    python experiments/carracing_modes.py --name "$name" --models-from "$models" --seed "$seed" \
      --mode "$mode" --phase "$phase" --workers "$workers" >"$log/$phase-$mode.log" 2>&1
    echo "$(date +%T) $mode $phase done: $(tail -n 1 "$log/$phase-$mode.log")"
  done
}
chain z & chain zh & wait
