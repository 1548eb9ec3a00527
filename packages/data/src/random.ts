/**
 * Seedable PRNG with serialisable state (xoshiro128**, Blackman & Vigna 2018).
 *
 * Why our own: `Math.random` cannot be seeded or saved, and the trainer must resume a run
 * bit-exactly, so every random choice in the data pipeline (shuffle, masking) draws from a
 * generator whose whole state is four uint32 words that fit in a JSON checkpoint.
 */

/** JSON-serialisable generator state; `s` holds the four uint32 state words. */
export interface RandomState {
  readonly algorithm: 'xoshiro128**';
  readonly s: readonly [number, number, number, number];
}

/** What the data pipeline needs from a generator (so tests may pass a scripted one). */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of resolution. */
  nextFloat(): number;
  /** Uniform integer in [0, n), unbiased; n must be an integer in [1, 2^32]. */
  nextInt(n: number): number;
}

const TWO_POW_32 = 4294967296;

/**
 * SplitMix32 step: turns arbitrary (possibly tiny or correlated) seeds into well-mixed words,
 * so seeds 0, 1, 2 give unrelated streams and the xoshiro state is never all zero in practice.
 */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Mixes a seed and any number of integer "stream" labels (epoch, batch index, purpose tag) into
 * one uint32 seed. Used to give every (epoch, batch) its own generator, so positions can be
 * recomputed on resume instead of replaying all earlier draws.
 */
export function deriveSeed(seed: number, ...labels: number[]): number {
  if (!Number.isFinite(seed)) throw new Error(`deriveSeed: seed must be a finite number, found ${seed}`);
  const st = { x: (seed >>> 0) ^ (Math.floor(seed / TWO_POW_32) >>> 0) };
  let h = splitmix32(st);
  for (const label of labels) {
    if (!Number.isFinite(label)) throw new Error(`deriveSeed: label must be a finite number, found ${label}`);
    st.x = (h ^ (label >>> 0) ^ Math.imul(Math.floor(label / TWO_POW_32) >>> 0, 0x27d4eb2f)) >>> 0;
    h = splitmix32(st);
  }
  return h;
}

/** xoshiro128** generator. `new Random(seed)`; `getState()` / `setState()` / `Random.fromState()`. */
export class Random implements RandomSource {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /** @param seed any finite number; the same seed always gives the same stream. */
  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new Error(`Random: seed must be a finite number, found ${seed}`);
    const st = { x: (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x9e3779b1) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  static fromState(state: RandomState): Random {
    const r = new Random(0);
    r.setState(state);
    return r;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Random.nextInt: n must be an integer in [1, 2^32], found ${n}`);
    }
    // Rejection sampling: drop the top partial copy of [0, n) so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** In-place Fisher–Yates shuffle of `array` (any indexable, e.g. Int32Array). */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  getState(): RandomState {
    return { algorithm: 'xoshiro128**', s: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0] };
  }

  setState(state: RandomState): void {
    if (!state || state.algorithm !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error(`Random.setState: expected {algorithm: 'xoshiro128**', s: [4 uint32]}, found ${JSON.stringify(state)}`);
    }
    for (const w of state.s) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new Error(`Random.setState: state words must be uint32, found ${JSON.stringify(state.s)}`);
      }
    }
    if ((state.s[0] | state.s[1] | state.s[2] | state.s[3]) === 0) {
      throw new Error('Random.setState: the all-zero state is invalid for xoshiro128**');
    }
    [this.a, this.b, this.c, this.d] = state.s.map((w) => w | 0) as [number, number, number, number];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Permutation of 0..n-1 drawn with `rng` (Fisher–Yates). Shape [n]. */
export function permutation(n: number, rng: RandomSource): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
