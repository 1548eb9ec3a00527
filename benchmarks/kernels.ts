/**
 * The cpu backend's non-GEMM hot kernels at RetroMAE training shapes (V=8000, H=256, I=1024,
 * 4 heads, batch 16 x 128): the WebAssembly SIMD path against the plain-JS path, in one run.
 *
 *   node --import tsx benchmarks/kernels.ts [--json FILE] [--quick] [--reps N] [--warmup N] [--kernels gelu,adamw]
 *
 * Each kernel runs through runKernel (the registry the ops use) with the path forced per call;
 * the two paths alternate rep by rep so a noisy shared host slows both alike, and the median is
 * reported. Inputs are built before timing; outputs are allocated inside the kernel, as in
 * training. JSON rows: {kernel, shape, simdMs, jsMs, speedup, reps}.
 */
import { KERNELS, MASK_MIN, runKernel, setBackend, type KernelName, type TensorInfo } from '../packages/tensor/src/index.js';
import { cpuKernelInfo, setCpuKernelPath, type CpuKernelPath } from '../packages/tensor/src/backends/cpu/simd/index.js';
import { interleaved, median } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';
import { parseArgs, writeJson } from './lib/io.js';

interface Row {
  kernel: string;
  shape: string;
  simdMs: number;
  jsMs: number;
  speedup: number;
  reps: number;
}

interface KernelBench {
  kernel: string;
  shape: string;
  /** Builds inputs (untimed); returns the call, run once per rep. */
  setup: () => () => void;
}

/** Seeded uniform floats in [-scale, scale). */
function uniform(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const info = (data: Float32Array | Int32Array, shape: number[]): TensorInfo => ({
  storage: data,
  shape,
  dtype: data instanceof Int32Array ? 'int32' : 'float32',
  backend: 'cpu',
});

const call = (name: KernelName, inputs: TensorInfo[], attrs = {}) => () => {
  runKernel(name, inputs, attrs);
};

/**
 * Parameter tensors for the AdamW bench: word embeddings [8000, 256], positions [128, 256], an
 * embedding LayerNorm and 3 transformer layers (H 256, I 1024): 4.55M parameters, the profile's
 * ~4.5M, in tensors of the model's sizes (AdamW runs once per tensor).
 */
function paramSizes(): number[] {
  const H = 256;
  const I = 1024;
  const layer = [H * H, H, H * H, H, H * H, H, H * H, H, H, H, H * I, I, I * H, H, H, H];
  const sizes = [8000 * H, 128 * H, H, H];
  for (let l = 0; l < 3; l++) sizes.push(...layer);
  return sizes;
}

function benches(quick: boolean): KernelBench[] {
  const tokens = quick ? 256 : 2048;
  const batch = quick ? 2 : 16;
  const ceRows = quick ? 320 : 2600;
  const H = 256;
  const I = 1024;
  const V = 8000;
  const L = 128;
  const heads = 4;
  const scores = [batch, heads, L, L];
  const nScores = batch * heads * L * L;
  const maskValues = new Float32Array(batch * L);
  for (let b = 0; b < batch; b++) for (let j = L - 8 * (b % 8); j < L; j++) maskValues[b * L + j] = MASK_MIN;
  return [
    {
      kernel: 'Gelu',
      shape: `[${tokens},${I}]`,
      setup: () => call(KERNELS.Gelu, [info(uniform(tokens * I, 1, 4), [tokens, I])]),
    },
    {
      kernel: 'GeluGrad',
      shape: `[${tokens},${I}]`,
      setup: () =>
        call(KERNELS.GeluGrad, [info(uniform(tokens * I, 2, 4), [tokens, I]), info(uniform(tokens * I, 3), [tokens, I])]),
    },
    {
      kernel: 'Softmax (mask)',
      shape: `[${scores}]+[${batch},1,1,${L}]`,
      setup: () =>
        call(KERNELS.Softmax, [info(uniform(nScores, 4, 3), scores), info(maskValues, [batch, 1, 1, L])]),
    },
    {
      kernel: 'SoftmaxGrad',
      shape: `[${scores}]`,
      setup: () => {
        const [y] = runKernel(KERNELS.Softmax, [info(uniform(nScores, 5, 3), scores)]);
        return call(KERNELS.SoftmaxGrad, [y, info(uniform(nScores, 6), scores)]);
      },
    },
    {
      kernel: 'LayerNorm',
      shape: `[${tokens},${H}]`,
      setup: () =>
        call(KERNELS.LayerNorm, [info(uniform(tokens * H, 7, 2), [tokens, H]), info(uniform(H, 8), [H]), info(uniform(H, 9), [H])], {
          eps: 1e-12,
        }),
    },
    {
      kernel: 'LayerNormGrad',
      shape: `[${tokens},${H}]`,
      setup: () => {
        const x = info(uniform(tokens * H, 10, 2), [tokens, H]);
        const gamma = info(uniform(H, 11), [H]);
        const [, mean, rstd] = runKernel(KERNELS.LayerNorm, [x, gamma, info(uniform(H, 12), [H])], { eps: 1e-12 });
        return call(KERNELS.LayerNormGrad, [info(uniform(tokens * H, 13), [tokens, H]), x, gamma, mean, rstd]);
      },
    },
    {
      kernel: 'CrossEntropy',
      shape: `[${ceRows},${V}]`,
      setup: () => {
        const labels = Int32Array.from({ length: ceRows }, (_, r) => (r * 7919) % V);
        return call(KERNELS.CrossEntropy, [info(uniform(ceRows * V, 14, 6), [ceRows, V]), info(labels, [ceRows])], {
          ignoreIndex: -100,
        });
      },
    },
    {
      kernel: 'CrossEntropyGrad',
      shape: `[${ceRows},${V}]`,
      setup: () => {
        const logits = info(uniform(ceRows * V, 15, 6), [ceRows, V]);
        const labels = info(
          Int32Array.from({ length: ceRows }, (_, r) => (r * 7919) % V),
          [ceRows],
        );
        const [, lse] = runKernel(KERNELS.CrossEntropy, [logits, labels], { ignoreIndex: -100 });
        return call(KERNELS.CrossEntropyGrad, [logits, labels, lse, info(Float32Array.of(1), [])], { ignoreIndex: -100 });
      },
    },
    {
      kernel: 'AdamW',
      shape: `${paramSizes().length} tensors, ${(paramSizes().reduce((a, b) => a + b, 0) / 1e6).toFixed(2)}M params`,
      setup: () => {
        const groups = paramSizes().map((n, i) => [uniform(n, 20 + i), uniform(n, 40 + i), uniform(n, 60 + i, 0.1), uniform(n, 80 + i, 0.01).map(Math.abs)]);
        const attrs = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };
        return () => {
          for (const [p, g, m, v] of groups) runKernel(KERNELS.AdamW, [info(p, [p.length]), info(g, [g.length]), info(m, [m.length]), info(v, [v.length])], attrs);
        };
      },
    },
  ];
}

function onPath(path: CpuKernelPath, fn: () => void): () => void {
  return () => {
    setCpuKernelPath(path);
    try {
      fn();
    } finally {
      setCpuKernelPath('auto');
    }
  };
}

function main(): void {
  const args = parseArgs();
  const reps = Number(args.flags.reps ?? (args.quick ? 3 : 7));
  const warmup = Number(args.flags.warmup ?? 1);
  const only = typeof args.flags.kernels === 'string' ? args.flags.kernels.toLowerCase().split(',') : undefined;
  setBackend('cpu');
  const kernelInfo = cpuKernelInfo();
  if (!kernelInfo.simdAvailable) throw new Error(`benchmarks/kernels: no WebAssembly SIMD here (${kernelInfo.reason}); nothing to compare`);
  console.log(`cpu kernels: default path ${kernelInfo.path} (${kernelInfo.reason}); reps ${reps}, warmup ${warmup}${args.quick ? ', quick shapes' : ''}`);
  const rows: Row[] = [];
  for (const b of benches(args.quick)) {
    if (only && !only.some((k) => b.kernel.toLowerCase().startsWith(k))) continue;
    const fn = b.setup();
    const [simd, js] = interleaved([onPath('wasm-simd', fn), onPath('js', fn)], reps, warmup);
    const row: Row = { kernel: b.kernel, shape: b.shape, simdMs: median(simd), jsMs: median(js), speedup: median(js) / median(simd), reps };
    rows.push(row);
    console.log(`  ${b.kernel} ${b.shape}: simd ${fmt(row.simdMs)} ms, js ${fmt(row.jsMs)} ms`);
  }
  const total = (k: 'simdMs' | 'jsMs'): number => rows.reduce((s, r) => s + r[k], 0);
  console.log(
    `\n${formatTable(rows, [
      { header: 'kernel', value: (r) => r.kernel },
      { header: 'shape', value: (r) => r.shape },
      { header: 'simd ms', value: (r) => fmt(r.simdMs), right: true },
      { header: 'js ms', value: (r) => fmt(r.jsMs), right: true },
      { header: 'speedup', value: (r) => `${fmt(r.speedup)}x`, right: true },
    ])}`,
  );
  console.log(`\nsum of medians: simd ${fmt(total('simdMs'))} ms, js ${fmt(total('jsMs'))} ms (one call of each kernel)`);
  if (args.json) {
    writeJson(args.json, { benchmark: 'kernels', date: new Date().toISOString(), node: process.version, kernelInfo, quick: args.quick, rows });
    console.log(`wrote ${args.json}`);
  }
}

main();
