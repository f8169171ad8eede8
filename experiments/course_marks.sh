#!/usr/bin/env bash
# The whole course marked by nbgrader at a profile (default ci): the student versions generated, then the
# instructor's notebooks (full marks expected) and the unfilled student versions (zero expected) autograded.
#
#   bash experiments/course_marks.sh [out folder]        # WM_PROFILE=laptop for what students run
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/course-marks}")
export WM_PROFILE=${WM_PROFILE:-ci} WM_ARTIFACTS=${WM_ARTIFACTS:-$out/artifacts}
unset WM_TRAIN
rm -rf "$out/course"
start=$(date +%s)
python -m wmlib course generate --out "$out/course"
echo "generate: $(( $(date +%s) - start )) s"
python -m wmlib course autograde notebooks --out "$out/course" --student instructor
echo "instructor: $(( $(date +%s) - start )) s"
python -m wmlib course autograde "$out/course/release" --out "$out/course" --student blank
echo "blank: $(( $(date +%s) - start )) s (load $(cut -d' ' -f1 /proc/loadavg), $(nproc) cores)"
