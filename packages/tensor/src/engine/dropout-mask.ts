/**
 * The Dropout kernel's mask, shared by every backend so they drop exactly the same entries:
 * element i of a tensor is dropped when hash(seed, i) < p * 2^32, with a counter-based hash
 * (two rounds of lowbias32, the second keyed by the seed) instead of a stateful generator, so a
 * mask costs one integer hash per element and the backward can regenerate it from the seed
 * alone instead of storing it.
 */

/** lowbias32 (Chris Wellons' hash-prospector): a well-mixed 32-bit integer bijection. */
export function lowbias32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The uint32 deciding element `index` under `seed`. The index is hashed before the seed goes in,
 * so two seeds give unrelated masks rather than shifted or xor-permuted copies of one another.
 */
export function dropoutHash(seed: number, index: number): number {
  return lowbias32(lowbias32(index) ^ seed);
}

/** Entries whose hash is below this are dropped: floor(p * 2^32), for p in [0, 1). */
export function dropoutThreshold(p: number): number {
  return Math.floor(p * 4294967296);
}

/** What kept entries are multiplied by: 1/(1-p) rounded to float32, as every backend uses it. */
export function dropoutScale(p: number): number {
  return Math.fround(1 / (1 - p));
}

/**
 * out[i] = x[i] * (dropped ? 0 : scale) for i in [0, n): the multiply happens even for dropped
 * entries so that -0, NaN and Infinity come out as a GPU's x * mask gives them.
 * Without `x` it writes the mask itself (x = 1), which GPU backends upload and multiply by.
 */
export function applyDropoutMask(x: ArrayLike<number> | null, out: Float32Array, p: number, seed: number): void {
  const threshold = dropoutThreshold(p);
  const scale = dropoutScale(p);
  const key = seed >>> 0;
  const n = out.length;
  if (x === null) {
    for (let i = 0; i < n; i++) out[i] = dropoutHash(key, i) < threshold ? 0 : scale;
  } else {
    for (let i = 0; i < n; i++) out[i] = x[i] * (dropoutHash(key, i) < threshold ? 0 : scale);
  }
}
