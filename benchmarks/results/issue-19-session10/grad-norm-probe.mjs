// globalGradNorm's loop with one float64 accumulator against four, over 102M floats (a base
// model's gradients): node benchmarks/results/issue-19-session10/grad-norm-probe.mjs
const n = 102e6;
const values = new Float32Array(n);
for (let i = 0; i < n; i++) values[i] = Math.random();
function one(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}
function four(v) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const end4 = v.length - (v.length % 4);
  for (let i = 0; i < end4; i += 4) {
    s0 += v[i] * v[i];
    s1 += v[i + 1] * v[i + 1];
    s2 += v[i + 2] * v[i + 2];
    s3 += v[i + 3] * v[i + 3];
  }
  for (let i = end4; i < v.length; i++) s0 += v[i] * v[i];
  return s0 + s1 + (s2 + s3);
}
for (let round = 0; round < 3; round++) {
  let start = performance.now();
  one(values);
  const oneMs = performance.now() - start;
  start = performance.now();
  four(values);
  console.log(`one accumulator ${oneMs.toFixed(0)} ms, four ${(performance.now() - start).toFixed(0)} ms`);
}
