// Probe: time to allocate a fresh 65 MB Float32Array ([2048, 8000], the tiny decoder's logits), to fill it
// the first time (page faults) and to fill it again. Run: GLIBC_TUNABLES=glibc.malloc.hugetlb=1|0 node first-touch.mjs
const n = 2048 * 8000;
const src = new Float32Array(n).fill(1);
for (let it = 0; it < 6; it++) {
  let t = performance.now();
  const out = new Float32Array(n);
  const ta = performance.now() - t;
  t = performance.now();
  out.set(src);
  const tc = performance.now() - t;
  t = performance.now();
  out.set(src);
  const tc2 = performance.now() - t;
  console.log(`alloc ${ta.toFixed(1)} first copy (faults) ${tc.toFixed(1)} second copy ${tc2.toFixed(1)}`);
}
