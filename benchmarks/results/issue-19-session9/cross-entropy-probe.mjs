// Probe: CrossEntropy forward and backward on [2048, 8000] logits (the tiny decoder loss), per-kernel ms.
// Run from the repository root after npm run build: node benchmarks/results/issue-19-session9/cross-entropy-probe.mjs
import { randn, crossEntropy, fromHostArray, setKernelProfiler, gemmReady } from '@retro/tensor';
await gemmReady?.();
const rows = 2048, classes = 8000;
const times = {};
setKernelProfiler((name, ms) => { (times[name] ??= []).push(ms); });
for (let it = 0; it < 6; it++) {
  const logits = randn([rows, classes]).requiresGrad_(true);
  const labels = fromHostArray(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes), [rows]);
  const t = performance.now();
  const loss = crossEntropy(logits, labels);
  loss.backward();
  const dt = performance.now() - t;
  if (it >= 2) console.log(`total ${dt.toFixed(0)} ms`, Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.at(-1)?.toFixed?.(1) ?? v.at(-1)])));
}
process.exit(0);
