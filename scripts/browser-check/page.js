/**
 * Runs inside Chromium (served by run.mjs): checks @retro/tensor's backends against float64
 * references computed here, compares one MLP backward step across backends, and times square
 * matmuls. Reports go back to run.mjs by POST (/log while running, /result at the end), so the
 * runner needs no browser-automation library.
 */
import * as T from './tensor.js';

const params = new URLSearchParams(location.search);
const wanted = (params.get('backends') ?? 'cpu,gpujs-webgl2,gpujs-webgl,gpujs-webasm,gpujs-cpu,gpujs').split(',');
const sizes = (params.get('sizes') ?? '256,512').split(',').map(Number);

function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
function log(line) {
  return post('log', { line });
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const message = (error) => (error instanceof Error ? `${error.message}` : String(error));
const stackOf = (error) => (error instanceof Error && error.stack ? error.stack.split('\n').slice(0, 6).join('\n') : '');

// ------------------------------------------------------------------ float64 references

/** Mulberry32: deterministic inputs, identical on every backend. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** n standard-normal float32 values (Box-Muller). */
function normals(n, seed, std = 1) {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** erf by its Maclaurin series (|x| <= 5; double precision is ample there), else +-1. */
function erf(x) {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const gelu64 = (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluGrad64 = (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

/** C[m,n] = op(A) op(B); A stored [k,m] when ta, B stored [n,k] when tb. */
function matmul64(a, b, m, k, n, ta, tb) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Largest |got - want| and whether every element is within atol + rtol * |want|. */
function compare(got, want, atol, rtol) {
  if (got.length !== want.length) return { maxErr: Infinity, pass: false, note: `length ${got.length} vs ${want.length}` };
  let maxErr = 0;
  let worst = 0;
  let pass = true;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= atol + rtol * Math.abs(want[i]))) pass = false;
    if (!(err <= maxErr)) {
      maxErr = err;
      worst = i;
    }
  }
  return { maxErr, pass, note: pass ? '' : `worst at ${worst}: got ${got[worst]}, want ${want[worst]}` };
}

// ------------------------------------------------------------------ checks

const ATOL = 2e-5;
const RTOL = 2e-5;

function checkMatmul(ta, tb) {
  const [m, k, n] = [64, 96, 80];
  const a = normals(m * k, 11);
  const b = normals(k * n, 12);
  const want = matmul64(a, b, m, k, n, ta, tb);
  const got = T.matmul(T.tensor(a, ta ? [k, m] : [m, k]), T.tensor(b, tb ? [n, k] : [k, n]), { transA: ta, transB: tb });
  if (got.shape.join() !== `${m},${n}`) throw new Error(`shape [${got.shape}] != [${m},${n}]`);
  return compare(got.toFloat32Array(), want, 1e-4, 1e-4);
}

function checkAddBroadcast() {
  // [4,1,6] + [3,1] -> [4,3,6]
  const a = normals(24, 21);
  const b = normals(3, 22);
  const want = new Float64Array(72);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) for (let l = 0; l < 6; l++) want[(i * 3 + j) * 6 + l] = a[i * 6 + l] + b[j];
  const got = T.add(T.tensor(a, [4, 1, 6]), T.tensor(b, [3, 1]));
  if (got.shape.join() !== '4,3,6') throw new Error(`shape [${got.shape}] != [4,3,6]`);
  return compare(got.toFloat32Array(), want, ATOL, RTOL);
}

function checkSoftmaxMask() {
  // x [2,3,5,7], additive mask [2,1,1,7]: batch 0 masks key 6, batch 1 masks keys 0 and 3
  const [B, H, Q, K] = [2, 3, 5, 7];
  const x = normals(B * H * Q * K, 31, 3);
  const mask = new Float32Array(B * K);
  mask[6] = T.MASK_MIN;
  mask[K + 0] = T.MASK_MIN;
  mask[K + 3] = T.MASK_MIN;
  const want = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < H * Q; r++) {
      const row = (b * H * Q + r) * K;
      let mx = -Infinity;
      const v = [];
      for (let j = 0; j < K; j++) {
        v.push(x[row + j] + mask[b * K + j]);
        mx = Math.max(mx, v[j]);
      }
      let s = 0;
      for (let j = 0; j < K; j++) s += Math.exp(v[j] - mx);
      for (let j = 0; j < K; j++) want[row + j] = Math.exp(v[j] - mx) / s;
    }
  }
  const got = T.softmax(T.tensor(x, [B, H, Q, K]), T.tensor(mask, [B, 1, 1, K]));
  return compare(got.toFloat32Array(), want, ATOL, RTOL);
}

function checkLayerNorm() {
  const [R, Hd] = [6, 48];
  const x = normals(R * Hd, 41, 2);
  const g = normals(Hd, 42);
  const bt = normals(Hd, 43);
  const eps = 1e-5;
  const want = new Float64Array(R * Hd);
  for (let r = 0; r < R; r++) {
    let mu = 0;
    for (let j = 0; j < Hd; j++) mu += x[r * Hd + j];
    mu /= Hd;
    let v = 0;
    for (let j = 0; j < Hd; j++) v += (x[r * Hd + j] - mu) ** 2;
    v /= Hd;
    for (let j = 0; j < Hd; j++) want[r * Hd + j] = ((x[r * Hd + j] - mu) / Math.sqrt(v + eps)) * g[j] + bt[j];
  }
  const got = T.layerNorm(T.tensor(x, [R, Hd]), T.tensor(g, [Hd]), T.tensor(bt, [Hd]), eps);
  return compare(got.toFloat32Array(), want, 1e-4, 1e-4);
}

function checkGelu() {
  const x = normals(257, 51, 3);
  const want = Float64Array.from(x, gelu64);
  return compare(T.gelu(T.tensor(x, [257])).toFloat32Array(), want, ATOL, RTOL);
}

function crossEntropy64(logits, labels, N, C) {
  let total = 0;
  let count = 0;
  for (let i = 0; i < N; i++) {
    if (labels[i] === -100) continue;
    let mx = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, logits[i * C + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(logits[i * C + j] - mx);
    total += mx + Math.log(s) - logits[i * C + labels[i]];
    count++;
  }
  return total / count;
}

function checkCrossEntropy() {
  const [N, C] = [10, 7];
  const logits = normals(N * C, 61, 2);
  const labels = Int32Array.from([0, 3, -100, 6, 2, 2, -100, 5, 1, 4]);
  const want = crossEntropy64(logits, labels, N, C);
  const got = T.crossEntropy(T.tensor(logits, [N, C]), T.tensor(labels, [N]));
  return compare([got.item()], [want], ATOL, RTOL);
}

// Beyond the brief's list: shapes that exercise the GL-only code paths (outputs wider than a
// texture side, batched products, strided layouts, int32 ids carried in float textures).

function checkAddWide() {
  // [3, 40000] + [40000]: 120000 outputs, wider than any texture side (8192 on SwiftShader)
  const [R, W] = [3, 40000];
  const a = normals(R * W, 91);
  const b = normals(W, 92);
  const want = Float64Array.from(a, (v, i) => v + b[i % W]);
  return compare(T.add(T.tensor(a, [R, W]), T.tensor(b, [W])).toFloat32Array(), want, ATOL, RTOL);
}

function checkSumAxis0() {
  const [R, W] = [37, 300];
  const x = normals(R * W, 93);
  const want = new Float64Array(W);
  for (let i = 0; i < R; i++) for (let j = 0; j < W; j++) want[j] += x[i * W + j];
  return compare(T.sum(T.tensor(x, [R, W]), 0).toFloat32Array(), want, 1e-5, 1e-5);
}

function checkBatchedMatmul() {
  // a [4,33,47] x b [4,29,47]^T -> [4,33,29]
  const [Bt, m, k, n] = [4, 33, 47, 29];
  const a = normals(Bt * m * k, 94);
  const b = normals(Bt * n * k, 95);
  const want = new Float64Array(Bt * m * n);
  for (let i = 0; i < Bt; i++) {
    want.set(matmul64(a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * n * k, (i + 1) * n * k), m, k, n, false, true), i * m * n);
  }
  const got = T.matmul(T.tensor(a, [Bt, m, k]), T.tensor(b, [Bt, n, k]), { transB: true });
  return compare(got.toFloat32Array(), want, 1e-4, 1e-4);
}

function checkPermute() {
  // x [2,3,4,5] permuted [3,1,0,2] -> [5,3,2,4], times 2
  const dims = [2, 3, 4, 5];
  const x = normals(120, 96);
  const want = new Float64Array(120);
  let o = 0;
  for (let d3 = 0; d3 < 5; d3++) for (let d1 = 0; d1 < 3; d1++) for (let d0 = 0; d0 < 2; d0++) for (let d2 = 0; d2 < 4; d2++) {
    want[o++] = 2 * x[((d0 * dims[1] + d1) * dims[2] + d2) * dims[3] + d3];
  }
  return compare(T.mul(T.permute(T.tensor(x, dims), [3, 1, 0, 2]), 2).toFloat32Array(), want, ATOL, RTOL);
}

function checkEmbedding() {
  const [V, Hd] = [50, 16];
  const w = normals(V * Hd, 97);
  const ids = Int32Array.from([0, 49, 7, 7, 23, 1, 48, 12, 3, 30, 0, 41, 9, 16, 33, 2, 8, 44, 21, 5, 37]);
  const want = new Float64Array(ids.length * Hd);
  ids.forEach((id, i) => want.set(w.subarray(id * Hd, (id + 1) * Hd), i * Hd));
  return compare(T.embedding(T.tensor(w, [V, Hd]), T.tensor(ids, [3, 7])).toFloat32Array(), want, 0, 0);
}

// ------------------------------------------------------------------ one MLP backward step

const MLP = { N: 8, D: 16, Hd: 32, C: 5 };
function mlpInputs() {
  const { N, D, Hd, C } = MLP;
  return {
    x: normals(N * D, 71),
    w1: normals(D * Hd, 72, 0.3),
    b1: normals(Hd, 73, 0.1),
    w2: normals(Hd * C, 74, 0.3),
    b2: normals(C, 75, 0.1),
    labels: Int32Array.from([0, 4, 2, -100, 1, 3, 3, 0]),
  };
}

/** loss = CE(gelu(x W1 + b1) W2 + b2, labels); float64 forward and hand-derived backward. */
function mlp64() {
  const { N, D, Hd, C } = MLP;
  const p = mlpInputs();
  const pre = matmul64(p.x, p.w1, N, D, Hd, false, false);
  for (let i = 0; i < N; i++) for (let j = 0; j < Hd; j++) pre[i * Hd + j] += p.b1[j];
  const h = pre.map(gelu64);
  const logits = matmul64(h, p.w2, N, Hd, C, false, false);
  for (let i = 0; i < N; i++) for (let j = 0; j < C; j++) logits[i * C + j] += p.b2[j];
  const loss = crossEntropy64(logits, p.labels, N, C);
  const counted = [...p.labels].filter((l) => l !== -100).length;
  const dLogits = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    if (p.labels[i] === -100) continue;
    let mx = -Infinity;
    for (let j = 0; j < C; j++) mx = Math.max(mx, logits[i * C + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(logits[i * C + j] - mx);
    for (let j = 0; j < C; j++) dLogits[i * C + j] = (Math.exp(logits[i * C + j] - mx) / s - (j === p.labels[i] ? 1 : 0)) / counted;
  }
  const dW2 = matmul64(h, dLogits, Hd, N, C, true, false);
  const db2 = new Float64Array(C);
  for (let i = 0; i < N; i++) for (let j = 0; j < C; j++) db2[j] += dLogits[i * C + j];
  const dH = matmul64(dLogits, p.w2, N, C, Hd, false, true);
  const dPre = dH.map((g, i) => g * geluGrad64(pre[i]));
  const dW1 = matmul64(p.x, dPre, D, N, Hd, true, false);
  const db1 = new Float64Array(Hd);
  for (let i = 0; i < N; i++) for (let j = 0; j < Hd; j++) db1[j] += dPre[i * Hd + j];
  return { loss, w1: dW1, b1: db1, w2: dW2, b2: db2 };
}

function mlpBackend() {
  const { N, D, Hd, C } = MLP;
  const p = mlpInputs();
  const w1 = T.tensor(p.w1, [D, Hd], { requiresGrad: true });
  const b1 = T.tensor(p.b1, [Hd], { requiresGrad: true });
  const w2 = T.tensor(p.w2, [Hd, C], { requiresGrad: true });
  const b2 = T.tensor(p.b2, [C], { requiresGrad: true });
  const h = T.gelu(T.add(T.matmul(T.tensor(p.x, [N, D]), w1), b1));
  const loss = T.crossEntropy(T.add(T.matmul(h, w2), b2), T.tensor(p.labels, [N]));
  loss.backward();
  const grads = {};
  for (const [name, t] of Object.entries({ w1, b1, w2, b2 })) {
    if (!t.grad) throw new Error(`no gradient for ${name}`);
    grads[name] = Float32Array.from(t.grad.toFloat32Array());
  }
  return { loss: loss.item(), ...grads };
}

// ------------------------------------------------------------------ timing

/** GFLOP/s of an n^3 matmul including the readback (GL work only finishes when read). */
function timeMatmul(n) {
  const a = T.tensor(normals(n * n, 81), [n, n]);
  const b = T.tensor(normals(n * n, 82), [n, n]);
  const t0 = performance.now();
  T.matmul(a, b).toFloat32Array(); // compiles / warms up
  const firstMs = performance.now() - t0;
  const times = [];
  const budgetMs = 1500;
  const start = performance.now();
  while (times.length < 5 && (times.length < 1 || performance.now() - start < budgetMs)) {
    const s = performance.now();
    T.matmul(a, b).toFloat32Array();
    times.push(performance.now() - s);
  }
  times.sort((x, y) => x - y);
  const ms = times[0];
  return { n, firstMs, bestMs: ms, runs: times.length, gflops: (2 * n ** 3) / (ms * 1e6) };
}

// ------------------------------------------------------------------ cpu threads

/**
 * The cpu backend's helper threads: the same matmul, softmax, layerNorm, gelu and cross-entropy
 * (forward + backward) at 1 thread and at 2..max(3, cores) threads must give the same bits. Every
 * product and row job is made parallel (thresholds 0). Reports who ran the GEMM's items.
 */
async function checkCpuThreads() {
  const info = T.gemmInfo();
  const out = { workers: info.workers, singleThreadReason: info.singleThreadReason ?? null, runs: [], pass: true, differing: 0 };
  const compute = () => {
    const [m, k, n] = [192, 256, 320];
    const a = T.tensor(normals(m * k, 61), [m, k], { requiresGrad: true });
    const b = T.tensor(normals(k * n, 62, 0.05), [k, n], { requiresGrad: true });
    const h = T.matmul(a, b);
    const lastRun = T.gemmLastRun();
    const g = T.tensor(normals(n, 63), [n], { requiresGrad: true });
    const beta = T.tensor(normals(n, 64), [n], { requiresGrad: true });
    const y = T.gelu(T.layerNorm(h, g, beta, 1e-12));
    const p = T.softmax(T.reshape(y, [m, 4, n / 4]));
    const labels = T.tensor(Int32Array.from({ length: m }, (_, i) => (i * 37) % n), [m]);
    const loss = T.add(T.crossEntropy(y, labels), T.mean(p));
    loss.backward();
    const parts = [h, y, p, loss, a.grad, b.grad, g.grad, beta.grad].map((t) => t.toFloat32Array());
    const all = new Float32Array(parts.reduce((x, t) => x + t.length, 0));
    let at = 0;
    for (const t of parts) {
      all.set(t, at);
      at += t.length;
    }
    return { bits: new Uint32Array(all.buffer), lastRun };
  };
  const maxThreads = Math.max(3, navigator.hardwareConcurrency || 1);
  let reference;
  for (const threads of [1, 2, maxThreads]) {
    T.setGemmOptions({ threads, parallelMinMacs: 0 });
    let ready = threads;
    try {
      ready = await T.gemmReady();
    } catch (error) {
      out.pass = false;
      out.error = message(error);
      break;
    }
    const { bits, lastRun } = compute();
    let differing = 0;
    if (!reference) reference = bits;
    else for (let i = 0; i < bits.length; i++) if (bits[i] !== reference[i]) differing++;
    out.runs.push({ threads, ready, used: lastRun.threads, items: lastRun.items, workerItems: lastRun.items - lastRun.callerItems, differing });
    out.differing += differing;
    await tick();
  }
  T.setGemmOptions({ threads: navigator.hardwareConcurrency || 1, parallelMinMacs: 1 << 21 });
  out.pass = out.pass && out.differing === 0;
  return out;
}

// ------------------------------------------------------------------ driver

async function runBackend(name, reference) {
  const report = { name, started: false, startError: null, info: null, checks: [], grads: null, timings: [] };
  await log(`[${name}] starting`);
  try {
    T.setBackend(name);
    report.started = true;
  } catch (error) {
    report.startError = message(error);
    await log(`[${name}] did not start: ${report.startError}`);
    return report;
  }
  const info = () => (name === 'cpu' ? { gemm: T.gemmInfo(), kernels: T.cpuKernelInfo() } : T.gpujsInfo(name));
  try {
    report.info = info();
  } catch (error) {
    report.info = { error: message(error) };
  }
  const checks = [
    ...[[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) => [
      `matmul 64x96x80${ta ? ' transA' : ''}${tb ? ' transB' : ''}`,
      () => checkMatmul(ta, tb),
    ]),
    ['add broadcast [4,1,6]+[3,1]', checkAddBroadcast],
    ['softmax [2,3,5,7] mask [2,1,1,7]', checkSoftmaxMask],
    ['layerNorm [6,48]', checkLayerNorm],
    ['gelu [257]', checkGelu],
    ['crossEntropy [10,7] ignore -100', checkCrossEntropy],
    ['extra: add wide [3,40000]+[40000]', checkAddWide],
    ['extra: sum [37,300] axis 0', checkSumAxis0],
    ['extra: matmul [4,33,47]x[4,29,47]^T', checkBatchedMatmul],
    ['extra: permute [2,3,4,5] [3,1,0,2]', checkPermute],
    ['extra: embedding [50,16] ids [3,7]', checkEmbedding],
  ];
  for (const [check, fn] of checks) {
    const t0 = performance.now();
    let row;
    try {
      row = { check, ...fn() };
    } catch (error) {
      row = { check, pass: false, maxErr: null, error: message(error), stack: stackOf(error) };
    }
    row.ms = performance.now() - t0;
    report.checks.push(row);
    await log(`[${name}] ${check}: ${row.error ? `ERROR ${row.error}` : `${row.pass ? 'ok' : 'FAIL'} maxErr ${row.maxErr?.toExponential(2)}`}`);
    await tick();
  }
  // backward: against float64 and against the cpu backend's gradients
  try {
    const got = mlpBackend();
    const rows = [];
    for (const key of ['loss', 'w1', 'b1', 'w2', 'b2']) {
      const g = key === 'loss' ? [got.loss] : got[key];
      const r64 = key === 'loss' ? [reference.f64.loss] : reference.f64[key];
      const vs64 = compare(g, r64, 1e-4, 1e-4);
      const row = { check: `mlp backward ${key}`, ...vs64 };
      if (reference.cpu && name !== 'cpu') {
        const rc = key === 'loss' ? [reference.cpu.loss] : reference.cpu[key];
        const vsCpu = compare(g, rc, 1e-4, 1e-4);
        row.maxErrVsCpu = vsCpu.maxErr;
        row.pass = row.pass && vsCpu.pass;
      }
      rows.push(row);
    }
    report.checks.push(...rows);
    if (name === 'cpu') reference.cpu = got;
    await log(`[${name}] mlp backward: ${rows.every((r) => r.pass) ? 'ok' : 'FAIL'}`);
  } catch (error) {
    report.checks.push({ check: 'mlp backward', pass: false, maxErr: null, error: message(error), stack: stackOf(error) });
    await log(`[${name}] mlp backward: ERROR ${message(error)}`);
  }
  if (name === 'cpu') {
    try {
      report.threads = await checkCpuThreads();
    } catch (error) {
      report.threads = { pass: false, error: message(error), stack: stackOf(error) };
    }
    await log(`[cpu] threads: ${JSON.stringify(report.threads)}`);
  }
  for (const n of sizes) {
    await tick();
    try {
      const t = timeMatmul(n);
      if (name === 'cpu') t.threads = T.gemmInfo().threads;
      report.timings.push(t);
      await log(`[${name}] matmul ${n}^3: ${t.gflops.toFixed(2)} GFLOP/s (best of ${t.runs}, first ${t.firstMs.toFixed(0)} ms)`);
    } catch (error) {
      report.timings.push({ n, error: message(error) });
      await log(`[${name}] matmul ${n}^3: ERROR ${message(error)}`);
    }
  }
  try {
    report.info = info();
  } catch {}
  return report;
}

function environment() {
  const env = {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    worker: typeof Worker === 'function',
  };
  for (const kind of ['webgl2', 'webgl']) {
    try {
      const gl = document.createElement('canvas').getContext(kind);
      if (!gl) {
        env[kind] = null;
        continue;
      }
      const dbg = gl.getExtension('WEBGL_debug_renderer_info');
      env[kind] = {
        renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
        version: gl.getParameter(gl.VERSION),
        maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE),
        colorBufferFloat: !!gl.getExtension(kind === 'webgl2' ? 'EXT_color_buffer_float' : 'WEBGL_color_buffer_float'),
        textureFloat: kind === 'webgl2' ? true : !!gl.getExtension('OES_texture_float'),
      };
    } catch (error) {
      env[kind] = { error: message(error) };
    }
  }
  return env;
}

async function main() {
  const result = { env: environment(), modes: null, backends: [] };
  await log(`env: ${JSON.stringify(result.env)}`);
  for (const mode of ['webgl2', 'webgl', 'webasm', 'cpu']) T.registerGpujsBackend({ name: `gpujs-${mode}`, mode });
  try {
    result.modes = T.probeGpujsModes();
  } catch (error) {
    result.modes = { error: message(error) };
  }
  const reference = { f64: mlp64(), cpu: null };
  // cpu first: its gradients are the cross-backend reference
  const order = ['cpu', ...wanted.filter((b) => b !== 'cpu')];
  for (const name of order) {
    if (!wanted.includes(name)) continue;
    result.backends.push(await runBackend(name, reference));
  }
  await post('result', result);
}

addEventListener('error', (event) => post('result', { fatal: `${event.message} at ${event.filename}:${event.lineno}` }));
addEventListener('unhandledrejection', (event) => post('result', { fatal: `unhandled rejection: ${message(event.reason)}`, stack: stackOf(event.reason) }));
main().catch((error) => post('result', { fatal: message(error), stack: stackOf(error) }));
