/**
 * The one generator: xoshiro128** against an independent BigInt implementation, its JSON state
 * (including a pending Box-Muller value), its samplers' ranges and distributions, and deriveSeed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deriveSeed, Generator, permutation } from '../src/index.js';

/** Independent xoshiro128** step, written from the reference C code with BigInt arithmetic. */
function referenceXoshiro(state: bigint[]): () => number {
  const M = 0xffffffffn;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const s = state.map((x) => x & M);
  return () => {
    const result = (rotl((s[1] * 5n) & M, 7n) * 9n) & M;
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return Number(result);
  };
}

describe('Generator (xoshiro128**)', () => {
  it('matches hand-computed outputs from state [1, 2, 3, 4]', () => {
    const r = Generator.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4] });
    // 1st: rotl(2*5, 7) * 9 = 1280 * 9; 2nd: s1 became 0; 3rd: rotl(1029*5, 7) * 9.
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('matches an independent BigInt implementation for arbitrary states', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 4, maxLength: 4 }), (words) => {
        fc.pre(words.some((w) => w !== 0));
        const r = Generator.fromState({ algorithm: 'xoshiro128**', s: words as [number, number, number, number] });
        const ref = referenceXoshiro(words.map(BigInt));
        for (let i = 0; i < 50; i++) expect(r.nextUint32()).toBe(ref());
      }),
      { numRuns: 50 },
    );
  });

  it('state is JSON-serialisable and restores the exact stream', () => {
    const a = new Generator(1234);
    for (let i = 0; i < 17; i++) a.nextUint32();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const expected = Array.from({ length: 20 }, () => a.nextUint32());
    const b = new Generator(999);
    b.setState(saved);
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(expected);
  });

  it('same seed, same stream; different seeds, different streams', () => {
    const draw = (seed: number) => {
      const r = new Generator(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0)).not.toEqual(draw(1));
  });

  it('randint is in range and roughly uniform (chi-square, 10 bins)', () => {
    const r = new Generator(42);
    const bins = new Array(10).fill(0);
    const N = 100_000;
    for (let i = 0; i < N; i++) bins[r.randint(10)]++;
    const chi2 = bins.reduce((acc, c) => acc + (c - N / 10) ** 2 / (N / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    expect(() => r.randint(0)).toThrow(/randint/);
  });

  it('random lies in [0, 1)', () => {
    const r = new Generator(3);
    for (let i = 0; i < 10_000; i++) {
      const x = r.random();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('permutation is a permutation; deriveSeed separates labels', () => {
    const p = permutation(1000, new Generator(5));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const seeds = new Set<number>();
    for (let e = 0; e < 50; e++) for (let b = 0; b < 50; b++) seeds.add(deriveSeed(1, e, b));
    expect(seeds.size).toBe(2500);
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
  });

  it('rejects invalid states', () => {
    const r = new Generator(1);
    expect(() => r.setState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/all-zero/);
    expect(() => r.setState({ algorithm: 'xoshiro128**', s: [1, 2, 3, -1] } as never)).toThrow(/uint32/);
  });
});

describe('normal and shuffle', () => {
  it('normal has mean ~0 and variance ~1, and a pending value survives JSON', () => {
    const g = new Generator(11);
    const N = 50_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < N; i++) {
      const x = g.normal();
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / N)).toBeLessThan(0.02);
    expect(Math.abs(squares / N - 1)).toBeLessThan(0.03);
    g.normal(); // the pair's second value is now pending
    const saved = JSON.parse(JSON.stringify(g.getState()));
    expect(typeof saved.spareNormal).toBe('number');
    const expected = [g.normal(), g.normal(), g.random()];
    const restored = Generator.fromState(saved);
    expect([restored.normal(), restored.normal(), restored.random()]).toEqual(expected);
  });

  it('shuffle permutes in place and follows the same draws as permutation', () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    new Generator(4).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).toEqual(permutation(50, new Generator(4)));
  });
});

describe('deriveSeed', () => {
  it('string labels name purposes: distinct, stable, and distinct from the seed alone', () => {
    const names = ['init', 'dropout', 'decoder-mask', 'c_head.init'];
    const seeds = names.map((name) => deriveSeed(42, name));
    expect(new Set(seeds).size).toBe(names.length);
    expect(deriveSeed(42, 'dropout')).toBe(deriveSeed(42, 'dropout'));
    expect(deriveSeed(42, 'dropout')).not.toBe(deriveSeed(43, 'dropout'));
    expect(seeds).not.toContain(deriveSeed(42));
    expect(() => deriveSeed(Number.NaN)).toThrow(/seed/);
    expect(() => deriveSeed(1, Number.POSITIVE_INFINITY)).toThrow(/label/);
  });
});
