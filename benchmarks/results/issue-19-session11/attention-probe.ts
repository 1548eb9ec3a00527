/**
 * One base layer's cpu FusedAttention and FusedAttentionGrad calls ([4, 128, 768], 12 heads,
 * padding mask, dropout 0.1), run directly on the kernels; median of N after 10 warm-up calls.
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --import tsx benchmarks/results/issue-19-session11/attention-probe.ts 40
 * Run it from two trees back to back to compare kernel versions; attention-probe.txt holds such runs.
 */
import { attentionKernels } from '../../../packages/tensor/src/backends/cpu/attention.js';
import { output } from '../../../packages/tensor/src/backends/cpu/storage.js';
import { gemmReady, shutdownGemm } from '../../../packages/tensor/src/backends/cpu/gemm/index.js';
import { registerCpuBackend } from '../../../packages/tensor/src/backends/cpu/index.js';
import type { KernelAttrMap } from '../../../packages/tensor/src/engine/kernels.js';

async function main(): Promise<void> {
  registerCpuBackend();
  await gemmReady();
  const [B, L, H, heads] = [4, 128, 768, 12];
  const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const [q, k, v, dy] = [0, 1, 2, 3].map(() => output(random(B * L * H), [B, L, H]));
  const mask = output(new Float32Array(B * L), [B, 1, 1, L]);
  const attrs = { heads, scale: 0.125, p: 0.1, seed: 7 } as KernelAttrMap['FusedAttention'];
  const reps = Number(process.argv[2] ?? 40);
  const forward: number[] = [];
  const backward: number[] = [];
  for (let r = 0; r < reps + 10; r++) {
    const t0 = performance.now();
    attentionKernels.FusedAttention!([q, k, v, mask], attrs);
    const t1 = performance.now();
    attentionKernels.FusedAttentionGrad!([q, k, v, dy, mask], attrs);
    const t2 = performance.now();
    if (r >= 10) {
      forward.push(t1 - t0);
      backward.push(t2 - t1);
    }
  }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  const [f, b] = [median(forward), median(backward)];
  console.log(`FusedAttention ${f.toFixed(2)} ms, FusedAttentionGrad ${b.toFixed(2)} ms (x12 layers: ${(12 * (f + b)).toFixed(0)} ms)`);
  shutdownGemm();
}
void main();
