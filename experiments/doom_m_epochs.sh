#!/usr/bin/env bash
# More of M's compute on a fresh clone's own data and V: does round 0's dream C transfer better?
#
#   bash experiments/reproduce_timed.sh doom                 # the fresh root: /tmp/wm-fresh-doom/artifacts
#   bash experiments/doom_m_epochs.sh a80 80 aligned 8        # name, M epochs, batching, streams / windows
#   bash experiments/doom_m_epochs.sh w40 40 windows 8
#   bash experiments/doom_m_epochs.sh w40cos 40 windows 8 cosine   # M's learning rate decays to 1e-5
#   bash experiments/doom_m_epochs.sh w40cos-s1 40 windows 8 cosine 1   # ... round 0's CMA-ES seed 1
#                                                                          (M trained again: the same M, bit for bit)
#
# Each arm copies the fresh root to artifacts-experiments/levers/fresh-<name>, keeps its collected games,
# V and codes, drops M's final checkpoint and everything after it, and runs experiments/doom_levers.py
# with the laptop's levers and round 0 only (C evolved 10 generations in the new M's dream, then the 100
# real test games). When the arm's batching and rows match the root's M (read from its last.pt), M resumes
# from that checkpoint, so only the extra epochs are trained; another M config trains M afresh. Prints the stage times and the
# real score (mean +- std over 100 games).
set -euo pipefail
NAME=${1:?arm name}; EPOCHS=${2:?M epochs}; BATCHING=${3:-aligned}; STREAMS=${4:-8}; SCHEDULE=${5:-constant}; SEED=${6:-0}
SRC=${WM_FRESH_ROOT:-/tmp/wm-fresh-doom/artifacts}
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
ARM=artifacts-experiments/levers/fresh-$NAME
rm -rf "$ARM" && mkdir -p "$ARM" && cp -r "$SRC/doom" "$ARM/"
W=$ARM/doom/laptop
rm -rf "$W/mdnrnn/mdnrnn.pt" "$W/dream-tau1.15" "$W/iterate" "$W/reproduce.json"
SAME=$(python -c 'import sys; from wmlib.artifacts import load_checkpoint
c = load_checkpoint(sys.argv[1])["config"]
print(int(c["batching"] == sys.argv[2] and c["batch_size"] == int(sys.argv[3]) and c["seq_len"] == 100
          and c.get("lr_schedule", "constant") == sys.argv[4] == "constant"))' \
    "$W/mdnrnn/last.pt" "$BATCHING" "$STREAMS" "$SCHEDULE")
[ "$SAME" = 1 ] || rm -rf "$W/mdnrnn"   # another M config trains afresh (train_mdnrnn refuses a mismatched last.pt)
python experiments/doom_levers.py --name "fresh-$NAME" --hold-max 40 --discrete --done-rule sample \
    --real-z sample --generations 10 --rounds 0 --m-batching "$BATCHING" --m-batch-size "$STREAMS" \
    --m-seq-len 100 --mdnrnn-epochs "$EPOCHS" --m-lr-schedule "$SCHEDULE" --seed "$SEED"
