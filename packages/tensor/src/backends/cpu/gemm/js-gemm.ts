/**
 * Plain-JS GEMM: the path for tiny products (where copying into wasm costs more than the
 * arithmetic) and for hosts without wasm SIMD. Same contract as `gemm` in index.ts.
 */

/**
 * One product C[m,n] (+)= op(A)[m,k] op(B)[k,n] read at the given element offsets.
 * A is [m,k] ([k,m] when transA), B is [k,n] ([n,k] when transB), C is [m,n]; all row-major.
 */
export function jsGemmOne(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  accumulate: boolean,
): void {
  // Strides of op(A)[i, p] and op(B)[p, j] in the stored arrays.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  if (transB) {
    // B rows are contiguous along p: dot products keep both reads sequential.
    for (let i = 0; i < m; i++) {
      const ai = aOff + i * aRow;
      for (let j = 0; j < n; j++) {
        const bj = bOff + j * k;
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[ai + p * aCol] * b[bj + p];
        const ci = cOff + i * n + j;
        c[ci] = accumulate ? c[ci] + sum : sum;
      }
    }
    return;
  }
  // i-p-j order: the inner loop streams a row of B into a row of C.
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    if (!accumulate) c.fill(0, ci, ci + n);
    const ai = aOff + i * aRow;
    for (let p = 0; p < k; p++) {
      const aip = a[ai + p * aCol];
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
}
