#!/usr/bin/env bash
# Round 0's C again on a finished arm's M: another temperature or CMA-ES seed, M and data untouched.
#
#   bash experiments/doom_m_epochs.sh w40cos 40 windows 8 cosine      # the arm: its own M, round 0 scored
#   bash experiments/doom_arm_again.sh w40cos 1.3                      # tau 1.3 -> levers/fresh-w40cos-t1.3
#   bash experiments/doom_arm_again.sh w40cos 1.15 1                   # CMA-ES seed 1 -> fresh-w40cos-t1.15-s1
#   bash experiments/doom_arm_again.sh w40cos 1.3 0 1                  # then one iterative round on that arm
#
# Copies artifacts-experiments/levers/fresh-<arm> (its games, V, codes and M's mdnrnn.pt), drops every
# dream, the rounds and reproduce.json, and runs experiments/doom_levers.py with the arm's own arguments
# (read from its summary.json) but the tau and seed given: C evolved in that M's dream, scored on the
# 100 real test games (mean +- std), then ROUNDS iterative rounds (default 0) at that tau. An arm that
# exists is resumed, not copied again (remove it to start over).
set -euo pipefail
ARM=${1:?arm name}; TAU=${2:?tau}; SEED=${3:-0}; ROUNDS=${4:-0}
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
SRC=artifacts-experiments/levers/fresh-$ARM
NAME=fresh-$ARM-t$TAU$([ "$SEED" = 0 ] || echo "-s$SEED")
[ -f "$SRC/doom/laptop/mdnrnn/mdnrnn.pt" ] || { echo "no trained M in $SRC: run experiments/doom_m_epochs.sh first" >&2; exit 2; }
OUT=artifacts-experiments/levers/$NAME
if [ ! -d "$OUT/doom" ]; then
    mkdir -p "$OUT" && cp -r "$SRC/doom" "$OUT/"
    rm -rf "$OUT"/doom/laptop/dream-tau* "$OUT/doom/laptop/iterate" "$OUT/doom/laptop/reproduce.json"
fi
ARGS=$(python - "$SRC/summary.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["args"]
flags = ["--hold-max", a["hold_max"], "--episodes", a["episodes"], "--done-rule", a["done_rule"],
         "--real-z", a["real_z"], "--mdnrnn-epochs", a["mdnrnn_epochs"], "--generations", a["generations"]]
for key in ("m_batching", "m_batch_size", "m_seq_len", "m_lr_schedule"):
    if a.get(key) is not None:
        flags += ["--" + key.replace("_", "-"), a[key]]
print(" ".join(map(str, flags + (["--discrete"] if a["discrete"] else []))))
PY
)
python experiments/doom_levers.py --name "$NAME" $ARGS --rounds "$ROUNDS" --tau "$TAU" --seed "$SEED"
