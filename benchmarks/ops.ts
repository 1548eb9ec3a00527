/**
 * Op timings at training-sized shapes, per backend and mode: the cpu backend (with the GEMM it
 * has by default, plus the WebAssembly GEMM for matmul when that loads and is not already the
 * default), and the gpujs backend in every gpu.js mode that starts here.
 *
 *   npm run bench:ops -- [--json FILE] [--quick] [--reps N] [--warmup N] [--ops matmul,gelu]
 *                        [--backends cpu,gpujs] [--modes webasm,cpu]
 *
 * Each op runs `warmup` times, then `reps` times; the median is reported. `ms` includes reading
 * the result back to the host (dataSync), so lazy GPU modes cannot look free; `msNoSync` is the
 * call alone. Inputs are made before timing. JSON rows: {backend, mode, op, shape, ms, msNoSync, reps}.
 */
import type * as Tensor from '../packages/tensor/src/index.js';
import { median } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';
import { parseArgs, writeJson } from './lib/io.js';

type TensorModule = typeof Tensor;
/**
 * Loaded with import() in main: this file may run as CommonJS (no "type": "module" above it), and
 * a static import would then load a second copy of the engine, separate from the one the
 * dynamically imported gpujs backend registers itself in.
 */
let T: TensorModule;

interface Row {
  backend: string;
  mode: string;
  op: string;
  shape: string;
  ms: number;
  msNoSync: number;
  reps: number;
  note?: string;
}

interface OpBench {
  op: string;
  shape: string;
  /** Builds the inputs (untimed) and returns the timed call. */
  setup: () => () => Tensor.Tensor;
}

/** Seeded uniform floats; plain JS so setup cost stays small and backend-independent. */
function uniform(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

function ints(n: number, below: number, seed: number): Int32Array {
  const u = uniform(n, seed);
  return Int32Array.from(u, (v) => Math.min(below - 1, Math.floor(((v + 1) / 2) * below)));
}

/** Training-sized shapes (BERT-small-ish: tokens 2048, hidden 256, ffn 1024, vocab 8000, 4 heads); quick divides rows by 8. */
function opBenches(quick: boolean): OpBench[] {
  const rows = quick ? 256 : 2048;
  const batch = quick ? 2 : 16;
  const f = (shape: number[], seed: number) => T.tensor(uniform(shape.reduce((a, b) => a * b, 1), seed), shape);
  return [
    {
      op: 'matmul',
      shape: `[${rows},256]x[256,1024]`,
      setup: () => {
        const a = f([rows, 256], 1);
        const b = f([256, 1024], 2);
        return () => T.matmul(a, b);
      },
    },
    {
      op: 'add (bias)',
      shape: `[${rows},1024]+[1024]`,
      setup: () => {
        const x = f([rows, 1024], 3);
        const bias = f([1024], 4);
        return () => T.add(x, bias);
      },
    },
    {
      op: 'gelu',
      shape: `[${rows},1024]`,
      setup: () => {
        const x = f([rows, 1024], 5);
        return () => T.gelu(x);
      },
    },
    {
      op: 'layerNorm',
      shape: `[${rows},256]`,
      setup: () => {
        const x = f([rows, 256], 6);
        const gamma = T.ones([256]);
        const beta = T.zeros([256]);
        return () => T.layerNorm(x, gamma, beta, 1e-12);
      },
    },
    {
      op: 'softmax (mask)',
      shape: `[${batch},4,128,128]+[${batch},1,1,128]`,
      setup: () => {
        const x = f([batch, 4, 128, 128], 7);
        const maskValues = new Float32Array(batch * 128);
        for (let b = 0; b < batch; b++) for (let j = 128 - 8 * (b % 8); j < 128; j++) maskValues[b * 128 + j] = T.MASK_MIN;
        const mask = T.tensor(maskValues, [batch, 1, 1, 128]);
        return () => T.softmax(x, mask);
      },
    },
    {
      op: 'crossEntropy',
      shape: `[${rows},8000]`,
      setup: () => {
        const logits = f([rows, 8000], 8);
        const labels = ints(rows, 8000, 9);
        for (let i = 0; i < rows; i += 7) labels[i] = -100;
        const y = T.tensor(labels);
        return () => T.crossEntropy(logits, y);
      },
    },
    {
      op: 'embedding',
      shape: `[${rows}] from [8000,256]`,
      setup: () => {
        const weight = f([8000, 256], 10);
        const ids = T.tensor(ints(rows, 8000, 11));
        return () => T.embedding(weight, ids);
      },
    },
    {
      op: 'permute',
      shape: `[${batch},128,4,64]->[${batch},4,128,64]`,
      setup: () => {
        const x = f([batch, 128, 4, 64], 12);
        return () => T.permute(x, [0, 2, 1, 3]);
      },
    },
  ];
}

function measure(backend: string, mode: string, bench: OpBench, reps: number, warmup: number): Row {
  const active = T.getBackend();
  const run = bench.setup();
  const once = (): [number, number] => {
    const t0 = performance.now();
    const out = run();
    const t1 = performance.now();
    out.dataSync();
    const t2 = performance.now();
    active.dispose?.(out.info);
    return [t2 - t0, t1 - t0];
  };
  for (let i = 0; i < warmup; i++) once();
  const withSync: number[] = [];
  const noSync: number[] = [];
  for (let i = 0; i < reps; i++) {
    const [a, b] = once();
    withSync.push(a);
    noSync.push(b);
  }
  return { backend, mode, op: bench.op, shape: bench.shape, ms: median(withSync), msNoSync: median(noSync), reps };
}

interface Target {
  backend: string;
  mode: string;
  /** Registered backend name to setBackend. */
  name: string;
  /** Only these ops (undefined = all). */
  ops?: string[];
  before?: () => Promise<void> | void;
  after?: () => void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

/** cpu with its default GEMM, then (matmul only) the WebAssembly GEMM when it loads and differs. */
async function cpuTargets(skipped: Row[]): Promise<Target[]> {
  const defaultGemm = T.getCpuGemm();
  const targets: Target[] = [{ backend: 'cpu', mode: defaultGemm === T.plainGemm ? 'default (plain gemm)' : 'default', name: 'cpu' }];
  try {
    const wasm = (await import('../packages/tensor/src/backends/cpu/gemm/index.js')) as {
      gemm: Tensor.Gemm;
      gemmReady: () => Promise<number>;
      shutdownGemm?: () => void;
    };
    if (wasm.gemm !== defaultGemm) {
      let threads = 0;
      targets.push({
        backend: 'cpu',
        mode: 'wasm gemm',
        name: 'cpu',
        ops: ['matmul'],
        before: async () => {
          threads = await wasm.gemmReady();
          T.setCpuGemm(wasm.gemm);
          targets[1].mode = `wasm gemm, ${threads} threads`;
        },
        after: () => {
          T.setCpuGemm(defaultGemm);
          wasm.shutdownGemm?.();
        },
      });
    }
  } catch (error) {
    skipped.push({ backend: 'cpu', mode: 'wasm gemm', op: '-', shape: '-', ms: NaN, msNoSync: NaN, reps: 0, note: message(error) });
  }
  return targets;
}

/** One registered backend per gpu.js mode that starts; the rest are reported with why not. */
async function gpujsTargets(wantedModes: string[] | undefined, skipped: Row[]): Promise<Target[]> {
  let gpujs: { registerGpujsBackend: (o?: { name?: string; mode?: string }) => void; GPUJS_MODES?: readonly string[] };
  try {
    gpujs = (await import('../packages/tensor/src/backends/gpujs/index.js')) as typeof gpujs;
    if (typeof gpujs.registerGpujsBackend !== 'function') throw new Error('no registerGpujsBackend export');
  } catch (error) {
    skipped.push({ backend: 'gpujs', mode: '-', op: '-', shape: '-', ms: NaN, msNoSync: NaN, reps: 0, note: message(error) });
    return [];
  }
  const modes = (gpujs.GPUJS_MODES ?? ['webasm', 'cpu']).filter((m) => !wantedModes || wantedModes.includes(m));
  const targets: Target[] = [];
  for (const mode of modes) {
    const name = `gpujs-bench-${mode}`;
    try {
      gpujs.registerGpujsBackend({ name, mode });
      T.setBackend(name);
      targets.push({ backend: 'gpujs', mode, name });
    } catch (error) {
      skipped.push({ backend: 'gpujs', mode, op: '-', shape: '-', ms: NaN, msNoSync: NaN, reps: 0, note: message(error) });
    } finally {
      T.setBackend('cpu');
    }
  }
  return targets;
}

async function main(): Promise<void> {
  T = await import('../packages/tensor/src/index.js');
  const args = parseArgs();
  const quick = args.quick;
  const reps = Number(args.flags.reps ?? (quick ? 3 : 5));
  const warmup = Number(args.flags.warmup ?? 1);
  const list = (flag: string): string[] | undefined =>
    typeof args.flags[flag] === 'string' ? (args.flags[flag] as string).split(',').map((s) => s.trim()) : undefined;
  const wantedOps = list('ops');
  const wantedBackends = list('backends') ?? ['cpu', 'gpujs'];
  const benches = opBenches(quick).filter((b) => !wantedOps || wantedOps.some((w) => b.op.startsWith(w)));

  const skipped: Row[] = [];
  const targets: Target[] = [
    ...(wantedBackends.includes('cpu') ? await cpuTargets(skipped) : []),
    ...(wantedBackends.includes('gpujs') ? await gpujsTargets(list('modes'), skipped) : []),
  ];

  const rows: Row[] = [];
  for (const target of targets) {
    await target.before?.();
    T.setBackend(target.name);
    try {
      for (const bench of benches) {
        if (target.ops && !target.ops.includes(bench.op)) continue;
        try {
          const row = measure(target.backend, target.mode, bench, reps, warmup);
          rows.push(row);
          console.error(`${row.backend} ${row.mode} ${row.op} ${row.shape}: ${fmt(row.ms)} ms`);
        } catch (error) {
          rows.push({ backend: target.backend, mode: target.mode, op: bench.op, shape: bench.shape, ms: NaN, msNoSync: NaN, reps: 0, note: message(error) });
        }
      }
    } finally {
      T.setBackend('cpu');
      target.after?.();
    }
  }

  console.log(
    formatTable(rows, [
      { header: 'backend', value: (r) => r.backend },
      { header: 'mode', value: (r) => r.mode },
      { header: 'op', value: (r) => r.op },
      { header: 'shape', value: (r) => r.shape },
      { header: 'ms (median, incl. readback)', value: (r) => (Number.isNaN(r.ms) ? 'failed' : fmt(r.ms)), right: true },
      { header: 'ms (call only)', value: (r) => (Number.isNaN(r.msNoSync) ? '-' : fmt(r.msNoSync)), right: true },
      { header: 'note', value: (r) => r.note ?? '' },
    ]),
  );
  console.log(`\n${reps} reps after ${warmup} warm-up; ${quick ? 'quick shapes (rows / 8)' : 'training shapes'}.`);
  for (const s of skipped) console.log(`not run: ${s.backend}${s.mode !== '-' ? ` mode ${s.mode}` : ''}: ${s.note}`);
  if (args.json) {
    writeJson(args.json, rows.map(({ backend, mode, op, shape, ms, msNoSync, reps: n, note }) => ({ backend, mode, op, shape, ms, msNoSync, reps: n, ...(note ? { note } : {}) })));
    console.log(`wrote ${args.json}`);
  }
  // Worker threads of the wasm GEMM are unref'd, but exit explicitly in case a backend holds handles.
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
