#!/usr/bin/env bash
# The gpu profile on one GPU machine, timed: `reproduce doom --profile gpu` (10,000 random games, the paper's
# M, C evolved as 64 x 16 dreams on the GPU, one iterative round), each stage's wall time and the real score;
# then one paper-sized CarRacing generation (64 x 16 real tracks on 16 workers).
#
# Not yet run on a GPU. The device machine has Python 3.12 and torch but none of gymnasium, vizdoom or cma:
# download their wheels here once, into the ignored folder .whl/ (carried with the working tree):
#   pip download --dest .whl --python-version 3.12 --only-binary=:all: --platform manylinux_2_28_x86_64 \
#       --platform manylinux2014_x86_64 vizdoom "gymnasium[box2d]" cma tqdm
# then, on the device machine (run's carry: [".whl"]), within one call's 10 minutes:
#   bash benchmarks/gpu_reproduce.sh 540
# Every stage is get-or-build, so a second call on the still-warm machine resumes where the first stopped
# (a machine given back starts bare). Logs and the pipeline's record land in $OUT (else build/gpu).
set -uo pipefail
budget=${1:-540}                       # seconds this call may spend on the pipeline
out=${OUT:-build/gpu}
root=${WM_GPU_ROOT:-/tmp/wm-gpu}       # outlives one call while the machine stays warm
mkdir -p "$out" "$root"
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
  pip install -q --no-index --find-links .whl vizdoom gymnasium box2d cma tqdm
fi
pip install -q --no-deps -e .
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" | tee "$out/machine.txt"
nproc | sed 's/^/cores /' | tee -a "$out/machine.txt"
start=$(date +%s)
PYTHONUNBUFFERED=1 timeout "$budget" python -m wmlib reproduce doom --profile gpu --artifacts "$root" 2>&1 \
  | grep -v "it/s\|s/it\|gen/s\|s/gen" | tee "$out/reproduce.log"
status=${PIPESTATUS[0]}
echo "reproduce doom --profile gpu: rc $status after $(( $(date +%s) - start )) s (124: stopped at the budget; call again to resume)" \
  | tee -a "$out/reproduce.log"
cp "$root"/doom/gpu/reproduce*.json "$out/" 2>/dev/null
left=$(( budget - ($(date +%s) - start) ))
if [ "$status" = 0 ] && [ "$left" -gt 120 ]; then
  timeout "$left" python benchmarks/generation.py --world carracing --profile paper --workers "$(nproc)" 2>&1 \
    | tee "$out/car_generation.log"
fi
