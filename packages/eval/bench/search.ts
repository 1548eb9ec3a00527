/**
 * Exact cosine top-100 at cmteb-lite retrieval size: 291 queries x 7,456 docs x 256 dims.
 * Run: npx tsx packages/eval/bench/search.ts [dims]
 * Prints the median of 5 runs of cosineTopK beside a naive baseline (one dot loop per pair, full
 * sort per query) in the same process, as wall time and as this process's CPU time (the CPU time is
 * the steadier number on a shared machine).
 */
import { cosineTopK, normalizeRows, type EmbeddingMatrix } from '../src/index.js';

const Q = 291;
const N = 7456;
const D = Number(process.argv[2] ?? 256);
const K = 100;

function random(rows: number, seed: number): EmbeddingMatrix {
  const data = new Float32Array(rows * D);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 4294967296 - 0.5;
  }
  return { data, rows, dim: D };
}

function naive(q: EmbeddingMatrix, c: EmbeddingMatrix): Int32Array[] {
  const qn = normalizeRows(q);
  const cn = normalizeRows(c);
  const out: Int32Array[] = [];
  const scores = new Float64Array(N);
  for (let i = 0; i < Q; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += qn.data[i * D + t]! * cn.data[j * D + t]!;
      scores[j] = s;
    }
    const order = Array.from({ length: N }, (_, j) => j).sort((a, b) => scores[b]! - scores[a]! || a - b);
    out.push(Int32Array.from(order.slice(0, K)));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const queries = random(Q, 1);
const corpus = random(N, 2);
const timesFast: number[] = [];
const timesNaive: number[] = [];
const cpuFast: number[] = [];
const cpuNaive: number[] = [];
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
let fast: Int32Array[] = [];
let slow: Int32Array[] = [];
for (let r = 0; r < 5; r++) {
  let t = performance.now();
  let c = process.cpuUsage();
  fast = cosineTopK(queries, corpus, K).map((h) => h.indices);
  cpuFast.push(cpuMs(process.cpuUsage(c)));
  timesFast.push(performance.now() - t);
  if (r < 2) {
    t = performance.now();
    c = process.cpuUsage();
    slow = naive(queries, corpus);
    cpuNaive.push(cpuMs(process.cpuUsage(c)));
    timesNaive.push(performance.now() - t);
  }
}
const agree = fast.every((f, i) => f.every((x, j) => x === slow[i]![j]));
console.log(`cosineTopK ${Q} x ${N} x ${D}, k=${K}`);
const runs = (xs: number[]) => xs.map((t) => t.toFixed(0)).join(' ');
console.log(`| method | median wall ms | median cpu ms | wall runs (first is cold) |`);
console.log(`| cosineTopK (blocked 4x2, heap top-k) | ${median(timesFast).toFixed(0)} | ${median(cpuFast).toFixed(0)} | ${runs(timesFast)} |`);
console.log(`| naive (dot per pair + full sort) | ${median(timesNaive).toFixed(0)} | ${median(cpuNaive).toFixed(0)} | ${runs(timesNaive)} |`);
console.log(`same top-${K} lists: ${agree}`);
