#!/usr/bin/env bash
# Time the README's main job from a fresh clone: `python -m wmlib reproduce <world>` at the laptop
# profile, every stage built from nothing (the clone's own artifacts folder), on this machine.
#
#   bash experiments/reproduce_timed.sh doom ../wm-fresh-doom                 # -> ../wm-fresh-doom/reproduce.log
#   bash experiments/reproduce_timed.sh doom ../wm-fresh-doom --rounds 1      # the documented longer run
#   bash experiments/reproduce_timed.sh doom ../wm-m80 --recipe experiments/recipes/doom-m80-windows.toml
#
# CLONE is made afresh: a folder this script cloned before (it holds reproduce.log) is replaced, any other
# existing folder is refused. Flags after it go to `reproduce`;
# a recipe path is read inside the clone, so it must be committed. The clone's own wmlib is the one
# imported (python -m puts the clone first on sys.path); the packages come from the environment the
# README's first command installs. Per-stage wall times and the final scores are in
# CLONE/artifacts/<world>/laptop/reproduce.json.
set -euo pipefail
WORLD=${1:?usage: reproduce_timed.sh doom|carracing CLONE [reproduce flags]}
DEST=${2:?usage: reproduce_timed.sh doom|carracing CLONE [reproduce flags]: CLONE is the folder the fresh clone goes to}
shift 2
SRC=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
if [ -e "$DEST" ] && [ ! -f "$DEST/reproduce.log" ]; then
    echo "$DEST exists and is not a clone this script made (no reproduce.log): pass a new folder" >&2
    exit 2
fi
rm -rf "$DEST"
git clone -q "$SRC" "$DEST"
cd "$DEST"
echo "clone of $(git rev-parse --short HEAD) at $DEST; $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
WM_ARTIFACTS="$PWD/artifacts" python -m wmlib reproduce "$WORLD" --profile laptop "$@" 2>&1 | tee reproduce.log
echo "wall time: $(( ($(date +%s) - start) / 60 )) min $(( ($(date +%s) - start) % 60 )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
