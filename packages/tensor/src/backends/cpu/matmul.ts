import type { KernelGroup } from '../../engine/kernels.js';
import { sizeOf } from '../../shape.js';
import { CPU, floats, output } from './storage.js';
import { takeFloats } from './buffer-pool.js';
import { simdAddRow, simdKernelsActive } from './simd/index.js';

import type { GemmArgs } from './gemm/index.js';

/** The product contract the MatMul kernel needs; the WebAssembly GEMM and the plain loop both meet it. */
export type { GemmArgs };
export type Gemm = (args: GemmArgs) => void;

/**
 * Plain TypeScript GEMM (i-k-j order so the inner loop streams rows of B and C).
 * The reference and fallback-free baseline the fast kernel is measured against.
 */
export function plainGemm(args: GemmArgs): void {
  const { transA, transB, m, n, k, a, b, c } = args;
  const batch = args.batch ?? 1;
  const strideA = args.strideA ?? m * k;
  const strideB = args.strideB ?? k * n;
  const strideC = args.strideC ?? m * n;
  const row = new Float64Array(n);
  for (let item = 0; item < batch; item++) {
    const offA = item * strideA;
    const offB = item * strideB;
    const offC = item * strideC;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[offA + p * m + i] : a[offA + i * k + p];
        if (aip === 0) continue;
        if (transB) {
          for (let j = 0; j < n; j++) row[j] += aip * b[offB + j * k + p];
        } else {
          const base = offB + p * n;
          for (let j = 0; j < n; j++) row[j] += aip * b[base + j];
        }
      }
      const base = offC + i * n;
      if (args.accumulate) for (let j = 0; j < n; j++) c[base + j] += row[j];
      else for (let j = 0; j < n; j++) c[base + j] = row[j];
    }
  }
}

let activeGemm: Gemm = plainGemm;

/** Chooses the GEMM behind the cpu MatMul kernel (the WebAssembly one once it has loaded). */
export function setCpuGemm(gemm: Gemm): void {
  activeGemm = gemm;
}

export function getCpuGemm(): Gemm {
  return activeGemm;
}

/**
 * c[r, j] = alpha * c[r, j] + bias[j] over `rows` rows of n, in place: the product's epilogue.
 * One pass after the GEMM is cheaper than seeding C with the bias and accumulating, which costs a
 * fill plus a copy of C into wasm memory.
 */
function epilogue(c: Float32Array, rows: number, n: number, alpha: number, bias: Float32Array | null): void {
  if (bias !== null && alpha === 1 && simdKernelsActive()) {
    // The SIMD bias row on every thread: this loop took ~1.8 ns per element, 40-60 ms of a base step.
    simdAddRow(c, bias, c);
    return;
  }
  if (bias === null) {
    for (let i = 0; i < c.length; i++) c[i] *= alpha;
    return;
  }
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    if (alpha === 1) for (let j = 0; j < n; j++) c[base + j] += bias[j];
    else for (let j = 0; j < n; j++) c[base + j] = c[base + j] * alpha + bias[j];
  }
}

export const matmulKernels: KernelGroup = {
  MatMul: ([aInfo, bInfo, biasInfo], attrs) => {
    const transA = attrs.transA as boolean;
    const transB = attrs.transB as boolean;
    const alpha = (attrs.alpha as number | undefined) ?? 1;
    const rankA = aInfo.shape.length;
    const rankB = bInfo.shape.length;
    const m = transA ? aInfo.shape[rankA - 1] : aInfo.shape[rankA - 2];
    const k = transA ? aInfo.shape[rankA - 2] : aInfo.shape[rankA - 1];
    const n = transB ? bInfo.shape[rankB - 2] : bInfo.shape[rankB - 1];
    if (biasInfo && (biasInfo.shape.length !== 1 || biasInfo.shape[0] !== n)) {
      throw new Error(`cpu kernel MatMul: bias must be [${n}] (the output's last dim), got [${biasInfo.shape.join(', ')}]`);
    }
    const batchShape = aInfo.shape.slice(0, -2);
    const batch = sizeOf(batchShape);
    // Every element is written (the GEMM stores C; accumulate is off), so a recycled array does.
    const c = takeFloats(batch * m * n);
    activeGemm({
      transA,
      transB,
      m,
      n,
      k,
      a: floats(aInfo),
      b: floats(bInfo),
      c,
      batch,
      strideA: m * k,
      strideB: rankB === 2 ? 0 : k * n,
      strideC: m * n,
    });
    if (alpha !== 1 || biasInfo) epilogue(c, batch * m, n, alpha, biasInfo ? floats(biasInfo) : null);
    return [output(c, [...batchShape, m, n])];
  },
};
