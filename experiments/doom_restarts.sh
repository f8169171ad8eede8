#!/usr/bin/env bash
# More CMA-ES runs in an iterative round: do the real validation games find a better C among them?
#
#   bash experiments/reproduce_timed.sh doom          # the fresh root: /tmp/wm-fresh-doom/artifacts
#   bash experiments/doom_restarts.sh 3               # round 1 with 3 CMA-ES runs (iterate.restarts=3)
#   bash experiments/doom_restarts.sh 3 2             # ... and a second round with 3 runs
#   bash experiments/doom_restarts.sh 2 1 10          # 2 runs of 10 generations (the compute of one run of 20)
#
# Copies the fresh root to artifacts-experiments/restarts/r<N>, keeps everything it has (its round 1's
# games, M and first CMA-ES run are reused as they are: the copy's run 0 *is* the default's round),
# then `python -m wmlib iterate doom --restarts N --rounds R`: the extra runs evolve in the same dream
# from the same start with their own seeds, all their candidates play the screen's validation games,
# the finalists play 20, the best is scored on the 100 real test games. Prints the rounds table and
# what the validation games chose; the minutes each step took are in the copy's iterate/rounds.json.
# With GENERATIONS (per run) the copy's round-1 C is evolved afresh (its games and M are kept): run 0
# then repeats the default's first GENERATIONS generations, as its seed is the same.
set -euo pipefail
RESTARTS=${1:?CMA-ES runs per round}; ROUNDS=${2:-1}; GENERATIONS=${3:-}
SRC=${WM_FRESH_ROOT:-/tmp/wm-fresh-doom/artifacts}
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
ARM=artifacts-experiments/restarts/r$RESTARTS${GENERATIONS:+-g$GENERATIONS}
python experiments/doom_arm.py copy "$SRC" "$ARM" ${GENERATIONS:+--redo-c}   # resumes when it is there
start=$(date +%s)
WM_ARTIFACTS="$ARM" python -m wmlib iterate doom --profile laptop --restarts "$RESTARTS" --rounds "$ROUNDS" \
    ${GENERATIONS:+--generations "$GENERATIONS"}
python experiments/doom_arm.py choice "$ARM" --rounds "$ROUNDS"
echo "wall time: $(( ($(date +%s) - start) / 60 )) min"
