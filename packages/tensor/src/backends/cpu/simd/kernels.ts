/**
 * Host side of the SIMD kernels: same contracts as the plain-JS kernels in ../nn.ts and
 * ../activations.ts, on typed arrays. Each call allocates only its outputs; inputs move through
 * the shared wasm arena in chunks of about CHUNK elements per operand (64 KiB, so every operand
 * of a chunk stays in L2 while the kernel makes its passes), and results are copied out once.
 */
import { broadcastStrides } from '../../../shape.js';
import { regions, simdArena } from './runtime.js';

/** Elements per operand per chunk; rows kernels take max(1, CHUNK / cols) rows. */
const CHUNK = 1 << 14;

const pad4 = (n: number): number => (n + 3) & ~3;
const rowsPerChunk = (cols: number): number => Math.max(1, Math.floor(CHUNK / cols));

/**
 * The chunk loop every same-length elementwise kernel shares: inputs (all of x's length) are
 * copied chunk by chunk into their arena regions, `run(pointers, length, start)` transforms them
 * (lengths padded to 4 lanes), and the region of input `outputIndex` is read back as the result.
 */
function elementwiseInChunks(
  kernel: string,
  inputs: readonly Float32Array[],
  outputIndex: number,
  run: (pointers: readonly number[], paddedLength: number, start: number) => void,
): Float32Array {
  const n = inputs[0]!.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  const chunk = Math.min(n, CHUNK);
  const { at, total } = regions(inputs.map(() => pad4(chunk) * 4));
  const arena = simdArena();
  arena.reserve(total, kernel);
  const heap = arena.f32;
  const result = at[outputIndex]! >> 2;
  for (let s = 0; s < n; s += chunk) {
    const len = Math.min(chunk, n - s);
    inputs.forEach((input, i) => heap.set(input.subarray(s, s + len), at[i]! >> 2));
    run(at, pad4(len), s);
    out.set(heap.subarray(result, result + len), s);
  }
  return out;
}

/** [x] -> gelu(x), exact-erf GELU, elementwise. */
export function simdGelu(x: Float32Array): Float32Array {
  return elementwiseInChunks('Gelu', [x], 0, ([px], len) => simdArena().kernels.gelu(px!, px!, len));
}

/**
 * [x] -> x * mask, the Dropout kernel's mask (engine/dropout-mask.ts) hashed four lanes at a
 * time; `threshold` floor(p 2^32) and `scale` fround(1/(1-p)) as the contract defines them.
 */
export function simdDropout(x: Float32Array, threshold: number, scale: number, seed: number): Float32Array {
  // The hash's element index is start + i: chunks continue the one sequence.
  return elementwiseInChunks('Dropout', [x], 0, ([px], len, start) => simdArena().kernels.dropout(px!, len, start | 0, seed | 0, threshold | 0, scale));
}

/** [x, y] of the same length -> x + y. */
export function simdAdd(x: Float32Array, y: Float32Array): Float32Array {
  // add_rows with one row of the padded length: the padding lanes add garbage nobody reads
  return elementwiseInChunks('Add', [x, y], 0, ([px, py], len) => simdArena().kernels.add_rows(px!, py!, 1, len));
}

/** x [R, C] + row [C] on every row -> [R, C] (a bias row). */
export function simdAddRow(x: Float32Array, row: Float32Array): Float32Array {
  const cols = row.length;
  const rows = cols === 0 ? 0 : x.length / cols;
  const out = new Float32Array(x.length);
  if (rows === 0) return out;
  const perChunk = Math.min(rows, rowsPerChunk(cols));
  const {
    at: [px, pr],
    total,
  } = regions([perChunk * cols * 4, cols * 4]);
  const arena = simdArena();
  arena.reserve(total, 'Add');
  const heap = arena.f32;
  heap.set(row, pr >> 2);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * cols;
    const len = count * cols;
    heap.set(x.subarray(s, s + len), px >> 2);
    arena.kernels.add_rows(px, pr, count, cols);
    out.set(heap.subarray(px >> 2, (px >> 2) + len), s);
  }
  return out;
}

/** [x, dy] (same length) -> dy * gelu'(x), elementwise. */
export function simdGeluGrad(x: Float32Array, dy: Float32Array): Float32Array {
  return elementwiseInChunks('GeluGrad', [x, dy], 1, ([px, pdy], len) => simdArena().kernels.gelu_grad(px!, pdy!, len));
}

/**
 * x [..., C] (shape rank >= 1), optional additive mask broadcasting to x -> softmax over the
 * last axis of float32(x + mask). Row r of x reads the mask at element offset
 * sum_d idx_d(r) * stride_d (broadcast strides of the leading dims); the mask's last axis is
 * either C (a mask row) or 1 (one value per row).
 */
export function simdSoftmax(
  x: Float32Array,
  shape: readonly number[],
  mask?: Float32Array,
  maskShape?: readonly number[],
): Float32Array {
  const cols = shape[shape.length - 1];
  const rows = cols === 0 ? 0 : x.length / cols;
  const out = new Float32Array(x.length);
  if (rows === 0) return out;
  const perChunk = Math.min(rows, rowsPerChunk(cols));
  const {
    at: [px, poffs, pmask],
    total,
  } = regions([perChunk * cols * 4, perChunk * 4, mask ? mask.length * 4 : 0]);
  const arena = simdArena();
  arena.reserve(total, 'Softmax');
  const heap = arena.f32;
  const offs = arena.i32;
  const kernels = arena.kernels;
  let run = kernels.softmax_none;
  // Leading-dim index of the next row and its mask offset, advanced odometer-style.
  const lead = shape.length - 1;
  const idx = new Array<number>(lead).fill(0);
  let strides: number[] = [];
  let offset = 0;
  if (mask && maskShape) {
    strides = broadcastStrides(maskShape, shape);
    run = strides[lead] === 0 ? kernels.softmax_scalar : kernels.softmax_row;
    heap.set(mask, pmask >> 2);
  }
  const x0 = px >> 2;
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    if (mask) {
      for (let k = 0; k < count; k++) {
        offs[(poffs >> 2) + k] = offset;
        for (let d = lead - 1; d >= 0; d--) {
          offset += strides[d];
          if (++idx[d] < shape[d]) break;
          offset -= strides[d] * shape[d];
          idx[d] = 0;
        }
      }
    }
    const len = count * cols;
    heap.set(x.subarray(r0 * cols, r0 * cols + len), x0);
    run(px, count, cols, pmask, poffs);
    out.set(heap.subarray(x0, x0 + len), r0 * cols);
  }
  return out;
}

/** y, dy [..., C] -> y * (dy - sum(dy * y, last axis)). */
export function simdSoftmaxGrad(y: Float32Array, dy: Float32Array, cols: number): Float32Array {
  const rows = cols === 0 ? 0 : y.length / cols;
  const out = new Float32Array(y.length);
  if (rows === 0) return out;
  const perChunk = Math.min(rows, rowsPerChunk(cols));
  const {
    at: [py, pdy],
    total,
  } = regions([perChunk * cols * 4, perChunk * cols * 4]);
  const arena = simdArena();
  arena.reserve(total, 'SoftmaxGrad');
  const heap = arena.f32;
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * cols;
    const len = count * cols;
    heap.set(y.subarray(s, s + len), py >> 2);
    heap.set(dy.subarray(s, s + len), pdy >> 2);
    arena.kernels.softmax_grad(py, pdy, count, cols);
    out.set(heap.subarray(pdy >> 2, (pdy >> 2) + len), s);
  }
  return out;
}

/** x [R, H], gamma [H], beta [H] -> y [R, H], mean [R], rstd [R] (biased variance). */
export function simdLayerNorm(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  hidden: number,
  eps: number,
): { y: Float32Array; mean: Float32Array; rstd: Float32Array } {
  const rows = hidden === 0 ? 0 : x.length / hidden;
  const y = new Float32Array(x.length);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  if (rows === 0) return { y, mean, rstd };
  const perChunk = Math.min(rows, rowsPerChunk(hidden));
  const {
    at: [px, pg, pb, pmean, prstd],
    total,
  } = regions([perChunk * hidden * 4, hidden * 4, hidden * 4, perChunk * 4, perChunk * 4]);
  const arena = simdArena();
  arena.reserve(total, 'LayerNorm');
  const heap = arena.f32;
  heap.set(gamma.subarray(0, hidden), pg >> 2);
  heap.set(beta.subarray(0, hidden), pb >> 2);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * hidden;
    const len = count * hidden;
    heap.set(x.subarray(s, s + len), px >> 2);
    arena.kernels.layer_norm(px, pg, pb, pmean, prstd, count, hidden, eps);
    y.set(heap.subarray(px >> 2, (px >> 2) + len), s);
    mean.set(heap.subarray(pmean >> 2, (pmean >> 2) + count), r0);
    rstd.set(heap.subarray(prstd >> 2, (prstd >> 2) + count), r0);
  }
  return { y, mean, rstd };
}

/**
 * dy, x [R, H], gamma [H], mean [R], rstd [R] -> dx [R, H], dgamma [H], dbeta [H]; dgamma and
 * dbeta are summed over rows in float64 inside the arena.
 */
export function simdLayerNormGrad(
  dy: Float32Array,
  x: Float32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  hidden: number,
): { dx: Float32Array; dGamma: Float32Array; dBeta: Float32Array } {
  const rows = mean.length;
  const dx = new Float32Array(x.length);
  const dGamma = new Float32Array(hidden);
  const dBeta = new Float32Array(hidden);
  if (rows === 0 || hidden === 0) return { dx, dGamma, dBeta };
  const perChunk = Math.min(rows, rowsPerChunk(hidden));
  const {
    at: [pdy, px, pg, pmean, prstd, pdg, pdb],
    total,
  } = regions([perChunk * hidden * 4, perChunk * hidden * 4, hidden * 4, perChunk * 4, perChunk * 4, hidden * 8, hidden * 8]);
  const arena = simdArena();
  arena.reserve(total, 'LayerNormGrad');
  const heap = arena.f32;
  const heap64 = arena.f64;
  heap.set(gamma.subarray(0, hidden), pg >> 2);
  heap64.fill(0, pdg >> 3, (pdg >> 3) + hidden);
  heap64.fill(0, pdb >> 3, (pdb >> 3) + hidden);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * hidden;
    const len = count * hidden;
    heap.set(dy.subarray(s, s + len), pdy >> 2);
    heap.set(x.subarray(s, s + len), px >> 2);
    heap.set(mean.subarray(r0, r0 + count), pmean >> 2);
    heap.set(rstd.subarray(r0, r0 + count), prstd >> 2);
    arena.kernels.layer_norm_grad(pdy, px, pg, pmean, prstd, count, hidden, pdg, pdb);
    dx.set(heap.subarray(pdy >> 2, (pdy >> 2) + len), s);
  }
  for (let h = 0; h < hidden; h++) {
    dGamma[h] = heap64[(pdg >> 3) + h];
    dBeta[h] = heap64[(pdb >> 3) + h];
  }
  return { dx, dGamma, dBeta };
}

/**
 * logits [N, C], labels [N] (already checked: each in [0, C) or ignoreIndex) -> loss (mean over
 * counted rows of logSumExp - logit[label], summed in float64) and logSumExp [N] (0 for ignored
 * rows). Only counted rows are copied into the arena.
 */
export function simdCrossEntropy(
  logits: Float32Array,
  labels: Int32Array | Float32Array,
  rows: number,
  classes: number,
  ignoreIndex: number,
): { loss: number; logSumExp: Float32Array } {
  const logSumExp = new Float32Array(rows);
  if (rows === 0 || classes === 0) return { loss: 0, logSumExp };
  const perChunk = Math.min(rows, rowsPerChunk(classes));
  const {
    at: [pl, pstats, pidx],
    total,
  } = regions([perChunk * classes * 4, perChunk * 16, perChunk * 4]);
  const arena = simdArena();
  arena.reserve(total, 'CrossEntropy');
  const heap = arena.f32;
  const heap64 = arena.f64;
  const pending = arena.i32;
  const i0 = pidx >> 2;
  let sum = 0;
  let counted = 0;
  let count = 0;
  const flush = (): void => {
    arena.kernels.ce_stats(pl, count, classes, pstats);
    for (let k = 0; k < count; k++) {
      const r = pending[i0 + k];
      const lse = heap64[(pstats >> 3) + 2 * k] + Math.log(heap64[(pstats >> 3) + 2 * k + 1]);
      logSumExp[r] = lse;
      sum += lse - logits[r * classes + labels[r]];
    }
    counted += count;
    count = 0;
  };
  for (let r = 0; r < rows; r++) {
    if (labels[r] === ignoreIndex) continue;
    heap.set(logits.subarray(r * classes, (r + 1) * classes), (pl >> 2) + count * classes);
    pending[i0 + count++] = r;
    if (count === perChunk) flush();
  }
  if (count > 0) flush();
  return { loss: counted === 0 ? 0 : sum / counted, logSumExp };
}

/**
 * logits [N, C], labels [N], logSumExp [N], dLoss -> dlogits [N, C]:
 * (softmax(logits) - onehot(label)) * dLoss / counted on counted rows, 0 on ignored rows.
 */
export function simdCrossEntropyGrad(
  logits: Float32Array,
  labels: Int32Array | Float32Array,
  logSumExp: Float32Array,
  dLoss: number,
  rows: number,
  classes: number,
  ignoreIndex: number,
): Float32Array {
  const out = new Float32Array(rows * classes);
  let counted = 0;
  for (let r = 0; r < rows; r++) if (labels[r] !== ignoreIndex) counted++;
  if (counted === 0 || classes === 0) return out;
  const factor = dLoss / counted;
  const perChunk = Math.min(counted, rowsPerChunk(classes));
  const {
    at: [pl, plse, pidx],
    total,
  } = regions([perChunk * classes * 4, perChunk * 4, perChunk * 4]);
  const arena = simdArena();
  arena.reserve(total, 'CrossEntropyGrad');
  const heap = arena.f32;
  const pending = arena.i32;
  const i0 = pidx >> 2;
  const l0 = pl >> 2;
  let count = 0;
  const flush = (): void => {
    arena.kernels.ce_grad(pl, count, classes, plse, factor);
    for (let k = 0; k < count; k++) {
      const r = pending[i0 + k];
      const base = r * classes;
      out.set(heap.subarray(l0 + k * classes, l0 + (k + 1) * classes), base);
      out[base + labels[r]] -= factor;
    }
    count = 0;
  };
  for (let r = 0; r < rows; r++) {
    if (labels[r] === ignoreIndex) continue;
    heap.set(logits.subarray(r * classes, (r + 1) * classes), l0 + count * classes);
    heap[(plse >> 2) + count] = logSumExp[r];
    pending[i0 + count++] = r;
    if (count === perChunk) flush();
  }
  if (count > 0) flush();
  return out;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

/** In place on p, m, v (equal lengths, checked by the caller): one AdamW step, PyTorch's formula. */
export function simdAdamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamWHyper): void {
  const n = p.length;
  if (n === 0) return;
  const chunk = Math.min(n, CHUNK);
  const bytes = pad4(chunk) * 4;
  const {
    at: [pp, pg, pm, pv],
    total,
  } = regions([bytes, bytes, bytes, bytes]);
  const arena = simdArena();
  arena.reserve(total, 'AdamW');
  const heap = arena.f32;
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const invCorrection2 = 1 / Math.sqrt(1 - h.beta2 ** h.step);
  for (let s = 0; s < n; s += chunk) {
    const len = Math.min(chunk, n - s);
    heap.set(p.subarray(s, s + len), pp >> 2);
    heap.set(g.subarray(s, s + len), pg >> 2);
    heap.set(m.subarray(s, s + len), pm >> 2);
    heap.set(v.subarray(s, s + len), pv >> 2);
    arena.kernels.adamw(pp, pg, pm, pv, pad4(len), decay, stepSize, invCorrection2, h.eps, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2);
    p.set(heap.subarray(pp >> 2, (pp >> 2) + len), s);
    m.set(heap.subarray(pm >> 2, (pm >> 2) + len), s);
    v.set(heap.subarray(pv >> 2, (pv >> 2) + len), s);
  }
}
