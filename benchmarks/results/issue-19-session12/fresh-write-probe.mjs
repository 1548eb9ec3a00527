/**
 * What a fresh typed array costs on this VM: allocate a base model's gradient-sized arrays
 * (13 x (4 x [768,768] + 2 x [768,3072]) + 2 x [21128,768], 475 MB), write them once (first
 * write: page faults and zeroing), then write them again (touched memory). Six rounds.
 *   node benchmarks/results/issue-19-session12/fresh-write-probe.mjs
 *   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node benchmarks/results/issue-19-session12/fresh-write-probe.mjs
 * Output of both in fresh-write-probe.txt.
 */
const sizes = [];
for (let l = 0; l < 13; l++) sizes.push(589824, 589824, 589824, 589824, 2359296, 2359296);
sizes.push(16226304, 16226304);
const total = sizes.reduce((a, b) => a + b, 0);
const source = new Float32Array(2359296 * 8).fill(1);
function writeAll(arrays) {
  for (const a of arrays) for (let o = 0; o < a.length; o += source.length) a.set(source.subarray(0, Math.min(source.length, a.length - o)), o);
}
for (let round = 0; round < 6; round++) {
  let t = performance.now();
  const fresh = sizes.map((n) => new Float32Array(n));
  const alloc = performance.now() - t;
  t = performance.now();
  writeAll(fresh);
  const first = performance.now() - t;
  t = performance.now();
  writeAll(fresh);
  const second = performance.now() - t;
  console.log(`${((total * 4) / 2 ** 20).toFixed(0)} MB: alloc ${alloc.toFixed(1)} ms, first write ${first.toFixed(1)} ms, second write ${second.toFixed(1)} ms`);
}
