/**
 * MatMul: [...batch, M, K] x [...batch, K, N] (or a 2-D b shared across the batch), either
 * operand optionally transposed, as one kernel over the output grid [batch, M, N].
 * cpu/webasm compute 4 rows per thread (`[s0..s3]` returns, de-interleaved on the host) with
 * the K loop unrolled by 4: one b load then feeds 4 rows, which roughly doubles wasm SIMD
 * throughput over one output per thread. GL modes compute one output per fragment.
 */
import type { KernelFunc, KernelGroup } from '../../../engine/kernels.js';
import type { GpujsBackend } from '../backend.js';
import { k, type Program } from '../program.js';
import { formatShape, sizeOf } from '../../../shape.js';
import { GpujsStorage } from '../storage.js';
import { activeBackend, expectInputs, out, zerosStorage } from './common.js';

interface MatMulDims {
  batch: number;
  M: number;
  K: number;
  N: number;
  /** Element strides: a(m, k) = a[batch * aB + m * sAM + k * sAK], b(k, n) likewise. */
  aB: number;
  sAM: number;
  sAK: number;
  bB: number;
  sBK: number;
  sBN: number;
  outShape: number[];
}

function matmulDims(aShape: readonly number[], bShape: readonly number[], transA: boolean, transB: boolean): MatMulDims {
  const fail = (why: string): never => {
    throw new Error(`gpujs kernel MatMul: a ${formatShape(aShape)}${transA ? 'ᵀ' : ''} x b ${formatShape(bShape)}${transB ? 'ᵀ' : ''}: ${why}`);
  };
  if (aShape.length < 2 || bShape.length < 2) fail('both operands need at least 2 dims');
  const ar = aShape.length;
  const br = bShape.length;
  const M = transA ? aShape[ar - 1] : aShape[ar - 2];
  const K = transA ? aShape[ar - 2] : aShape[ar - 1];
  const Kb = transB ? bShape[br - 1] : bShape[br - 2];
  const N = transB ? bShape[br - 2] : bShape[br - 1];
  if (K !== Kb) fail(`inner dims differ (${K} vs ${Kb})`);
  const aBatch = aShape.slice(0, ar - 2);
  const bBatch = bShape.slice(0, br - 2);
  let batchShape: readonly number[];
  if (bBatch.length === 0) batchShape = aBatch;
  else if (aBatch.length === 0) batchShape = bBatch;
  else {
    if (aBatch.length !== bBatch.length || aBatch.some((d, i) => d !== bBatch[i])) fail('batch dims differ');
    batchShape = aBatch;
  }
  return {
    batch: sizeOf(batchShape),
    M,
    K,
    N,
    aB: aBatch.length === 0 ? 0 : M * K,
    sAM: transA ? 1 : K,
    sAK: transA ? M : 1,
    bB: bBatch.length === 0 ? 0 : K * N,
    sBK: transB ? 1 : N,
    sBN: transB ? K : 1,
    outShape: [...batchShape, M, N],
  };
}

function setConstants(constants: Record<string, number>, d: MatMulDims): void {
  Object.assign(constants, { M: d.M, K: d.K, N: d.N, AB: d.aB, SAM: d.sAM, SAK: d.sAK, BB: d.bB, SBK: d.sBK, SBN: d.sBN });
}

/** What the product goes through before it is stored: alpha (params p[0]) and a bias row. */
interface Epilogue {
  alpha: boolean;
  bias: boolean;
}

/** The kernel's parameter list: a, b, then bias and p when the epilogue uses them. */
function params(e: Epilogue): string {
  return ['a', 'b', ...(e.bias ? ['bias'] : []), ...(e.alpha ? ['p'] : [])].join(', ');
}

/** `s` scaled by alpha and offset by bias[column], as the epilogue asks. */
function finish(s: string, e: Epilogue, column: string): string {
  const scaled = e.alpha ? `${s} * p[0]` : s;
  return e.bias ? `${scaled} + bias[${column}]` : scaled;
}

function suffix(e: Epilogue): string {
  return `${e.bias ? '+bias' : ''}${e.alpha ? '*alpha' : ''}`;
}

/** One output per thread (GL modes). */
function plainProgram(d: MatMulDims, e: Epilogue): Program {
  return {
    name: `MatMul${suffix(e)}`,
    grid: { x: d.N, y: d.M, z: d.batch },
    source: (cg, constants) => {
      setConstants(constants, d);
      const i = cg.int('i');
      return [
        `function(${params(e)}) {`,
        cg.ids,
        cg.def('ao', `${cg.gz} * ${k('AB')} + ${cg.gy} * ${k('SAM')}`),
        cg.def('bo', `${cg.gz} * ${k('BB')} + ${cg.gx} * ${k('SBN')}`),
        'let s = 0.0;',
        `for (let i = 0; i < ${k('K')}; i++) { s += a[${cg.use('ao')} + ${i} * ${k('SAK')}] * b[${cg.use('bo')} + ${i} * ${k('SBK')}]; }`,
        `return ${finish('s', e, cg.gx)};`,
        '}',
      ].join(' ');
    },
  };
}

/** Four rows (m = 4 * gy + j, clamped to M - 1) per thread, K unrolled by 4 (cpu/webasm). */
function blockedProgram(d: MatMulDims, e: Epilogue): Program {
  const k4 = d.K - (d.K % 4);
  return {
    name: `MatMul/4rows${suffix(e)}`,
    grid: { x: d.N, y: Math.ceil(d.M / 4), z: d.batch },
    vec4: true,
    source: (cg, constants) => {
      setConstants(constants, d);
      constants.K4 = k4;
      constants.LAST = d.M - 1;
      const rows = [0, 1, 2, 3];
      const sak = k('SAK');
      const sbk = k('SBK');
      const lines = [
        `function(${params(e)}) {`,
        cg.ids,
        cg.def('m0', `${cg.gy} * 4`),
        // rows past M read row M-1 (always in bounds); their results are dropped
        ...rows.slice(1).map((j) => cg.def(`m${j}`, `${cg.use('m0')} + ${j} < ${k('M')} ? ${cg.use('m0')} + ${j} : ${k('LAST')}`)),
        ...rows.map((j) => cg.def(`a${j}`, `${cg.gz} * ${k('AB')} + ${cg.use(`m${j}`)} * ${k('SAM')}`)),
        cg.def('bo', `${cg.gz} * ${k('BB')} + ${cg.gx} * ${k('SBN')}`),
        'let s0 = 0.0; let s1 = 0.0; let s2 = 0.0; let s3 = 0.0;',
      ];
      if (k4 > 0) {
        const i = cg.int('i');
        lines.push(
          `for (let i = 0; i < ${k('K4')}; i += 4) {`,
          cg.def('bi', `${cg.use('bo')} + ${i} * ${sbk}`),
          `const b0 = b[${cg.use('bi')}]; const b1 = b[${cg.use('bi')} + ${sbk}]; const b2 = b[${cg.use('bi')} + 2 * ${sbk}]; const b3 = b[${cg.use('bi')} + 3 * ${sbk}];`,
          cg.def('ai', `${i} * ${sak}`),
          ...rows.map((j) => {
            const base = `${cg.use(`a${j}`)} + ${cg.use('ai')}`;
            return `s${j} += a[${base}] * b0 + a[${base} + ${sak}] * b1 + a[${base} + 2 * ${sak}] * b2 + a[${base} + 3 * ${sak}] * b3;`;
          }),
          '}',
        );
      }
      if (k4 < d.K) {
        constants.KT = d.K - k4;
        const t = `(${k('K4')} + ${cg.int('t')})`;
        lines.push(
          `for (let t = 0; t < ${k('KT')}; t++) {`,
          `const bt = b[${cg.use('bo')} + ${t} * ${sbk}];`,
          ...rows.map((j) => `s${j} += a[${cg.use(`a${j}`)} + ${t} * ${sak}] * bt;`),
          '}',
        );
      }
      lines.push(`return [${rows.map((j) => finish(`s${j}`, e, cg.gx)).join(', ')}];`, '}');
      return lines.join(' ');
    },
  };
}

/** raw[((b * MB + yb) * N + n) * 4 + j] -> out[(b * M + 4 * yb + j) * N + n] */
function deinterleave(raw: Float32Array, d: MatMulDims): Float32Array {
  const { batch, M, N } = d;
  const mb = Math.ceil(M / 4);
  const result = new Float32Array(batch * M * N);
  for (let b = 0; b < batch; b++) {
    for (let yb = 0; yb < mb; yb++) {
      const rows = Math.min(4, M - 4 * yb);
      const src = ((b * mb + yb) * N) * 4;
      for (let j = 0; j < rows; j++) {
        const dst = (b * M + 4 * yb + j) * N;
        for (let n = 0; n < N; n++) result[dst + n] = raw[src + n * 4 + j];
      }
    }
  }
  return result;
}

export function matmulStorage(
  backend: GpujsBackend,
  a: GpujsStorage,
  aShape: readonly number[],
  b: GpujsStorage,
  bShape: readonly number[],
  transA: boolean,
  transB: boolean,
  alpha = 1,
  bias: GpujsStorage | null = null,
): { storage: GpujsStorage; shape: number[] } {
  const d = matmulDims(aShape, bShape, transA, transB);
  const size = sizeOf(d.outShape);
  if (size === 0) return { storage: new GpujsStorage(new Float32Array(0), 0), shape: d.outShape };
  if (d.K === 0 && bias === null) return { storage: zerosStorage(backend, size), shape: d.outShape };
  const e: Epilogue = { alpha: alpha !== 1, bias: bias !== null };
  // alpha is an argument, not a constant: it must not recompile the kernel per value
  const args: (GpujsStorage | Float32Array)[] = [a, b, ...(bias ? [bias] : []), ...(e.alpha ? [new Float32Array([alpha])] : [])];
  if (d.K === 0) {
    // an empty product is zero, so the result is the bias rows (bias[gx] read as a broadcast)
    return { storage: backend.run(biasRowsProgram(d), [bias!]), shape: d.outShape };
  }
  if (backend.glStyle) return { storage: backend.run(plainProgram(d, e), args), shape: d.outShape };
  const raw = backend.runRaw(blockedProgram(d, e), args) as Float32Array;
  return { storage: new GpujsStorage(deinterleave(raw, d), size), shape: d.outShape };
}

/** out[.., n] = bias[n] over the output grid (the K = 0 product with a bias). */
function biasRowsProgram(d: MatMulDims): Program {
  return {
    name: 'MatMul/biasRows',
    grid: { x: d.N, y: d.M, z: d.batch },
    source: (cg) => `function(bias) { ${cg.ids} return bias[${cg.gx}]; }`,
  };
}

const matmul: KernelFunc<'MatMul'> = (inputs, attrs) => {
  expectInputs('MatMul', inputs, 2, 3);
  const backend = activeBackend('MatMul');
  const [a, b, bias] = inputs;
  const alpha = attrs.alpha;
  const n = attrs.transB === true ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
    throw new Error(`gpujs kernel MatMul: bias must be [${n}] (the output's last dim), got ${formatShape(bias.shape)}`);
  }
  const { storage, shape } = matmulStorage(
    backend,
    backend.storageOf(a, 'MatMul'),
    a.shape,
    backend.storageOf(b, 'MatMul'),
    b.shape,
    attrs.transA === true,
    attrs.transB === true,
    alpha,
    bias ? backend.storageOf(bias, 'MatMul') : null,
  );
  return [out(backend, storage, shape)];
};

export const matmulKernels: KernelGroup = { MatMul: matmul };
