import { KERNELS } from '../../engine/kernels.js';
import { registerKernel } from '../../engine/engine.js';
import { sizeOf } from '../../shape.js';
import { CPU, floats, output } from './storage.js';

/** The product contract the MatMul kernel needs; the WebAssembly GEMM and the plain loop both meet it. */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  accumulate?: boolean;
}

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

export function registerMatmulKernel(): void {
  registerKernel(CPU, KERNELS.MatMul, ([aInfo, bInfo], attrs) => {
    const transA = attrs.transA as boolean;
    const transB = attrs.transB as boolean;
    const rankA = aInfo.shape.length;
    const rankB = bInfo.shape.length;
    const m = transA ? aInfo.shape[rankA - 1] : aInfo.shape[rankA - 2];
    const k = transA ? aInfo.shape[rankA - 2] : aInfo.shape[rankA - 1];
    const n = transB ? bInfo.shape[rankB - 2] : bInfo.shape[rankB - 1];
    const batchShape = aInfo.shape.slice(0, -2);
    const batch = sizeOf(batchShape);
    const c = new Float32Array(batch * m * n);
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
    return [output(c, [...batchShape, m, n])];
  });
}
