/**
 * Matrix-multiply throughput: the cpu WebAssembly GEMM (all threads and one thread), the naive
 * plain-JS triple loop, and the gpujs backend where it starts.
 *
 *   npm run bench:matmul -- [--quick] [--json FILE] [--reps N] [--shapes 1024x1024x1024,...]
 *
 * Shapes are m x k x n: C[m,n] = op(A)[m,k] op(B)[k,n]. Each variant runs after a warm-up, the
 * variants interleaved rep by rep (the host is shared and noisy), and the median is reported.
 * relError = max|C - ref| / max|ref| with ref computed in float64 on a random sample of entries.
 */
import {
  gemm,
  gemmInfo,
  gemmLastRun,
  gemmReady,
  setGemmOptions,
  shutdownGemm,
  type GemmKernel,
} from '../packages/tensor/src/backends/cpu/gemm/index.js';
import { relaxedSupported, simdSupported } from '../packages/tensor/src/backends/cpu/gemm/runtime.js';
import { interleaved, median, timeMs } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';
import { parseArgs, writeJson } from './lib/io.js';

interface Row {
  backend: string;
  mode: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  threads: number;
  gflops: number;
  relError: number;
  reps: number;
  /** Share of the work items run by worker threads (the rest ran on the calling thread). */
  workerShare?: number;
  note?: string;
}

type Shape = [m: number, k: number, n: number];
interface Case {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  a: Float32Array;
  b: Float32Array;
}

const SHAPES: Shape[] = [
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 256, 1024],
  [2048, 1024, 256],
  [2048, 256, 8000],
];

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

const opA = (c: Case, i: number, p: number): number => (c.transA ? c.a[p * c.m + i] : c.a[i * c.k + p]);
const opB = (c: Case, p: number, j: number): number => (c.transB ? c.b[j * c.k + p] : c.b[p * c.n + j]);

/** Entries checked against float64: the four corners plus random ones, rows limited to `rows`. */
function sampleEntries(c: Case, count: number, rows = c.m): Array<[number, number]> {
  const out: Array<[number, number]> = [
    [0, 0],
    [0, c.n - 1],
    [rows - 1, 0],
    [rows - 1, c.n - 1],
  ];
  let s = 12345;
  const next = (q: number): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % q;
  };
  while (out.length < count) out.push([next(rows), next(c.n)]);
  return out;
}

/** max|got - ref| / max|ref| over the sampled entries of C [m, n]. */
function sampledRelError(c: Case, got: Float32Array, entries: Array<[number, number]>): number {
  let err = 0;
  let scale = 0;
  for (const [i, j] of entries) {
    let ref = 0;
    for (let p = 0; p < c.k; p++) ref += opA(c, i, p) * opB(c, p, j);
    const g = got[i * c.n + j];
    err = Math.max(err, Number.isFinite(g) ? Math.abs(g - ref) : Infinity);
    scale = Math.max(scale, Math.abs(ref));
  }
  return err / scale;
}

/** The textbook i-j-p triple loop over the first `rows` rows of C. */
function naive(c: Case, out: Float32Array, rows: number): void {
  const { m, k, n, a, b, transA, transB } = c;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      out[i * n + j] = sum;
    }
  }
}

interface TensorModule {
  setBackend(name: string): unknown;
  getBackend(): { name: string };
  gpujsInfo?(): { mode: string };
  tensor(data: Float32Array, shape: number[]): { dataSync(): Float32Array | Int32Array; dispose?(): void };
  matmul(a: unknown, b: unknown, options?: { transA?: boolean; transB?: boolean }): { dataSync(): Float32Array | Int32Array };
}

/** gpujs through @retro/tensor, or why it did not start. */
async function loadGpujs(): Promise<TensorModule | string> {
  try {
    const t = (await import('@retro/tensor')) as unknown as TensorModule;
    if (typeof t.setBackend !== 'function' || typeof t.matmul !== 'function') return '@retro/tensor exports no setBackend/matmul';
    t.setBackend('gpujs');
    return t;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

/** 'gpujs-<gpu.js mode>' where the backend says which mode it runs in. */
function gpujsMode(t: TensorModule): string {
  try {
    return `gpujs-${t.gpujsInfo?.().mode ?? t.getBackend().name}`;
  } catch {
    return t.getBackend().name;
  }
}

async function main(): Promise<void> {
  const args = parseArgs();
  const quick = args.quick;
  const reps = Number(args.flags.reps ?? (quick ? 3 : 7));
  const shapes: Shape[] =
    typeof args.flags.shapes === 'string'
      ? args.flags.shapes.split(',').map((s) => s.split('x').map(Number) as Shape)
      : quick
        ? SHAPES.slice(0, 3)
        : SHAPES;
  const transposes: Array<[boolean, boolean]> = quick
    ? [[false, false]]
    : [
        [false, false],
        [true, false],
        [false, true],
      ];
  const naiveRows = quick ? 8 : 32;
  const samples = quick ? 256 : 1024;

  const kernel: GemmKernel = relaxedSupported() ? 'relaxed' : simdSupported() ? 'simd' : 'js';
  setGemmOptions({ kernel });
  const threadsAll = await gemmReady();
  const info = gemmInfo();
  console.log(
    `matmul benchmark: wasm kernel ${kernel} (simd ${info.simd}, relaxed FMA ${info.relaxedSimd}), threads ${threadsAll}; ` +
      `${reps} interleaved reps after warm-up, median reported${quick ? ' (--quick)' : ''}`,
  );
  console.log(
    `naive JS triple loop: timed on the first ${naiveRows} rows of C only (the full product takes minutes); ` +
      `relError: float64 reference on ${samples} sampled entries of C; worker share: work items run off the calling thread`,
  );
  console.log(
    'note: the host is shared with other agents; when another process holds a core, all-thread rows fall to single-thread speed',
  );

  const rows: Row[] = [];
  const gpu = await loadGpujs();
  if (typeof gpu === 'string') console.log(`gpujs: did not start: ${gpu}`);
  else console.log(`gpujs: started in mode ${gpujsMode(gpu)}; timed on untransposed shapes, upload and download included`);

  for (const [m, k, n] of shapes) {
    for (const [transA, transB] of transposes) {
      const c: Case = { m, k, n, transA, transB, a: randomArray(m * k, m + 3 * k), b: randomArray(k * n, n + 7 * k) };
      const flops = 2 * m * n * k;
      const entries = sampleEntries(c, samples);
      const outAll = new Float32Array(m * n);
      const outOne = new Float32Array(m * n);
      const outPlain = new Float32Array(m * n);
      const run = (out: Float32Array) => () => gemm({ transA, transB, m, n, k, a: c.a, b: c.b, c: out });
      type Variant = { mode: string; threads: number; out: Float32Array; fn: () => void; items: number; workerItems: number };
      const variant = (mode: string, kern: GemmKernel, threads: number, out: Float32Array): Variant => {
        const v: Variant = {
          mode,
          threads,
          out,
          items: 0,
          workerItems: 0,
          fn: () => {
            setGemmOptions({ kernel: kern, threads });
            run(out)();
            const last = gemmLastRun();
            v.items += last.items;
            v.workerItems += last.items - last.callerItems;
          },
        };
        return v;
      };
      const variants: Variant[] = [
        variant(`wasm-${kernel}`, kernel, threadsAll, outAll),
        variant(`wasm-${kernel}`, kernel, 1, outOne),
      ];
      // The plain mul+add SIMD kernel, for the FMA's share of the speed (untransposed shapes only).
      if (kernel === 'relaxed' && !transA && !transB && !quick) {
        variants.push(variant('wasm-simd', 'simd', threadsAll, outPlain));
      }
      // Switching kernels restarts the pool; let the workers come up before timing.
      for (const v of variants) {
        v.fn();
        await gemmReady();
      }
      const times = interleaved(
        variants.map((v) => v.fn),
        reps,
        1,
      );
      variants.forEach((v, i) => {
        rows.push({
          backend: 'cpu',
          mode: v.mode,
          m,
          k,
          n,
          transA,
          transB,
          threads: v.threads,
          gflops: flops / median(times[i]) / 1e6,
          relError: sampledRelError(c, v.out, entries),
          reps,
          ...(v.threads > 1 ? { workerShare: v.workerItems / v.items } : {}),
        });
      });

      const naiveOut = new Float32Array(naiveRows * n);
      const naiveTimes = [timeMs(() => naive(c, naiveOut, naiveRows)), timeMs(() => naive(c, naiveOut, naiveRows))];
      rows.push({
        backend: 'cpu',
        mode: 'naive-js',
        m,
        k,
        n,
        transA,
        transB,
        threads: 1,
        gflops: (2 * naiveRows * n * k) / median(naiveTimes) / 1e6,
        relError: sampledRelError(c, naiveOut, sampleEntries(c, Math.min(samples, 256), naiveRows)),
        reps: naiveTimes.length,
        note: `first ${naiveRows} rows`,
      });

      if (typeof gpu !== 'string' && !transA && !transB && m * n * k <= 2 ** 30) {
        try {
          const ta = gpu.tensor(c.a, transA ? [k, m] : [m, k]);
          const tb = gpu.tensor(c.b, transB ? [n, k] : [k, n]);
          let result: Float32Array | Int32Array = new Float32Array(0);
          const once = (): void => {
            result = gpu.matmul(ta, tb, { transA, transB }).dataSync();
          };
          const first = timeMs(once);
          const gpuTimes = first > 20_000 ? [first] : [timeMs(once), timeMs(once), timeMs(once)];
          rows.push({
            backend: 'gpujs',
            mode: gpujsMode(gpu),
            m,
            k,
            n,
            transA,
            transB,
            threads: 1,
            gflops: flops / median(gpuTimes) / 1e6,
            relError: sampledRelError(c, Float32Array.from(result), entries),
            reps: gpuTimes.length,
            note: 'includes upload and download',
          });
        } catch (error) {
          console.log(`gpujs: ${m}x${k}x${n} failed: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
        }
      }
      const last = rows.filter((r) => r.m === m && r.k === k && r.n === n && r.transA === transA && r.transB === transB);
      for (const r of last) {
        console.log(
          `  ${m}x${k}x${n}${transA ? ' A^T' : ''}${transB ? ' B^T' : ''} ${r.backend}/${r.mode} x${r.threads}: ` +
            `${fmt(r.gflops)} GFLOP/s, relError ${fmt(r.relError, 2)}`,
        );
      }
    }
  }

  console.log();
  console.log(
    formatTable(rows, [
      { header: 'm x k x n', value: (r) => `${r.m}x${r.k}x${r.n}` },
      { header: 'op', value: (r) => (r.transA ? 'A^T B' : r.transB ? 'A B^T' : 'A B') },
      { header: 'backend', value: (r) => r.backend },
      { header: 'mode', value: (r) => r.mode + (r.note ? ` (${r.note})` : '') },
      { header: 'threads', value: (r) => r.threads },
      { header: 'GFLOP/s', value: (r) => fmt(r.gflops), right: true },
      { header: 'relError', value: (r) => fmt(r.relError, 2), right: true },
      { header: 'worker share', value: (r) => (r.workerShare === undefined ? '' : `${Math.round(100 * r.workerShare)}%`), right: true },
    ]),
  );
  if (args.json) {
    writeJson(args.json, rows);
    console.log(`wrote ${rows.length} rows to ${args.json}`);
  }
  shutdownGemm();
}

main().catch((error) => {
  console.error(error);
  shutdownGemm();
  process.exitCode = 1;
});
