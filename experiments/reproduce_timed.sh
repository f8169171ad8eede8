#!/usr/bin/env bash
# Time the README's main job from a fresh clone: `python -m wmlib reproduce <world>` at the laptop
# profile, every stage built from nothing (its own artifacts folder), on this machine.
#
#   bash experiments/reproduce_timed.sh doom            # -> /tmp/wm-fresh-doom/reproduce.log
#   bash experiments/reproduce_timed.sh doom --rounds 2 # the documented longer run
#
# The clone's own wmlib is the one imported (python -m puts the clone first on sys.path); the
# packages come from the environment the README's first command installs. Per-stage wall times
# and the final scores are in <clone>/artifacts/<world>/laptop/reproduce.json.
set -euo pipefail
WORLD=${1:?world: doom or carracing}; shift
SRC=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
DEST=${WM_FRESH:-/tmp/wm-fresh-$WORLD}
rm -rf "$DEST"
git clone -q "$SRC" "$DEST"
cd "$DEST"
echo "clone of $(git rev-parse --short HEAD) at $DEST; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
WM_ARTIFACTS="$DEST/artifacts" python -m wmlib reproduce "$WORLD" --profile laptop "$@" 2>&1 | tee reproduce.log
echo "wall time: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
