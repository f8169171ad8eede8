#!/usr/bin/env bash
# More of M's compute on a fresh clone's own data and V: does round 0's dream C transfer better?
#
#   bash experiments/reproduce_timed.sh doom                 # the fresh root: /tmp/wm-fresh-doom/artifacts
#   bash experiments/doom_m_epochs.sh a80 80 aligned 8        # name, M epochs, batching, streams / windows
#   bash experiments/doom_m_epochs.sh w40 40 windows 8
#
# Each arm copies the fresh root to artifacts-experiments/levers/fresh-<name>, keeps its collected games,
# V and codes, drops M's final checkpoint and everything after it, and runs experiments/doom_levers.py
# with the laptop's levers and round 0 only (C evolved 10 generations in the new M's dream, then the 100
# real test games). With the fresh run's own batching, M resumes from its epoch-40 checkpoint (last.pt),
# so only the extra epochs are trained; another batching trains M afresh. Prints the stage times and the
# real score (mean +- std over 100 games).
set -euo pipefail
NAME=${1:?arm name}; EPOCHS=${2:?M epochs}; BATCHING=${3:-aligned}; STREAMS=${4:-8}
SRC=${WM_FRESH_ROOT:-/tmp/wm-fresh-doom/artifacts}
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
ARM=artifacts-experiments/levers/fresh-$NAME
rm -rf "$ARM" && mkdir -p "$ARM" && cp -r "$SRC/doom" "$ARM/"
W=$ARM/doom/laptop
rm -rf "$W/mdnrnn/mdnrnn.pt" "$W/dream-tau1.15" "$W/iterate" "$W/reproduce.json"
[ "$BATCHING" = aligned ] && [ "$STREAMS" = 8 ] || rm -rf "$W/mdnrnn"   # another M config trains afresh
python experiments/doom_levers.py --name "fresh-$NAME" --hold-max 40 --discrete --done-rule sample \
    --real-z sample --generations 10 --rounds 0 --m-batching "$BATCHING" --m-batch-size "$STREAMS" \
    --m-seq-len 100 --mdnrnn-epochs "$EPOCHS"
