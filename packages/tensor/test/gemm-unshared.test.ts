import { afterAll, describe, expect, it } from 'vitest';

/**
 * The path browsers without cross-origin isolation take: unshared wasm memory, no workers.
 * Vitest runs each test file in its own process, so the env switch set before the import holds.
 */
process.env.RETRO_GEMM_SHARED = '0';
const gemmModule = await import('../src/backends/cpu/gemm/index.js');
const { simdSupported } = await import('../src/backends/cpu/gemm/runtime.js');
const { gemm, gemmInfo, gemmLastRun, setGemmOptions, shutdownGemm } = gemmModule;

afterAll(() => {
  shutdownGemm();
  delete process.env.RETRO_GEMM_SHARED;
});

/** Float64 reference for C[m,n] = A[m,k] B[k,n]. */
function reference(m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

describe('gemm on unshared memory', () => {
  it.skipIf(!simdSupported())('runs single-threaded, grows memory across products and stays correct', () => {
    setGemmOptions({ threads: 2, wasmMinMacs: 0, parallelMinMacs: 0 });
    expect(gemmInfo().threads).toBe(1);
    expect(gemmInfo()).toMatchObject({ workers: 'none', singleThreadReason: expect.stringMatching(/SharedArrayBuffer/) });
    // Growing sizes force memory.grow, which detaches unshared buffers; views must follow.
    for (const [m, k, n] of [
      [3, 5, 7],
      [70, 300, 90],
      [200, 257, 333],
    ]) {
      const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
      const c = new Float32Array(m * n);
      gemm({ transA: false, transB: false, m, n, k, a, b, c });
      expect(gemmLastRun().threads).toBe(1);
      const ref = reference(m, n, k, a, b);
      let err = 0;
      let scale = 0;
      ref.forEach((r, i) => {
        err = Math.max(err, Math.abs(r - c[i]));
        scale = Math.max(scale, Math.abs(r));
      });
      expect(err / scale, `m=${m} k=${k} n=${n}`).toBeLessThan(1e-5);
    }
  });
});
