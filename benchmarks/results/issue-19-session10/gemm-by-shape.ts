/**
 * Every GEMM shape of a base step (batch 4 x 128 = 512 tokens): forward (B transposed, HF weight
 * layout), dX and dW, on our cpu GEMM at the default thread count. Median of 7 after a warm-up.
 *   node --import tsx benchmarks/results/issue-19-session10/gemm-by-shape.ts
 * gemm-by-shape.py runs the same shapes through numpy (OpenBLAS); gemm-by-shape.txt holds one run.
 */
import { gemm, gemmReady, shutdownGemm } from '../../../packages/tensor/src/backends/cpu/gemm/index.js';

const cases: Array<[string, number, number, number, boolean, boolean]> = [
  ['qkvo fwd', 512, 768, 768, false, true], ['qkvo dX', 512, 768, 768, false, false], ['qkvo dW', 768, 512, 768, true, false],
  ['up fwd', 512, 768, 3072, false, true], ['up dX', 512, 3072, 768, false, false], ['up dW', 3072, 512, 768, true, false],
  ['down fwd', 512, 3072, 768, false, true], ['down dX', 512, 768, 3072, false, false], ['down dW', 768, 512, 3072, true, false],
  ['head fwd', 512, 768, 21128, false, true], ['head dX', 512, 21128, 768, false, false], ['head dW', 21128, 512, 768, true, false],
];
const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() - 0.5);

async function main(): Promise<void> {
  await gemmReady();
  for (const [name, m, k, n, transA, transB] of cases) {
    const a = random(m * k);
    const b = random(k * n);
    const c = new Float32Array(m * n);
    gemm({ m, n, k, transA, transB, a, b, c });
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const start = performance.now();
      gemm({ m, n, k, transA, transB, a, b, c });
      times.push(performance.now() - start);
    }
    const ms = times.sort((x, y) => x - y)[3];
    console.log(`${name.padEnd(10)} ${m}x${k}x${n} tA=${+transA} tB=${+transB}  ${ms.toFixed(1)} ms  ${((2 * m * n * k) / ms / 1e6).toFixed(1)} GFLOP/s`);
  }
  shutdownGemm();
}
void main();
