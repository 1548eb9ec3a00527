/**
 * One full training step — forward, backward, clip 1.0, AdamW, dropout 0.1 — of RetroMAE and of
 * MLM alone (the paper's baseline objective), ours and PyTorch's on the same batch in the same run.
 *
 *   npm run bench:train -- [--config tiny|base|quick] [--threads N] [--reps N] [--rounds N]
 *                          [--python /usr/bin/python3 | --no-torch] [--torch-lib DIR]
 *                          [--hugepages both|ours|none] [--no-recycle] [--pool-mb N] [--by-shape] [--json FILE]
 *
 * Configs: tiny (V=8000, H=256, 4 layers, 4 heads, I=1024, batch 16 x 128), base (V=21128, H=768,
 * 12 layers, 12 heads, I=3072, batch 4 x 128: what users pretrain), quick (a smoke test).
 * --threads N: our worker threads (GEMM and kernels, including the caller) and torch.set_num_threads;
 * default: every core.
 *
 * Every measurement runs in a fresh child process (ours: this script with --child; PyTorch:
 * benchmarks/torch_train_step.py), so each reports its own peak RSS; the rounds interleave ours and
 * PyTorch's so load swings on this shared host hit both alike. Each child runs one warm-up step and
 * `reps` timed ones; a row is the median over all rounds' timed steps.
 *
 * Our step's time split, from the engine's kernel profiler (forward + backward) and the wall clock:
 *   gemm       MatMul kernels outside attention (projections, FFN, MLM head);
 *   attention  kernels on [B, heads, ., .] tensors (QK^T, softmax, probability dropout, PV, head
 *              transposes) and the fused attention kernels;
 *   kernels    every other kernel (elementwise, GELU, LayerNorm, cross-entropy, embedding, dropout);
 *   graph      forward + backward wall time outside kernels (autograd, JS glue, host copies);
 *   optimizer  clip + AdamW wall time.
 * PyTorch is measured when the python has torch (Debian's python3-torch: /usr/bin/python3; the
 * `python3` on PATH may be one without torch); otherwise its columns say why they are empty.
 * Debian's torch uses whatever libblas.so.3 resolves to: the reference BLAS (~1 GFLOP/s) unless
 * OpenBLAS is installed. --torch-lib DIR puts DIR (holding OpenBLAS's libblas.so.3, e.g. the
 * extracted libopenblas0-pthread .deb's usr/lib/x86_64-linux-gnu/openblas-pthread) first on
 * PyTorch's LD_LIBRARY_PATH; the output names the BLAS PyTorch loaded and its matmul GFLOP/s.
 *
 * --hugepages (default both): which children run with GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc's
 * transparent-huge-page malloc (what `retro` sets for itself on glibc Linux, see packages/cli/bin).
 * A training step allocates hundreds of MB of fresh buffers; on a VM a fresh 4 KB page can cost
 * ~15 us to fault in, and huge pages cut the faults ~50x (the table's notes give faults per step).
 * `both` compares like with like; `ours` is each as a user gets it out of the box.
 *
 * Our step runs as the training loop runs it (packages/train loop/step.ts): forward and backward in
 * one scope, AdamW in another, with the cpu buffer pool on (what `train` turns on by default), so
 * each step's kernels write into the arrays the previous step's scopes freed. --no-recycle: every
 * kernel output a fresh array (what `train({ recycleCpuBuffers: false })` and library users get).
 * --pool-mb N: the pool's idle bound (default 1024 MB, setCpuBufferRecycling's).
 *
 * --by-shape: our per-kernel times keyed by kernel and input shapes ("MatMul [512,768] [768,768]
 * [768]"), for finding which call of a kernel costs; the table then lists the top 8 such keys.
 *
 * JSON: {benchmark, config, threads, hugePages, recycle, load: {before, after}, torch: {available, version?, why?},
 *        rows: [{objective, impl: 'ours'|'pytorch', ms, forwardMs, backwardMs, optimizerMs,
 *                split?: {gemm, attention, kernels, graph, optimizer}, kernelMsPerStep?, pageFaultsPerStep?,
 *                arraysPerStep?: {reused, fresh}, stateMemory?: {residentMb, fallbacks}, tokensPerSecond, peakRssMb, samples}],
 *        ratios: {retromae, mlm} (ours tokens/s / PyTorch's)}.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TensorModule from '../packages/tensor/src/index.js';
import type * as DecoderModule from '../packages/enhanced-decoder/src/index.js';
import type * as TrainModule from '../packages/train/src/index.js';
import { parseArgs, writeJson } from './lib/io.js';
import { median } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';

interface Config {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  batch: number;
  length: number;
}

const CONFIGS: Record<string, Config> = {
  tiny: { vocab: 8000, hidden: 256, layers: 4, heads: 4, intermediate: 1024, batch: 16, length: 128 },
  base: { vocab: 21128, hidden: 768, layers: 12, heads: 12, intermediate: 3072, batch: 4, length: 128 },
  quick: { vocab: 2000, hidden: 128, layers: 2, heads: 2, intermediate: 512, batch: 8, length: 64 },
};

type Objective = 'retromae' | 'mlm';

interface Split {
  gemm: number;
  attention: number;
  kernels: number;
  graph: number;
  optimizer: number;
}

/** What one child process measured: per timed step, and its peak RSS. */
interface Sample {
  objective: Objective;
  impl: 'ours' | 'pytorch';
  steps: Array<{ forward: number; backward: number; optimizer: number; split?: Split }>;
  peakRssMb: number;
  /** Ours: ms per kernel name (summed over the timed steps, forward + backward + optimizer), largest first. */
  kernelMs?: Record<string, number>;
  /** Ours: minor page faults per timed step (fresh pages the step touched: the cost of allocating anew). */
  pageFaultsPerStep?: number;
  /** Ours: kernel output arrays per timed step taken from the cpu buffer pool and allocated fresh. */
  arraysPerStep?: { reused: number; fresh: number };
  /** Ours: MB of optimizer state (AdamW moments) in the kernels' wasm memory, and moments that could not go there. */
  stateMemory?: { residentMb: number; fallbacks: number };
}

interface Row {
  objective: Objective;
  impl: 'ours' | 'pytorch';
  ms: number;
  forwardMs: number;
  backwardMs: number;
  optimizerMs: number;
  split?: Split;
  tokensPerSecond: number;
  peakRssMb: number;
  samples: number;
  /** Ours: ms per kernel name per step (mean over the timed steps), largest first. */
  kernelMsPerStep?: Record<string, number>;
  /** Ours: minor page faults per step (mean over the children). */
  pageFaultsPerStep?: number;
  /** Ours: kernel output arrays per step from the cpu buffer pool and fresh (mean over the children). */
  arraysPerStep?: { reused: number; fresh: number };
  /** Ours: optimizer state in the kernels' wasm memory (the first child's). */
  stateMemory?: { residentMb: number; fallbacks: number };
}

/** The shared batch spec both implementations train on. */
interface Spec {
  config: Config;
  objective: Objective;
  threads: number;
  reps: number;
  /** Key the kernel profile by kernel name and input shapes. */
  byShape: boolean;
  /** The cpu buffer pool on (as `train` runs) or off, and its idle bound in MB (default: the pool's). */
  recycle: boolean;
  poolMb?: number;
  batch: {
    encoderInputIds: number[];
    encoderLabels: number[];
    decoderInputIds: number[];
    decoderLabels: number[];
    /** [B * L * L] 0/1: the decoder's M. */
    m: number[];
  };
}

/** Kernels that only attention runs on rank-4 [B, heads, ., .] tensors, plus the fused ones. */
function isAttentionKernel(name: string, inputs: ReadonlyArray<{ shape: readonly number[] }>): boolean {
  if (name.startsWith('Attention') || name.startsWith('FusedAttention')) return true;
  return inputs.some((t) => t.shape.length === 4) && (name === 'MatMul' || name === 'Softmax' || name === 'SoftmaxGrad' || name === 'Dropout' || name === 'Transpose' || name === 'Sum' || name === 'Add' || name === 'Mul');
}

/** A full-length batch of random ordinary tokens, 30% masked for the encoder, M at 0.5: what the collator makes. */
function makeSpecBatch(T: typeof TensorModule, D: typeof DecoderModule, config: Config): Spec['batch'] {
  const { vocab, batch: B, length: L } = config;
  const g = new T.Generator(17);
  const inputIds = new Int32Array(B * L);
  const wordStarts = new Uint8Array(B * L);
  const encoderInputIds = new Int32Array(B * L);
  const encoderLabels = new Int32Array(B * L).fill(-100);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const id = i === 0 ? 2 : i === L - 1 ? 3 : 5 + g.randint(vocab - 5);
      inputIds[b * L + i] = id;
      wordStarts[b * L + i] = i === 0 || i === L - 1 || g.random() < 0.5 ? 1 : 0;
      encoderInputIds[b * L + i] = id;
      if (i > 0 && i < L - 1 && g.random() < 0.3) {
        encoderLabels[b * L + i] = id;
        const draw = g.random();
        encoderInputIds[b * L + i] = draw < 0.8 ? 4 : draw < 0.9 ? 5 + g.randint(vocab - 5) : id;
      }
    }
  }
  const dataBatch = { shape: [B, L] as [number, number], inputIds, attentionMask: new Uint8Array(B * L).fill(1), wordStarts, lengths: new Int32Array(B).fill(L), encoderInputIds, encoderLabels };
  const collated = D.collateRetroMAE(dataBatch, { decoderRatio: 0.5, seed: 0 });
  const ints = (x: unknown): number[] => Array.from((x as { dataSync(): ArrayLike<number> }).dataSync());
  return {
    encoderInputIds: ints(collated.encoderInputIds),
    encoderLabels: ints(collated.encoderLabels),
    decoderInputIds: ints(collated.decoderInputIds),
    decoderLabels: ints(collated.decoderLabels),
    m: ints(collated.decoderAttentionMask),
  };
}

/** The child: our step on the spec's batch, with the kernel profiler's split. */
async function child(specFile: string): Promise<void> {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as Spec;
  // import() keeps one engine instance (see benchmarks/ops.ts).
  const T: typeof TensorModule = await import('../packages/tensor/src/index.js');
  const D: typeof DecoderModule = await import('../packages/enhanced-decoder/src/index.js');
  const train: typeof TrainModule = await import('../packages/train/src/index.js');
  T.setGemmThreads(spec.threads);
  const { config } = spec;
  const B = config.batch;
  const L = config.length;
  const ids = (values: number[], shape: number[]) => T.tensor(Int32Array.from(values), shape);
  const batch = {
    encoderInputIds: ids(spec.batch.encoderInputIds, [B, L]),
    encoderAttentionMask: ids(new Array<number>(B * L).fill(1), [B, L]),
    encoderLabels: ids(spec.batch.encoderLabels, [B, L]),
    decoderInputIds: ids(spec.batch.decoderInputIds, [B, L]),
    decoderAttentionMask: ids(spec.batch.m, [B, L, L]),
    decoderLabels: ids(spec.batch.decoderLabels, [B, L]),
  };
  const model = D.RetroMAEForPretraining.fromConfig(
    { vocabSize: config.vocab, hiddenSize: config.hidden, numHiddenLayers: config.layers, numAttentionHeads: config.heads, intermediateSize: config.intermediate, maxPositionEmbeddings: 512, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1 },
    { seed: 1, mlmOnly: spec.objective === 'mlm' },
  );
  model.train();
  T.setCpuBufferRecycling(spec.recycle, spec.poolMb === undefined ? {} : { maxIdleBytes: spec.poolMb * 2 ** 20 });
  const optimizer = new train.AdamW(model.namedParameters(), { lr: 1e-4, weightDecay: 0.01 });
  const params = model.parameters();
  const split = { gemm: 0, attention: 0, kernels: 0 };
  const byKernel = new Map<string, number>();
  let timed = false;
  T.setKernelProfiler((name, ms, inputs) => {
    if (timed) {
      const key = spec.byShape ? `${name} ${inputs.map((input) => `[${input.shape.join(',')}]`).join(' ')}` : name;
      byKernel.set(key, (byKernel.get(key) ?? 0) + ms);
    }
    if (isAttentionKernel(name, inputs)) split.attention += ms;
    else if (name === 'MatMul') split.gemm += ms;
    else split.kernels += ms;
  });
  const steps: Sample['steps'] = [];
  let faultsAtFirstTimedStep = 0;
  let poolAtFirstTimedStep = T.cpuBufferPoolStats();
  // One warm-up step (kernel compilation, worker start-up, allocation growth), then the timed ones.
  for (let r = 0; r <= spec.reps; r++) {
    split.gemm = split.attention = split.kernels = 0;
    timed = r > 0;
    if (r === 1) {
      faultsAtFirstTimedStep = process.resourceUsage().minorPageFault;
      poolAtFirstTimedStep = T.cpuBufferPoolStats();
    }
    const t0 = performance.now();
    let t1 = 0;
    // as the training loop does it (loop/step.ts): forward and backward in one scope, whose
    // temporaries go back to the cpu buffer pool when it ends
    T.scope(() => {
      const out = model.forward(batch);
      out.loss.item();
      t1 = performance.now();
      out.loss.backward();
    }, 'bench micro-batch');
    const t2 = performance.now();
    const inFwdBwd = { ...split };
    // the norm once, clipping folded into AdamW
    const gradScale = train.clipScale(1.0, train.globalGradNorm(params));
    T.scope(() => optimizer.step(undefined, { gradScale }), 'bench optimizer step');
    optimizer.zeroGrad();
    const t3 = performance.now();
    if (r === 0) continue;
    steps.push({
      forward: t1 - t0,
      backward: t2 - t1,
      optimizer: t3 - t2,
      split: { ...inFwdBwd, graph: t2 - t0 - inFwdBwd.gemm - inFwdBwd.attention - inFwdBwd.kernels, optimizer: t3 - t2 },
    });
  }
  const pageFaultsPerStep = (process.resourceUsage().minorPageFault - faultsAtFirstTimedStep) / Math.max(1, spec.reps);
  const pool = T.cpuBufferPoolStats();
  const arraysPerStep = { reused: (pool.reused - poolAtFirstTimedStep.reused) / Math.max(1, spec.reps), fresh: (pool.fresh - poolAtFirstTimedStep.fresh) / Math.max(1, spec.reps) };
  T.setKernelProfiler(null);
  T.shutdownGemm();
  const kernelMs = Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1]));
  const state = T.cpuStateMemoryStats();
  const stateMemory = { residentMb: state.liveBytes / 2 ** 20, fallbacks: state.fallbacks };
  const sample: Sample = { objective: spec.objective, impl: 'ours', steps, peakRssMb: process.resourceUsage().maxRSS / 1024, kernelMs, pageFaultsPerStep, arraysPerStep, stateMemory };
  process.stdout.write(`\n${JSON.stringify(sample)}\n`);
}

/** Whether `python` imports torch; the version or why not. */
function probeTorch(python: string): { available: boolean; version?: string; why?: string } {
  if (!existsSync(python)) return { available: false, why: `${python} does not exist (install Debian's python3-torch, or pass --python)` };
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return { available: false, why: `${python} cannot import torch: ${(r.stderr || '').trim().split('\n').pop()}` };
  return { available: true, version: r.stdout.trim() };
}

function lastJsonLine(text: string, what: string): unknown {
  const line = text.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`bench:train: ${what} printed no result line; its output ended with: ${text.slice(-500)}`);
  }
}

/** glibc's malloc with transparent huge pages, added to any tunables already set. */
function withHugePageMalloc(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tunable = 'glibc.malloc.hugetlb=1';
  const current = env.GLIBC_TUNABLES;
  if (current?.split(':').includes(tunable)) return env;
  return { ...env, GLIBC_TUNABLES: current ? `${current}:${tunable}` : tunable };
}

function runOurs(specFile: string, threads: number, hugePages: boolean): Sample {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, script, '--child', specFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: (hugePages ? withHugePageMalloc : (e: NodeJS.ProcessEnv) => e)({ ...process.env, RETRO_GEMM_THREADS: String(threads) }),
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`bench:train: our step (child process) failed with status ${r.status}`);
  return lastJsonLine(r.stdout, 'our step') as Sample;
}

/** The BLAS PyTorch's last child loaded and its 512^3 matmul rate: what the baseline stands on. */
const torchBlas: { libraries: string[]; matmul512Gflops: number[] } = { libraries: [], matmul512Gflops: [] };

function torchEnv(threads: number, torchLib: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  if (torchLib) env.LD_LIBRARY_PATH = [torchLib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return env;
}

function runTorch(python: string, specFile: string, env: NodeJS.ProcessEnv): Sample {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'torch_train_step.py');
  const r = spawnSync(python, [script, '--spec', specFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env });
  if (r.status !== 0) throw new Error(`bench:train: ${python} ${script} failed with status ${r.status}`);
  const out = lastJsonLine(r.stdout, 'the PyTorch step') as { objective: Objective; peakRssMb: number; steps: Sample['steps']; blas: string[]; matmul512Gflops: number };
  torchBlas.libraries = out.blas;
  torchBlas.matmul512Gflops.push(out.matmul512Gflops);
  return { objective: out.objective, impl: 'pytorch', steps: out.steps, peakRssMb: out.peakRssMb };
}

function toRow(samples: Sample[], tokensPerStep: number): Row {
  const steps = samples.flatMap((s) => s.steps);
  const pick = (f: (s: Sample['steps'][number]) => number) => median(steps.map(f));
  const ms = pick((s) => s.forward + s.backward + s.optimizer);
  const withSplit = steps.filter((s) => s.split);
  const split = withSplit.length
    ? (Object.fromEntries((['gemm', 'attention', 'kernels', 'graph', 'optimizer'] as const).map((k) => [k, median(withSplit.map((s) => s.split![k]))])) as unknown as Split)
    : undefined;
  const kernelTotals = new Map<string, number>();
  for (const s of samples) for (const [k, v] of Object.entries(s.kernelMs ?? {})) kernelTotals.set(k, (kernelTotals.get(k) ?? 0) + v / s.steps.length / samples.length);
  const kernelMsPerStep = kernelTotals.size ? Object.fromEntries([...kernelTotals].sort((a, b) => b[1] - a[1])) : undefined;
  const faults = samples.map((s) => s.pageFaultsPerStep).filter((f): f is number => f !== undefined);
  const arrays = samples.map((s) => s.arraysPerStep).filter((a): a is { reused: number; fresh: number } => a !== undefined);
  const meanOf = (f: (a: { reused: number; fresh: number }) => number): number => arrays.reduce((t, a) => t + f(a), 0) / arrays.length;
  return {
    objective: samples[0].objective,
    impl: samples[0].impl,
    kernelMsPerStep,
    pageFaultsPerStep: faults.length ? faults.reduce((a, b) => a + b, 0) / faults.length : undefined,
    arraysPerStep: arrays.length ? { reused: meanOf((a) => a.reused), fresh: meanOf((a) => a.fresh) } : undefined,
    stateMemory: samples[0].stateMemory,
    ms,
    forwardMs: pick((s) => s.forward),
    backwardMs: pick((s) => s.backward),
    optimizerMs: pick((s) => s.optimizer),
    split,
    tokensPerSecond: tokensPerStep / (ms / 1000),
    peakRssMb: Math.max(...samples.map((s) => s.peakRssMb)),
    samples: steps.length,
  };
}

async function main(): Promise<void> {
  const args = parseArgs();
  if (typeof args.flags.child === 'string') return child(args.flags.child);
  const configName = String(args.flags.config ?? (args.quick ? 'quick' : 'tiny'));
  const config = CONFIGS[configName];
  if (!config) throw new Error(`bench:train: --config must be one of ${Object.keys(CONFIGS).join(', ')}, got ${configName}`);
  const threads = Number(args.flags.threads ?? availableParallelism());
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`bench:train: --threads must be an integer >= 1, got ${String(args.flags.threads)}`);
  const poolFlag = args.flags['pool-mb'];
  const poolMb = poolFlag === undefined ? undefined : Number(poolFlag);
  if (poolMb !== undefined && (typeof poolFlag !== 'string' || !(poolMb >= 0) || !Number.isFinite(poolMb))) {
    throw new Error(`bench:train: --pool-mb must be a number of MB >= 0, got ${poolFlag === true ? "no value" : String(poolFlag)}`);
  }
  const reps = Number(args.flags.reps ?? (configName === 'base' ? 2 : 3));
  const rounds = Number(args.flags.rounds ?? 2);
  const python = String(args.flags.python ?? '/usr/bin/python3');
  const torchLib = typeof args.flags['torch-lib'] === 'string' ? args.flags['torch-lib'] : undefined;
  const torchInfo = args.flags['no-torch'] ? { available: false, why: '--no-torch' } : probeTorch(python);
  const hugePages = String(args.flags.hugepages ?? 'both');
  if (!['both', 'ours', 'none'].includes(hugePages)) throw new Error(`bench:train: --hugepages must be both, ours or none, got '${hugePages}'`);
  const T: typeof TensorModule = await import('../packages/tensor/src/index.js');
  const D: typeof DecoderModule = await import('../packages/enhanced-decoder/src/index.js');
  const loadBefore = loadavg()[0];

  const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
  const batch = makeSpecBatch(T, D, config);
  const samples: Sample[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const objective of ['retromae', 'mlm'] as const) {
        const spec: Spec = { config, objective, threads, reps, byShape: Boolean(args.flags['by-shape']), recycle: !args.flags['no-recycle'], poolMb, batch };
        const specFile = join(dir, `${objective}.json`);
        writeFileSync(specFile, JSON.stringify(spec));
        samples.push(runOurs(specFile, threads, hugePages !== 'none'));
        if (torchInfo.available) {
          const env = torchEnv(threads, torchLib);
          samples.push(runTorch(python, specFile, hugePages === 'both' ? withHugePageMalloc(env) : env));
        }
        console.error(`round ${round + 1}/${rounds} ${objective} done (load ${loadavg()[0].toFixed(2)})`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg()[0];
  const tokensPerStep = config.batch * config.length;
  const rows: Row[] = [];
  for (const objective of ['retromae', 'mlm'] as const) {
    for (const impl of ['ours', 'pytorch'] as const) {
      const mine = samples.filter((s) => s.objective === objective && s.impl === impl);
      if (mine.length) rows.push(toRow(mine, tokensPerStep));
    }
  }
  const ratio = (objective: Objective): number | null => {
    const ours = rows.find((r) => r.objective === objective && r.impl === 'ours');
    const theirs = rows.find((r) => r.objective === objective && r.impl === 'pytorch');
    return ours && theirs ? ours.tokensPerSecond / theirs.tokensPerSecond : null;
  };
  const ratios = { retromae: ratio('retromae'), mlm: ratio('mlm') };

  console.log(
    `Training step, config ${configName} (V=${config.vocab}, H=${config.hidden}, ${config.layers} layers, ${config.heads} heads, I=${config.intermediate}, batch ${config.batch} x ${config.length}), ` +
      `${threads} threads, dropout 0.1, clip 1.0 + AdamW; huge-page malloc: ${hugePages}; cpu buffer pool: ${args.flags['no-recycle'] ? 'off (--no-recycle)' : 'on'}; medians over ${rounds} interleaved rounds; load ${loadBefore.toFixed(2)} -> ${loadAfter.toFixed(2)}\n`,
  );
  const s = (r: Row, k: keyof Split) => (r.split ? fmt(r.split[k]) : '');
  console.log(formatTable(rows, [
    { header: 'objective', value: (r) => r.objective },
    { header: 'impl', value: (r) => r.impl },
    { header: 'step ms', value: (r) => fmt(r.ms) },
    { header: 'forward', value: (r) => fmt(r.forwardMs) },
    { header: 'backward', value: (r) => fmt(r.backwardMs) },
    { header: 'clip+AdamW', value: (r) => fmt(r.optimizerMs) },
    { header: 'gemm', value: (r) => s(r, 'gemm') },
    { header: 'attention', value: (r) => s(r, 'attention') },
    { header: 'kernels', value: (r) => s(r, 'kernels') },
    { header: 'graph', value: (r) => s(r, 'graph') },
    { header: 'tokens/s', value: (r) => fmt(r.tokensPerSecond) },
    { header: 'peak RSS MB', value: (r) => fmt(r.peakRssMb) },
    { header: 'steps', value: (r) => String(r.samples) },
  ]));
  for (const r of rows.filter((x) => x.kernelMsPerStep)) {
    const top = Object.entries(r.kernelMsPerStep!).slice(0, 8).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    console.log(`\n${r.objective} (ours), ms per step by kernel: ${top}${r.pageFaultsPerStep !== undefined ? `; ${fmt(r.pageFaultsPerStep)} minor page faults per step (${fmt((r.pageFaultsPerStep * 4096) / 2 ** 20)} MB of fresh pages)` : ''}${r.arraysPerStep ? `; output arrays per step: ${fmt(r.arraysPerStep.reused)} from the pool, ${fmt(r.arraysPerStep.fresh)} fresh` : ''}${r.stateMemory ? `; AdamW moments in wasm memory: ${fmt(r.stateMemory.residentMb)} MB (${r.stateMemory.fallbacks} could not go there)` : ''}`);
  }
  if (torchInfo.available) {
    const gflops = median(torchBlas.matmul512Gflops);
    console.log(`\nours / PyTorch ${torchInfo.version} (tokens/s, same run): RetroMAE ${fmt(ratios.retromae ?? NaN)}x, MLM ${fmt(ratios.mlm ?? NaN)}x`);
    console.log(`PyTorch's BLAS: ${torchBlas.libraries.join(', ') || '(none found)'}, 512^3 matmul ${fmt(gflops)} GFLOP/s`);
    // The library, not the measured rate, tells a reference BLAS: on a loaded host OpenBLAS can measure low too.
    if (!torchBlas.libraries.some((path) => /openblas|mkl|blis/i.test(path))) {
      console.log('WARNING: PyTorch runs on the reference BLAS here, so its ratio flatters us; give --torch-lib DIR (a dir with OpenBLAS\'s libblas.so.3) or apt-get install libopenblas0-pthread');
    }
  } else {
    console.log(`\nPyTorch not measured: ${torchInfo.why}`);
  }
  if (args.json) {
    writeJson(args.json, { benchmark: 'train-step', config: { name: configName, ...config }, threads, hugePages, recycle: !args.flags['no-recycle'], load: { before: loadBefore, after: loadAfter }, torch: { ...torchInfo, blas: torchBlas.libraries, matmul512Gflops: median(torchBlas.matmul512Gflops) }, rows, ratios });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
