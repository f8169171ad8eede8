#!/usr/bin/env bash
# The ablation table of the Doom transfer: the recipe with one lever switched off, round 0 only
# (no iterative rounds), each scored over 100 real games. The recipe itself (with its rounds) is
#   python experiments/doom_levers.py --name recipe --hold-max 40 --discrete --done-rule sample --real-z sample --rounds 4
# and the paper's settings (all levers off) are the README's laptop row (178.6 +- 48.7).
set -euo pipefail
cd "$(dirname "$0")/.."
run() { python experiments/doom_levers.py "$@" 2>&1 | grep -v "it/s\]" ; }
run --name no-discrete   --hold-max 40              --done-rule sample    --real-z sample
run --name short-holds   --hold-max 10 --discrete   --done-rule sample    --real-z sample
run --name threshold     --hold-max 40 --discrete   --done-rule threshold --real-z sample
