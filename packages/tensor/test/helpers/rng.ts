/**
 * Test-data generator, deliberately independent of the library's `Generator` so a bug there
 * cannot hide in both the data and the expectation. Every value is float32-representable,
 * so the float64 references see exactly what the float32 tensors hold.
 */
export class TestRng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed ^ 0x5bd1e995) >>> 0;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform float32 values in [lo, hi). */
  uniform(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * this.next());
    return out;
  }

  /** Uniform float32 values with |v| in [minAbs, maxAbs) and a random sign (away from kinks/poles). */
  awayFromZero(n: number, minAbs: number, maxAbs: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const magnitude = minAbs + (maxAbs - minAbs) * this.next();
      out[i] = Math.fround(this.next() < 0.5 ? -magnitude : magnitude);
    }
    return out;
  }

  /** Integers in [0, n). */
  ints(count: number, n: number): Int32Array {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = Math.floor(this.next() * n);
    return out;
  }
}
