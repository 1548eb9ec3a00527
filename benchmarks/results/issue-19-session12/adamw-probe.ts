/**
 * The AdamW kernel over a base model's parameter sizes (12 x (4 x [768,768] + 2 x [768,3072]) +
 * [21128,768], 101M parameters), with the moments in ordinary arrays (copied into wasm memory and
 * back on every call) and as stateTensors (in the wasm memory, updated in place), alternating;
 * median of 7 passes after one warm-up pass each.
 *   node --import tsx benchmarks/results/issue-19-session12/adamw-probe.ts
 * adamw-probe.txt holds a run.
 */
import * as T from '../../../packages/tensor/src/index.js';

const info = (data: Float32Array): T.TensorInfo => ({ storage: data, shape: [data.length], dtype: 'float32', backend: 'cpu' });

async function main(): Promise<void> {
  T.setBackend('cpu');
  await T.gemmReady();
  const sizes: number[] = [];
  for (let l = 0; l < 12; l++) sizes.push(589824, 589824, 589824, 589824, 2359296, 2359296);
  sizes.push(16226304);
  const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.01);
  const params = sizes.map((n) => ({ p: random(n), g: random(n) }));
  const plain = sizes.map((n) => ({ m: new Float32Array(n), v: new Float32Array(n) }));
  const resident = sizes.map((n) => ({ m: T.stateTensor([n]).info.storage as Float32Array, v: T.stateTensor([n]).info.storage as Float32Array }));
  console.log(`moments in wasm memory: ${(T.cpuStateMemoryStats().liveBytes / 2 ** 20).toFixed(0)} MB (${T.cpuStateMemoryStats().fallbacks} fallbacks)`);
  const attrs = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, step: 3, gradScale: 1 };
  const pass = (moments: Array<{ m: Float32Array; v: Float32Array }>): number => {
    const start = performance.now();
    sizes.forEach((_, i) => T.runKernel(T.KERNELS.AdamW, [info(params[i].p), info(params[i].g), info(moments[i].m), info(moments[i].v)], attrs));
    return performance.now() - start;
  };
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  for (let round = 1; round <= 3; round++) {
    for (const [name, moments] of [['ordinary arrays', plain], ['stateTensor (wasm memory)', resident]] as const) {
      pass(moments);
      const times = Array.from({ length: 7 }, () => pass(moments));
      console.log(`round ${round}, moments in ${name}: ${median(times).toFixed(1)} ms per pass over ${(sizes.reduce((a, b) => a + b) / 1e6).toFixed(1)}M parameters`);
    }
  }
  T.shutdownGemm();
}
void main();
