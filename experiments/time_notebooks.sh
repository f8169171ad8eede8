#!/usr/bin/env bash
# Run notebooks top to bottom at a profile (default laptop) over one artifacts root, and time each.
# TRAIN follows WM_TRAIN (unset: off, the shipped-first reading; WM_TRAIN=1: every stage trains).
#
#   bash experiments/time_notebooks.sh <artifacts root> [notebook ...]     # e.g. 04_dream 06_iterative
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
echo "profile $profile | root $root | $(nproc) cores | load $(cut -d' ' -f1 /proc/loadavg) | $(git rev-parse --short HEAD)"
for nb in "${names[@]}"; do
  start=$(date +%s)
  if WM_PROFILE=$profile WM_ARTIFACTS=$root jupyter nbconvert --to notebook --execute \
       --ExecutePreprocessor.timeout=-1 --output-dir "$root/executed" "notebooks/$nb.ipynb" >"$root/executed/$nb.log" 2>&1; then
    status=ran
  else
    status="FAILED (see $root/executed/$nb.log)"
  fi
  echo "$nb: $status in $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s (load $(cut -d' ' -f1 /proc/loadavg))"
done
