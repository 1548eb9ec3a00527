/**
 * The gpujs backend per gpu.js mode: MatMul GFLOP/s (512^3 by default) and the time of a few
 * training-shaped kernels, each through runKernel on the backend, for every mode that starts.
 *
 *   node --import tsx benchmarks/gpujs-modes.ts [--quick] [--reps N] [--modes cpu,webasm] [--json FILE]
 *
 * Times include moving arguments into the kernel (webasm copies them into its wasm memory)
 * and, for host modes, the result array; GL modes are timed to a readback of the output so
 * that queued GPU work is counted. The first call (kernel compilation) is a warm-up.
 */
import { runKernel, setBackend, getBackend } from '../packages/tensor/src/engine/engine.js';
import type { KernelName, TensorInfo } from '../packages/tensor/src/engine/kernels.js';
import { gpujsInfo, probeGpujsModes, registerGpujsBackend, type GpujsMode } from '../packages/tensor/src/backends/gpujs/index.js';
import { parseArgs, writeJson } from './lib/io.js';
import { median, timeMs } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';

interface Row {
  mode: string;
  kernel: string;
  shape: string;
  ms: number;
  gflops: number | null;
  compileMs: number;
  reps: number;
}

interface Case {
  kernel: KernelName;
  shape: string;
  inputs: () => TensorInfo[];
  attrs?: Record<string, unknown>;
  flops?: number;
}

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function tensor(shape: number[], seed: number): TensorInfo {
  const n = shape.reduce((a, b) => a * b, 1);
  const backend = getBackend();
  return { storage: backend.fromHost(randomArray(n, seed)), shape, dtype: 'float32', backend: backend.name };
}

function cases(quick: boolean, matmul: number): Case[] {
  const list: Case[] = [
    {
      kernel: 'MatMul',
      shape: `${matmul}x${matmul}x${matmul}`,
      inputs: () => [tensor([matmul, matmul], 1), tensor([matmul, matmul], 2)],
      flops: 2 * matmul ** 3,
    },
  ];
  if (quick) return list;
  list.push(
    {
      kernel: 'MatMul',
      shape: '1024x768 · 768x768ᵀ',
      inputs: () => [tensor([1024, 768], 3), tensor([768, 768], 4)],
      attrs: { transB: true },
      flops: 2 * 1024 * 768 * 768,
    },
    { kernel: 'Add', shape: '[1024, 768] + [768]', inputs: () => [tensor([1024, 768], 5), tensor([768], 6)] },
    { kernel: 'Gelu', shape: '[1024, 3072]', inputs: () => [tensor([1024, 3072], 7)] },
    {
      kernel: 'LayerNorm',
      shape: '[1024, 768]',
      inputs: () => [tensor([1024, 768], 8), tensor([768], 9), tensor([768], 10)],
      attrs: { eps: 1e-12 },
    },
    {
      kernel: 'Softmax',
      shape: '[8, 12, 128, 128] + mask [8, 1, 1, 128]',
      inputs: () => [tensor([8, 12, 128, 128], 11), tensor([8, 1, 1, 128], 12)],
    },
  );
  return list;
}

function main(): void {
  const args = parseArgs();
  const reps = Number(args.flags.reps ?? (args.quick ? 3 : 5));
  const matmul = Number(args.flags.matmul ?? 512);
  const probes = probeGpujsModes();
  const wanted =
    typeof args.flags.modes === 'string'
      ? (args.flags.modes.split(',') as GpujsMode[])
      : (Object.keys(probes) as GpujsMode[]).filter((m) => probes[m] === 'ok');
  for (const [mode, status] of Object.entries(probes)) {
    if (status !== 'ok') console.log(`${mode}: does not start here: ${status}`);
  }
  const rows: Row[] = [];
  for (const mode of wanted) {
    registerGpujsBackend({ mode });
    setBackend('gpujs');
    const backend = getBackend();
    for (const c of cases(args.quick, matmul)) {
      const inputs = c.inputs();
      const once = (): void => {
        const outputs = runKernel(c.kernel, inputs, c.attrs ?? {});
        backend.toHost(outputs[0]);
      };
      const compileMs = timeMs(once);
      const times = Array.from({ length: reps }, () => timeMs(once));
      const ms = median(times);
      rows.push({
        mode: `${mode}${gpujsInfo().simd ? ' (simd)' : ''}`,
        kernel: c.kernel,
        shape: c.shape,
        ms,
        gflops: c.flops ? c.flops / ms / 1e6 : null,
        compileMs,
        reps,
      });
      const last = rows[rows.length - 1];
      console.log(`${last.mode} ${c.kernel} ${c.shape}: ${fmt(ms)} ms${last.gflops ? `, ${fmt(last.gflops)} GFLOP/s` : ''}`);
    }
  }
  console.log(
    `\n${formatTable(rows, [
      { header: 'mode', value: (r) => r.mode },
      { header: 'kernel', value: (r) => r.kernel },
      { header: 'shape', value: (r) => r.shape },
      { header: 'ms (median)', value: (r) => fmt(r.ms) },
      { header: 'GFLOP/s', value: (r) => (r.gflops === null ? '' : fmt(r.gflops)), right: true },
      { header: 'first call ms', value: (r) => fmt(r.compileMs) },
    ])}`,
  );
  if (args.json) writeJson(args.json, { probes, rows });
}

main();
