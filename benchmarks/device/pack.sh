#!/usr/bin/env bash
# Packs what benchmarks/device/run.sh needs on a GPU machine that reaches no registry, into .dev/
# (git-ignored through .git/info/exclude): a compressed node binary, the benchmarks bundled into
# single ESM files (our packages from source through tsconfig paths), the few node_modules that
# stay external (gpu.js spawns workers from its own files; webgpu is a native addon), and the
# Vulkan/EGL loader packages (.gl/) that dawn.node needs to find the NVIDIA driver.
#   bash benchmarks/device/pack.sh        # then: device run with carry [".dev", ".gl"]
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.dev/' .git/info/exclude || echo '/.dev/' >> .git/info/exclude
grep -qx '/.gl/' .git/info/exclude || echo '/.gl/' >> .git/info/exclude
rm -rf .dev/node_modules && mkdir -p .dev/node_modules
[ -f .dev/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .dev/node.xz
banner="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
for b in train-step matmul gpujs-async-modes; do
  node_modules/.bin/esbuild "benchmarks/$b.ts" --bundle --platform=node --format=esm --target=node20 \
    --external:gpu.js --external:webgpu --banner:js="$banner" --log-level=warning --outfile=".dev/$b.mjs"
done
cp -r node_modules/gpu.js node_modules/acorn node_modules/gpu-mock.js .dev/node_modules/
rm -rf .dev/node_modules/gpu.js/dist
mkdir -p .dev/node_modules/webgpu/dist
cp node_modules/webgpu/{package.json,index.js} .dev/node_modules/webgpu/
cp node_modules/webgpu/dist/linux-x64.dawn.node .dev/node_modules/webgpu/dist/
cp benchmarks/device/torch_baseline.py .dev/
if [ ! -d .gl ] || ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .dev .gl
