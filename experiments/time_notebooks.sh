#!/usr/bin/env bash
# Run notebooks top to bottom at a profile (default laptop) over one artifacts root, and time each.
# TRAIN follows WM_TRAIN (unset: off, the shipped-first reading; WM_TRAIN=1: every stage trains).
#
#   bash experiments/time_notebooks.sh <artifacts root> [notebook ...]     # e.g. 04_dream 06_iterative
#
# The times also go to <root>/executed/times.json; with WM_RECORD=1 (TRAIN off, at laptop, from an empty
# root) the chapters timed replace theirs in the shipped record, wmlib/pretrained/book/chapter_times.json, which
# the README's chapter table shows (`python -m wmlib results --write-readme`).
#
# Each notebook is executed as a reader's "Run All" (nbconvert, every cell, no nbval) with
# WM_ARTIFACTS=<root>: its get-or-build stages load what the root holds and build the rest, so
# the time says which. The executed copies go to <root>/executed/ (the repo's notebooks stay
# without outputs); a failing cell stops that notebook and the script says so.
set -uo pipefail
root=$(realpath "${1:?usage: time_notebooks.sh <artifacts root> [notebook ...]}")
shift
cd "$(dirname "$0")/.."
profile=${WM_PROFILE:-laptop}
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(cd notebooks && ls [0-9][0-9]_*.ipynb | sed "s/.ipynb$//"))
mkdir -p "$root/executed"
times="$root/executed/times.json"
python3 -c "import json,sys; json.dump(dict(profile=sys.argv[1], train=sys.argv[2]=='1', cores=int(sys.argv[3]), chapters={}), open(sys.argv[4],'w'))" \
  "$profile" "${WM_TRAIN:-0}" "$(nproc)" "$times"
echo "profile $profile | root $root | $(nproc) cores | load $(cut -d' ' -f1 /proc/loadavg) | $(git rev-parse --short HEAD)"
for nb in "${names[@]}"; do
  start=$(date +%s)
  if WM_PROFILE=$profile WM_ARTIFACTS=$root jupyter nbconvert --to notebook --execute \
       --ExecutePreprocessor.timeout=-1 --output-dir "$root/executed" "notebooks/$nb.ipynb" >"$root/executed/$nb.log" 2>&1; then
    status=ran
  else
    status="FAILED (see $root/executed/$nb.log)"
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); d['chapters'][sys.argv[2]]=dict(seconds=int(sys.argv[3]), ran=sys.argv[4]=='ran', load=float(sys.argv[5])); json.dump(d, open(p,'w'), indent=1)" \
    "$times" "$nb" "$(( $(date +%s) - start ))" "$status" "$load"
  echo "$nb: $status in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s (load $(cut -d' ' -f1 /proc/loadavg))"
done
if [ "${WM_RECORD:-0}" = 1 ]; then  # the chapters timed here replace theirs in the record; the others stay
  mkdir -p wmlib/pretrained/book
  python3 -c "
import json, os, sys
new, rec = json.load(open(sys.argv[1])), sys.argv[2]
old = json.load(open(rec)) if os.path.exists(rec) else dict(new, chapters={})
if (old['profile'], old['train']) != (new['profile'], new['train']):
    sys.exit(f'{rec} holds profile {old[\"profile\"]}, TRAIN {old[\"train\"]}: record those, or remove it first')
old['chapters'].update(new['chapters'])
old['chapters'] = dict(sorted(old['chapters'].items()))
json.dump(old, open(rec, 'w'), indent=1)
" "$times" wmlib/pretrained/book/chapter_times.json && echo "recorded: wmlib/pretrained/book/chapter_times.json"
fi
