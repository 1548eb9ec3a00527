/**
 * Host side of the SIMD kernels: same contracts as the plain-JS kernels in ../nn.ts and
 * ../activations.ts, on typed arrays. Each call allocates only its outputs. Inputs are copied into
 * a wasm arena a super-chunk at a time (about 1M elements per operand), the kernel runs on it in
 * blocks of whole rows (16K elements; ../parallel/row-jobs.ts: on every thread where workers can
 * run, results bit-identical for any thread count), and results are copied out once.
 */
import { broadcastStrides } from '../../../shape.js';
import { regions } from './runtime.js';
import { takeFloats, takeZeros } from '../buffer-pool.js';
import { blockRowsFor, BLOCK_ELEMENTS, kernelArena, residentArena, runRowJob, superRowsFor, type KernelArena, type SimdKernelName } from '../parallel/row-jobs.js';
import { residentAddress } from '../resident.js';

const pad4 = (n: number): number => (n + 3) & ~3;

/** Byte addresses of the regions (see runtime.ts `regions`) in `arena`, reserved. */
function place(arena: KernelArena, sizes: readonly number[], who: string): number[] {
  const { at, total } = regions(sizes);
  arena.reserve(total, who);
  return at.map((a) => a + arena.base);
}

/**
 * The loop every same-length elementwise kernel shares: inputs (all of x's length) are copied a
 * super-chunk at a time into their regions, `kernel(args(pointers, start))` runs over it in blocks
 * of BLOCK_ELEMENTS (the argument `rowsArg` gets each block's padded length, argument i steps
 * rowStep[i] per element: 4 for pointers, 1 for an element index), and the region of input
 * `outputIndex` is read back into `out` (from the cpu buffer pool unless given; it may be one of the inputs,
 * since each chunk is copied in before its results are copied out).
 */
function elementwise(
  who: string,
  kernel: SimdKernelName,
  inputs: readonly Float32Array[],
  outputIndex: number,
  args: (pointers: readonly number[], start: number) => number[],
  rowsArg: number,
  rowStep: number[],
  out: Float32Array = takeFloats(inputs[0]!.length),
): Float32Array {
  const n = inputs[0]!.length;
  if (n === 0) return out;
  const arena = kernelArena(n);
  const chunk = superRowsFor(BLOCK_ELEMENTS, 1, n);
  const at = place(arena, inputs.map(() => pad4(chunk) * 4), who);
  const result = at[outputIndex]! >> 2;
  for (let s = 0; s < n; s += chunk) {
    const len = Math.min(chunk, n - s);
    const heap = arena.f32;
    inputs.forEach((input, i) => heap.set(input.subarray(s, s + len), at[i]! >> 2));
    runRowJob(arena, { kernel, args: args(at, s), rowsArg, blockRows: BLOCK_ELEMENTS, rows: len, pad4: true, rowStep });
    out.set(arena.f32.subarray(result, result + len), s);
  }
  return out;
}

/** [x] -> gelu(x), exact-erf GELU, elementwise. */
export function simdGelu(x: Float32Array): Float32Array {
  return elementwise('Gelu', 'gelu', [x], 0, ([px]) => [px!, px!, 0], 2, [4, 4, 0]);
}

/**
 * [x] -> x * mask, the Dropout kernel's mask (engine/dropout-mask.ts) hashed four lanes at a
 * time; `threshold` floor(p 2^32) and `scale` fround(1/(1-p)) as the contract defines them.
 * Written into `out` (from the cpu buffer pool unless given; may be x).
 */
export function simdDropout(x: Float32Array, threshold: number, scale: number, seed: number, indexOffset = 0, out?: Float32Array): Float32Array {
  // The hash's element index is the flat index (+ indexOffset when x is a block of a larger
  // tensor): argument 2 starts at the chunk's start and steps 1.
  return elementwise('Dropout', 'dropout', [x], 0, ([px], start) => [px!, 0, (indexOffset + start) | 0, seed | 0, threshold | 0, scale], 1, [4, 0, 1, 0, 0, 0], out);
}

/** [x, y] of the same length -> x + y, written into `out` (from the cpu buffer pool unless given; may be x: AddInPlace). */
export function simdAdd(x: Float32Array, y: Float32Array, out?: Float32Array): Float32Array {
  // add_rows with one row of the padded length: the padding lanes add garbage nobody reads
  return elementwise('Add', 'add_rows', [x, y], 0, ([px, py]) => [px!, py!, 1, 0], 3, [4, 4, 0, 0], out);
}

/** [x, dy] (same length) -> dy * gelu'(x), elementwise. */
export function simdGeluGrad(x: Float32Array, dy: Float32Array): Float32Array {
  return elementwise('GeluGrad', 'gelu_grad', [x, dy], 1, ([px, pdy]) => [px!, pdy!, 0], 2, [4, 4, 0]);
}

/**
 * x [R, C] + row [C] on every row -> [R, C] (a bias row), written into `out` (from the cpu buffer
 * pool unless given; may be x: MatMul's bias epilogue).
 */
export function simdAddRow(x: Float32Array, row: Float32Array, out: Float32Array = takeFloats(x.length)): Float32Array {
  const cols = row.length;
  const rows = cols === 0 ? 0 : x.length / cols;
  if (rows === 0) return out;
  const arena = kernelArena(x.length);
  const blockRows = blockRowsFor(cols);
  const perChunk = superRowsFor(blockRows, cols, rows);
  const [px, pr] = place(arena, [perChunk * cols * 4, cols * 4], 'Add');
  arena.f32.set(row, pr >> 2);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * cols;
    const len = count * cols;
    arena.f32.set(x.subarray(s, s + len), px >> 2);
    runRowJob(arena, { kernel: 'add_rows', args: [px, pr, 0, cols], rowsArg: 2, blockRows, rows: count, rowStep: [cols * 4, 0, 0, 0] });
    out.set(arena.f32.subarray(px >> 2, (px >> 2) + len), s);
  }
  return out;
}

/**
 * x [..., C] (shape rank >= 1), optional additive mask broadcasting to x -> softmax over the
 * last axis of float32(x + mask). Row r of x reads the mask at element offset
 * sum_d idx_d(r) * stride_d (broadcast strides of the leading dims); the mask's last axis is
 * either C (a mask row) or 1 (one value per row). Written into `out` (from the cpu buffer pool unless given; may be x).
 */
export function simdSoftmax(
  x: Float32Array,
  shape: readonly number[],
  mask?: Float32Array,
  maskShape?: readonly number[],
  out: Float32Array = takeFloats(x.length),
): Float32Array {
  const cols = shape[shape.length - 1];
  const rows = cols === 0 ? 0 : x.length / cols;
  if (rows === 0) return out;
  const arena = kernelArena(x.length);
  const blockRows = blockRowsFor(cols);
  const perChunk = superRowsFor(blockRows, cols, rows);
  const [px, poffs, pmask] = place(arena, [perChunk * cols * 4, perChunk * 4, mask ? mask.length * 4 : 0], 'Softmax');
  let kernel: SimdKernelName = 'softmax_none';
  // Leading-dim index of the next row and its mask offset, advanced odometer-style.
  const lead = shape.length - 1;
  const idx = new Array<number>(lead).fill(0);
  let strides: number[] = [];
  let offset = 0;
  if (mask && maskShape) {
    strides = broadcastStrides(maskShape, shape);
    kernel = strides[lead] === 0 ? 'softmax_scalar' : 'softmax_row';
    arena.f32.set(mask, pmask >> 2);
  }
  const x0 = px >> 2;
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    if (mask) {
      const offs = arena.i32;
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
    arena.f32.set(x.subarray(r0 * cols, r0 * cols + len), x0);
    runRowJob(arena, { kernel, args: [px, 0, cols, pmask, poffs], rowsArg: 1, blockRows, rows: count, rowStep: [cols * 4, 0, 0, 0, 4] });
    out.set(arena.f32.subarray(x0, x0 + len), r0 * cols);
  }
  return out;
}

/** y, dy [..., C] -> y * (dy - sum(dy * y, last axis)), into `out` (from the cpu buffer pool unless given; may be dy). */
export function simdSoftmaxGrad(y: Float32Array, dy: Float32Array, cols: number, out: Float32Array = takeFloats(y.length)): Float32Array {
  const rows = cols === 0 ? 0 : y.length / cols;
  if (rows === 0) return out;
  const arena = kernelArena(y.length);
  const blockRows = blockRowsFor(cols);
  const perChunk = superRowsFor(blockRows, cols, rows);
  const [py, pdy] = place(arena, [perChunk * cols * 4, perChunk * cols * 4], 'SoftmaxGrad');
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * cols;
    const len = count * cols;
    arena.f32.set(y.subarray(s, s + len), py >> 2);
    arena.f32.set(dy.subarray(s, s + len), pdy >> 2);
    runRowJob(arena, { kernel: 'softmax_grad', args: [py, pdy, 0, cols], rowsArg: 2, blockRows, rows: count, rowStep: [cols * 4, cols * 4, 0, 0] });
    out.set(arena.f32.subarray(pdy >> 2, (pdy >> 2) + len), s);
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
  const y = takeFloats(x.length);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  if (rows === 0) return { y, mean, rstd };
  const arena = kernelArena(x.length);
  const blockRows = blockRowsFor(hidden);
  const perChunk = superRowsFor(blockRows, hidden, rows);
  const [px, pg, pb, pmean, prstd] = place(arena, [perChunk * hidden * 4, hidden * 4, hidden * 4, perChunk * 4, perChunk * 4], 'LayerNorm');
  arena.f32.set(gamma.subarray(0, hidden), pg >> 2);
  arena.f32.set(beta.subarray(0, hidden), pb >> 2);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * hidden;
    const len = count * hidden;
    arena.f32.set(x.subarray(s, s + len), px >> 2);
    runRowJob(arena, {
      kernel: 'layer_norm',
      args: [px, pg, pb, pmean, prstd, 0, hidden, eps],
      rowsArg: 5,
      blockRows,
      rows: count,
      rowStep: [hidden * 4, 0, 0, 4, 4, 0, 0, 0],
    });
    const heap = arena.f32;
    y.set(heap.subarray(px >> 2, (px >> 2) + len), s);
    mean.set(heap.subarray(pmean >> 2, (pmean >> 2) + count), r0);
    rstd.set(heap.subarray(prstd >> 2, (prstd >> 2) + count), r0);
  }
  return { y, mean, rstd };
}

/**
 * dy, x [R, H], gamma [H], mean [R], rstd [R] -> dx [R, H], dgamma [H], dbeta [H]. Each block of
 * rows sums its dgamma/dbeta terms in float64 into a slot of its own; the slots are added in block
 * order, so the sums do not depend on which thread ran which block.
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
  const dx = takeFloats(x.length);
  const dGamma = new Float32Array(hidden);
  const dBeta = new Float32Array(hidden);
  if (rows === 0 || hidden === 0) return { dx, dGamma, dBeta };
  const arena = kernelArena(x.length);
  const blockRows = blockRowsFor(hidden);
  const perChunk = superRowsFor(blockRows, hidden, rows);
  const slots = Math.ceil(perChunk / blockRows);
  const [pdy, px, pg, pmean, prstd, pdg, pdb] = place(
    arena,
    [perChunk * hidden * 4, perChunk * hidden * 4, hidden * 4, perChunk * 4, perChunk * 4, slots * hidden * 8, slots * hidden * 8],
    'LayerNormGrad',
  );
  arena.f32.set(gamma.subarray(0, hidden), pg >> 2);
  const sumGamma = new Float64Array(hidden);
  const sumBeta = new Float64Array(hidden);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const count = Math.min(perChunk, rows - r0);
    const s = r0 * hidden;
    const len = count * hidden;
    const heap = arena.f32;
    heap.set(dy.subarray(s, s + len), pdy >> 2);
    heap.set(x.subarray(s, s + len), px >> 2);
    heap.set(mean.subarray(r0, r0 + count), pmean >> 2);
    heap.set(rstd.subarray(r0, r0 + count), prstd >> 2);
    const used = Math.ceil(count / blockRows);
    arena.f64.fill(0, pdg >> 3, (pdg >> 3) + used * hidden);
    arena.f64.fill(0, pdb >> 3, (pdb >> 3) + used * hidden);
    runRowJob(arena, {
      kernel: 'layer_norm_grad',
      args: [pdy, px, pg, pmean, prstd, 0, hidden, pdg, pdb],
      rowsArg: 5,
      blockRows,
      rows: count,
      rowStep: [hidden * 4, hidden * 4, 0, 4, 4, 0, 0, 0, 0],
      blockStep: [0, 0, 0, 0, 0, 0, 0, hidden * 8, hidden * 8],
    });
    dx.set(arena.f32.subarray(pdy >> 2, (pdy >> 2) + len), s);
    const heap64 = arena.f64;
    for (let b = 0; b < used; b++) {
      const g0 = (pdg >> 3) + b * hidden;
      const b0 = (pdb >> 3) + b * hidden;
      for (let h = 0; h < hidden; h++) {
        sumGamma[h] += heap64[g0 + h];
        sumBeta[h] += heap64[b0 + h];
      }
    }
  }
  for (let h = 0; h < hidden; h++) {
    dGamma[h] = sumGamma[h];
    dBeta[h] = sumBeta[h];
  }
  return { dx, dGamma, dBeta };
}

/**
 * logits [N, C], labels [N] (already checked: each in [0, C) or ignoreIndex) -> loss (mean over
 * counted rows of logSumExp - logit[label], summed in float64 in row order) and logSumExp [N]
 * (0 for ignored rows). Only counted rows are copied into the arena.
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
  const counted: number[] = [];
  for (let r = 0; r < rows; r++) if (labels[r] !== ignoreIndex) counted.push(r);
  if (counted.length === 0) return { loss: 0, logSumExp };
  const arena = kernelArena(counted.length * classes);
  const blockRows = blockRowsFor(classes);
  const perChunk = superRowsFor(blockRows, classes, counted.length);
  const [pl, pstats] = place(arena, [perChunk * classes * 4, perChunk * 16], 'CrossEntropy');
  let sum = 0;
  for (let k0 = 0; k0 < counted.length; k0 += perChunk) {
    const count = Math.min(perChunk, counted.length - k0);
    for (let k = 0; k < count; k++) {
      const r = counted[k0 + k];
      arena.f32.set(logits.subarray(r * classes, (r + 1) * classes), (pl >> 2) + k * classes);
    }
    runRowJob(arena, { kernel: 'ce_stats', args: [pl, 0, classes, pstats], rowsArg: 1, blockRows, rows: count, rowStep: [classes * 4, 0, 0, 16] });
    const heap64 = arena.f64;
    for (let k = 0; k < count; k++) {
      const r = counted[k0 + k];
      const lse = heap64[(pstats >> 3) + 2 * k] + Math.log(heap64[(pstats >> 3) + 2 * k + 1]);
      logSumExp[r] = lse;
      sum += lse - logits[r * classes + labels[r]];
    }
  }
  return { loss: sum / counted.length, logSumExp };
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
  const counted: number[] = [];
  for (let r = 0; r < rows; r++) if (labels[r] !== ignoreIndex) counted.push(r);
  // Ignored rows stay 0: only a fully counted batch may take an array with old contents.
  const out = counted.length === rows ? takeFloats(rows * classes) : takeZeros(rows * classes);
  if (counted.length === 0 || classes === 0) return out;
  const factor = dLoss / counted.length;
  const arena = kernelArena(counted.length * classes);
  const blockRows = blockRowsFor(classes);
  const perChunk = superRowsFor(blockRows, classes, counted.length);
  const [pl, plse] = place(arena, [perChunk * classes * 4, perChunk * 4], 'CrossEntropyGrad');
  const l0 = pl >> 2;
  for (let k0 = 0; k0 < counted.length; k0 += perChunk) {
    const count = Math.min(perChunk, counted.length - k0);
    for (let k = 0; k < count; k++) {
      const r = counted[k0 + k];
      arena.f32.set(logits.subarray(r * classes, (r + 1) * classes), l0 + k * classes);
      arena.f32[(plse >> 2) + k] = logSumExp[r];
    }
    runRowJob(arena, { kernel: 'ce_grad', args: [pl, 0, classes, plse, factor], rowsArg: 1, blockRows, rows: count, rowStep: [classes * 4, 0, 0, 4, 0] });
    const heap = arena.f32;
    for (let k = 0; k < count; k++) {
      const r = counted[k0 + k];
      const base = r * classes;
      out.set(heap.subarray(l0 + k * classes, l0 + (k + 1) * classes), base);
      out[base + labels[r]] -= factor;
    }
  }
  return out;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  /** The update uses gradScale * g (clipping); folded into the kernel's (1-b1) and (1-b2) factors. */
  gradScale?: number;
}

/** In place on p, m, v (equal lengths, checked by the caller): one AdamW step, PyTorch's formula. */
export function simdAdamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamWHyper): void {
  const n = p.length;
  if (n === 0) return;
  // Moments made by kernelStateTensor live in the shared wasm memory: updated where they are.
  const mAt = residentAddress(m);
  const vAt = residentAddress(v);
  const resident = mAt !== undefined && vAt !== undefined;
  const arena = resident ? residentArena(n) : kernelArena(n);
  const chunk = superRowsFor(BLOCK_ELEMENTS, 1, n);
  const bytes = pad4(chunk) * 4;
  const [pp, pg, pm = 0, pv = 0] = place(arena, resident ? [bytes, bytes] : [bytes, bytes, bytes, bytes], 'AdamW');
  const decay = 1 - h.lr * h.weightDecay;
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const invCorrection2 = 1 / Math.sqrt(1 - h.beta2 ** h.step);
  const gradScale = h.gradScale ?? 1;
  for (let s = 0; s < n; s += chunk) {
    const len = Math.min(chunk, n - s);
    const heap = arena.f32;
    heap.set(p.subarray(s, s + len), pp >> 2);
    heap.set(g.subarray(s, s + len), pg >> 2);
    if (!resident) {
      heap.set(m.subarray(s, s + len), pm >> 2);
      heap.set(v.subarray(s, s + len), pv >> 2);
    }
    // Resident moments are padded to 4 floats (resident.ts), so the last block's padded lanes stay inside them.
    const [am, av] = resident ? [mAt! + 4 * s, vAt! + 4 * s] : [pm, pv];
    runRowJob(arena, {
      kernel: 'adamw',
      args: [pp, pg, am, av, 0, decay, stepSize, invCorrection2, h.eps, h.beta1, (1 - h.beta1) * gradScale, h.beta2, (1 - h.beta2) * gradScale * gradScale],
      rowsArg: 4,
      blockRows: BLOCK_ELEMENTS,
      rows: len,
      pad4: true,
      rowStep: [4, 4, 4, 4],
    });
    const out = arena.f32;
    p.set(out.subarray(pp >> 2, (pp >> 2) + len), s);
    if (!resident) {
      m.set(out.subarray(pm >> 2, (pm >> 2) + len), s);
      v.set(out.subarray(pv >> 2, (pv >> 2) + len), s);
    }
  }
}
