// Probe: CrossEntropy forward and backward on [2048, 8000] logits (the tiny decoder loss), made once
// and reused, per-kernel ms. Run from the repository root after npm run build:
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node benchmarks/results/issue-19-session9/cross-entropy-probe.mjs
import { randn, crossEntropy, fromHostArray, setKernelProfiler, gemmReady } from '@retro/tensor';
await gemmReady?.();
const rows = 2048, classes = 8000;
const times = {};
setKernelProfiler((name, ms) => { (times[name] ??= []).push(ms); });
const logits = randn([rows, classes]).requiresGrad_(true);
const labels = fromHostArray(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes), [rows]);
for (let it = 0; it < 12; it++) {
  logits.zeroGrad?.();
  const loss = crossEntropy(logits, labels);
  loss.backward();
}
const med = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1].toFixed(1); };
console.log(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, `median ${med(v.slice(2))} min ${Math.min(...v.slice(2)).toFixed(1)} max ${Math.max(...v.slice(2)).toFixed(1)}`])));
process.exit(0);
