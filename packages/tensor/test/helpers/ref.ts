/**
 * Float64 reference implementations, written as plain index loops so they share no code or
 * shortcuts with the library. Each takes and returns an `Nd` (shape + row-major Float64Array).
 */
import { gelu64 } from './erf.js';

export interface Nd {
  shape: number[];
  data: Float64Array;
}

export function nd(shape: readonly number[], data: ArrayLike<number>): Nd {
  const size = shapeSize(shape);
  if (data.length !== size) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function stridesFor(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1] * shape[i + 1];
  return out;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = flat % shape[axis];
    flat = Math.floor(flat / shape[axis]);
  }
  return index;
}

export function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let axis = 0; axis < shape.length; axis++) flat = flat * shape[axis] + index[axis];
  return flat;
}

/** numpy broadcast of shapes, or null when they do not broadcast. */
export function broadcastShapeRef(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
    const db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat index into `shape` of the element broadcast to `outIndex`. */
function broadcastIndex(outIndex: readonly number[], shape: readonly number[]): number {
  const offset = outIndex.length - shape.length;
  return ravel(
    shape.map((d, axis) => (d === 1 ? 0 : outIndex[axis + offset])),
    shape,
  );
}

export function map1(x: Nd, fn: (v: number) => number): Nd {
  return { shape: [...x.shape], data: x.data.map(fn) };
}

export function map2(a: Nd, b: Nd, fn: (p: number, q: number) => number): Nd {
  const shape = broadcastShapeRef(a.shape, b.shape);
  if (!shape) throw new Error(`map2: [${a.shape}] and [${b.shape}] do not broadcast`);
  const data = new Float64Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) {
    const index = unravel(i, shape);
    data[i] = fn(a.data[broadcastIndex(index, a.shape)], b.data[broadcastIndex(index, b.shape)]);
  }
  return { shape, data };
}

export function where3(cond: Nd, a: Nd, b: Nd): Nd {
  const shape = broadcastShapeRef(broadcastShapeRef(cond.shape, a.shape)!, b.shape)!;
  const data = new Float64Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) {
    const index = unravel(i, shape);
    data[i] = cond.data[broadcastIndex(index, cond.shape)] !== 0 ? a.data[broadcastIndex(index, a.shape)] : b.data[broadcastIndex(index, b.shape)];
  }
  return { shape, data };
}

export const gelu = (x: Nd): Nd => map1(x, gelu64);

/**
 * op(a) op(b) with batch dims; a [...B, M, K] (or [...B, K, M] transA),
 * b [...B, K, N] (or [...B, N, K] transB) or a 2-D b shared by every batch item.
 */
export function matmulRef(a: Nd, b: Nd, transA = false, transB = false): Nd {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchShape = a.shape.slice(0, -2);
  const batch = shapeSize(batchShape);
  const shared = rb === 2;
  const out = new Float64Array(batch * m * n);
  for (let item = 0; item < batch; item++) {
    const baseA = item * m * k;
    const baseB = shared ? 0 : item * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a.data[baseA + p * m + i] : a.data[baseA + i * k + p];
          const bv = transB ? b.data[baseB + j * k + p] : b.data[baseB + p * n + j];
          acc += av * bv;
        }
        out[item * m * n + i * n + j] = acc;
      }
    }
  }
  return { shape: [...batchShape, m, n], data: out };
}

export function permuteRef(x: Nd, perm: readonly number[]): Nd {
  const shape = perm.map((axis) => x.shape[axis]);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const outIndex = unravel(i, shape);
    const inIndex = new Array<number>(perm.length);
    perm.forEach((axis, j) => (inIndex[axis] = outIndex[j]));
    data[i] = x.data[ravel(inIndex, x.shape)];
  }
  return { shape, data };
}

export function concatRef(xs: readonly Nd[], axis: number): Nd {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis], 0);
  const data = new Float64Array(shapeSize(shape));
  for (let i = 0; i < data.length; i++) {
    const index = unravel(i, shape);
    let position = index[axis];
    let source = 0;
    while (position >= xs[source].shape[axis]) position -= xs[source++].shape[axis];
    const inIndex = [...index];
    inIndex[axis] = position;
    data[i] = xs[source].data[ravel(inIndex, xs[source].shape)];
  }
  return { shape, data };
}

export function sliceRef(x: Nd, begin: readonly number[], size: readonly number[]): Nd {
  const data = new Float64Array(shapeSize(size));
  for (let i = 0; i < data.length; i++) {
    const index = unravel(i, size).map((v, axis) => v + begin[axis]);
    data[i] = x.data[ravel(index, x.shape)];
  }
  return { shape: [...size], data };
}

export function sumRef(x: Nd, axes: readonly number[], keepDims: boolean): Nd {
  const reduced = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
  const keptShape = x.shape.map((d, axis) => (reduced.has(axis) ? 1 : d));
  const data = new Float64Array(shapeSize(keptShape));
  for (let i = 0; i < x.data.length; i++) {
    const index = unravel(i, x.shape).map((v, axis) => (reduced.has(axis) ? 0 : v));
    data[ravel(index, keptShape)] += x.data[i];
  }
  const shape = keepDims ? keptShape : x.shape.filter((_, axis) => !reduced.has(axis));
  return { shape, data };
}

export function meanRef(x: Nd, axes: readonly number[], keepDims: boolean): Nd {
  const reduced = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
  const count = x.shape.reduce((n, d, axis) => (reduced.has(axis) ? n * d : n), 1);
  return map1(sumRef(x, axes, keepDims), (v) => v / count);
}

/** Rows of the last axis: calls fn(rowStart, length) for each. */
function eachRow(shape: readonly number[], fn: (start: number, length: number) => void): void {
  const length = shape[shape.length - 1];
  const rows = length === 0 ? 0 : shapeSize(shape) / length;
  for (let r = 0; r < rows; r++) fn(r * length, length);
}

/** torch.nn.LayerNorm over the last axis (biased variance; two-pass in float64). */
export function layerNormRef(x: Nd, gamma: Nd, beta: Nd, eps: number): Nd {
  const data = new Float64Array(x.data.length);
  eachRow(x.shape, (start, h) => {
    let mean = 0;
    for (let j = 0; j < h; j++) mean += x.data[start + j];
    mean /= h;
    let variance = 0;
    for (let j = 0; j < h; j++) variance += (x.data[start + j] - mean) ** 2;
    variance /= h;
    const denominator = Math.sqrt(variance + eps);
    for (let j = 0; j < h; j++) data[start + j] = ((x.data[start + j] - mean) / denominator) * gamma.data[j] + beta.data[j];
  });
  return { shape: [...x.shape], data };
}

/**
 * softmax over the last axis of x + mask. A finfo.min (-3.4028234663852886e38) mask entry absorbs
 * any ordinary x in float64 too (its ulp is ~7.6e22), so a fully masked row saturates to one
 * value and comes out uniform, as in float32; the sum stays differentiable for finite differences.
 */
export function softmaxRef(x: Nd, mask?: Nd): Nd {
  const scores = mask ? map2(x, mask, (p, q) => p + q) : x;
  if (mask && scores.shape.join() !== x.shape.join()) throw new Error('softmaxRef: mask widens x');
  const data = new Float64Array(x.data.length);
  eachRow(x.shape, (start, c) => {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, scores.data[start + j]);
    let total = 0;
    for (let j = 0; j < c; j++) total += Math.exp(scores.data[start + j] - max);
    for (let j = 0; j < c; j++) data[start + j] = Math.exp(scores.data[start + j] - max) / total;
  });
  return { shape: [...x.shape], data };
}

/** Mean over rows with label !== ignoreIndex of -log softmax(logits)[label]; 0 when none counts. */
export function crossEntropyRef(logits: Nd, labels: ArrayLike<number>, ignoreIndex = -100): Nd {
  const c = logits.shape[logits.shape.length - 1];
  let total = 0;
  let counted = 0;
  for (let r = 0; r < labels.length; r++) {
    if (labels[r] === ignoreIndex) continue;
    const start = r * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, logits.data[start + j]);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += Math.exp(logits.data[start + j] - max);
    total += max + Math.log(sum) - logits.data[start + labels[r]];
    counted++;
  }
  return { shape: [], data: Float64Array.of(counted === 0 ? 0 : total / counted) };
}

/** weight [V, H], ids [...S] -> [...S, H]. */
export function embeddingRef(weight: Nd, ids: Nd): Nd {
  const h = weight.shape[1];
  const data = new Float64Array(ids.data.length * h);
  ids.data.forEach((id, n) => {
    for (let j = 0; j < h; j++) data[n * h + j] = weight.data[id * h + j];
  });
  return { shape: [...ids.shape, h], data };
}

/** sum(out * w): the scalar whose gradient `out.backward(w)` computes. */
export function dot(a: Nd, w: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < a.data.length; i++) total += a.data[i] * w[i];
  return total;
}
