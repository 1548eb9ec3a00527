/**
 * The one random generator of retro: xoshiro128** (Blackman & Vigna, 2018), seeded through
 * SplitMix32. Why our own: `Math.random` can be neither seeded nor saved, and a training run must
 * resume bit-exactly, so every random choice (weight init, dropout, data order, encoder masks,
 * the decoder mask M) draws from a generator whose whole state fits in a JSON checkpoint.
 */

/** JSON form of a generator: the four uint32 state words and a pending Box-Muller value, if any. */
export interface GeneratorState {
  readonly algorithm: 'xoshiro128**';
  readonly s: readonly [number, number, number, number];
  /** The second normal of the last Box-Muller pair, not yet returned (null: none pending). */
  readonly spareNormal?: number | null;
}

/** What samplers need from a generator (so tests may pass a scripted one). */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 bits of resolution. */
  random(): number;
  /** Uniform integer in [0, n), unbiased; n an integer in [1, 2^32]. */
  randint(n: number): number;
}

const TWO_POW_32 = 4294967296;

/**
 * SplitMix32 step: turns arbitrary (possibly tiny or correlated) seeds into well-mixed words, so
 * seeds 0, 1, 2 give unrelated streams and the xoshiro state is never all zero in practice.
 */
export function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Seedable xoshiro128** generator: `new Generator(seed)`; `getState()` / `setState()` / `Generator.fromState()`. */
export class Generator implements RandomSource {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spareNormal: number | null = null;

  /** @param seed any finite number; the same seed always gives the same stream. */
  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new Error(`Generator: seed must be a finite number, found ${seed}`);
    const st = { x: (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x9e3779b1) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  static fromState(state: GeneratorState): Generator {
    const generator = new Generator(0);
    generator.setState(state);
    return generator;
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

  /** Uniform in [0, 1). */
  random(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), unbiased. */
  randint(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Generator.randint: n must be an integer in [1, 2^32], found ${n}`);
    }
    // Rejection sampling: drop the top partial copy of [0, n) so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle of `array` (any indexable, e.g. Int32Array). */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.randint(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  getState(): GeneratorState {
    return { algorithm: 'xoshiro128**', s: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0], spareNormal: this.spareNormal };
  }

  /** Restores a state from `getState()` (e.g. parsed from JSON); `source` names where it came from in errors. */
  setState(state: GeneratorState, source = 'Generator.setState'): void {
    if (!state || state.algorithm !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new Error(`${source}: expected {algorithm: 'xoshiro128**', s: [4 uint32], spareNormal?}, found ${JSON.stringify(state)}`);
    }
    for (const word of state.s) {
      if (!Number.isInteger(word) || word < 0 || word >= TWO_POW_32) throw new Error(`${source}: state words must be uint32, found ${JSON.stringify(state.s)}`);
    }
    if ((state.s[0] | state.s[1] | state.s[2] | state.s[3]) === 0) throw new Error(`${source}: the all-zero state is invalid for xoshiro128**`);
    const spare = state.spareNormal ?? null;
    if (spare !== null && !Number.isFinite(spare)) throw new Error(`${source}: spareNormal must be a finite number or null, found ${JSON.stringify(spare)}`);
    [this.a, this.b, this.c, this.d] = state.s.map((w) => w | 0) as [number, number, number, number];
    this.spareNormal = spare;
  }
}

/** Permutation of 0..n-1 drawn with `rng` (Fisher–Yates). Shape [n]. */
export function permutation(n: number, rng: RandomSource): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.randint(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
