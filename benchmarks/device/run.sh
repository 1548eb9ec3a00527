#!/usr/bin/env bash
# The device check, one prepared script (see benchmarks/device/README.md): gpu.js's async modes
# (webgpu on the GPU, threaded webasm), our CPU kernels and training step at 2 and at all cores,
# and PyTorch on the same machine as the baseline. Run from the repo root after pack.sh, with
# .dev and .gl carried; writes logs and JSON under $OUT (or ./device-out).
#   bash benchmarks/device/run.sh [gpujs] [gemm] [train] [torch]     (default: all four)
set -uo pipefail
OUT=${OUT:-$PWD/device-out}; mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
xz -dc .dev/node.xz > /tmp/node && chmod +x /tmp/node
echo "== machine"; nvidia-smi -L; nproc; ldd --version | head -1; /tmp/node --version; ls "$icd" 2>&1
cd .dev
parts=" ${*:-gpujs gemm train torch} "
want() { [[ "$parts" == *" $1 "* ]]; }
want gpujs && { echo "== gpu.js async modes"
timeout 150 /tmp/node gpujs-async-modes.mjs --sizes 512,1024,2048,4096 --reps 5 ${GPUJS_MODES:+--modes $GPUJS_MODES} --json "$OUT/gpujs-async-modes.json"; }
want gemm && { echo "== our GEMM (all threads and one)"
timeout 90 /tmp/node matmul.mjs --quick --json "$OUT/matmul.json"; }
want train && for t in 2 $(nproc); do
  echo "== our training step, $t GEMM threads"
  RETRO_GEMM_THREADS=$t timeout 120 /tmp/node train-step.mjs --config tiny --reps 4 --no-torch --json "$OUT/train-step-${t}t.json"
done
want torch && { echo "== PyTorch on this machine"
timeout 150 python3 torch_baseline.py --threads 2,$(nproc) --json "$OUT/torch-baseline.json"; }
echo "== done"
