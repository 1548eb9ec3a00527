import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator } from '@retro/tensor';
import { wordSpans } from '@retro/common';
import { sampleDecoderMask } from '../src/mask-m.js';

const batchArbitrary = fc
  .record({
    seqLen: fc.integer({ min: 3, max: 40 }),
    batch: fc.integer({ min: 1, max: 4 }),
    ratio: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    wordSeed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .chain((base) =>
    fc.record({
      ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, fc.constant(v)])),
      lengths: fc.array(fc.integer({ min: 0, max: base.seqLen }), { minLength: base.batch, maxLength: base.batch }),
    }) as fc.Arbitrary<typeof base & { lengths: number[] }>,
  );

function randomWordStarts(batch: number, seqLen: number, seed: number): Uint8Array {
  const generator = new Generator(seed);
  const starts = new Uint8Array(batch * seqLen);
  for (let i = 0; i < starts.length; i++) starts[i] = generator.random() < 0.6 ? 1 : 0;
  return starts;
}

describe('mask M', () => {
  it('hides the diagonal, shows column 0 to rows i>0, and zeroes padding rows and columns', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ seqLen, lengths, ratio, seed, wordSeed }) => {
        const wordStarts = randomWordStarts(lengths.length, seqLen, wordSeed);
        const m = sampleDecoderMask({ lengths, seqLen, ratio, generator: new Generator(seed), wordStarts });
        expect(m.length).toBe(lengths.length * seqLen * seqLen);
        lengths.forEach((n, b) => {
          for (let i = 0; i < seqLen; i++) {
            for (let j = 0; j < seqLen; j++) {
              const value = m[(b * seqLen + i) * seqLen + j];
              if (i === j) expect(value).toBe(0);
              else if (i >= n || j >= n) expect(value).toBe(0);
              else if (j === 0 || j === n - 1) expect(value).toBe(1);
            }
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('hides whole words: apart from the row itself, a word is hidden entirely or not at all', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ seqLen, lengths, ratio, seed, wordSeed }) => {
        const wordStarts = randomWordStarts(lengths.length, seqLen, wordSeed);
        const m = sampleDecoderMask({ lengths, seqLen, ratio, generator: new Generator(seed), wordStarts });
        lengths.forEach((n, b) => {
          const spans = wordSpans(wordStarts, n, { offset: b * seqLen });
          for (let i = 0; i < n; i++) {
            const row = (b * seqLen + i) * seqLen;
            for (const { start, end } of spans) {
              const hidden = new Set<number>();
              for (let j = start; j < end; j++) if (j !== i) hidden.add(m[row + j]);
              expect(hidden.size).toBeLessThanOrEqual(1);
            }
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a word-start flag other than 0 or 1 instead of guessing what it means', () => {
    const wordStarts = Uint8Array.from([1, 1, 0, 1, 1, /* row 1 */ 1, 1, 2, 1, 0]);
    expect(() => sampleDecoderMask({ lengths: [4, 4], seqLen: 5, ratio: 0.5, generator: new Generator(1), wordStarts })).toThrow(
      /wordStarts\[7\] = 2; a word-start flag is 1/,
    );
  });

  it('gives the same mask for the same seed and a different one for another seed', () => {
    const lengths = [30, 17, 5];
    const make = (seed: number) => sampleDecoderMask({ lengths, seqLen: 32, ratio: 0.5, generator: new Generator(seed) });
    expect(make(11)).toEqual(make(11));
    expect(make(11)).not.toEqual(make(12));
  });

  it('hides about `ratio` of the candidate tokens of each row on average', () => {
    for (const ratio of [0.3, 0.5, 0.7]) {
      const seqLen = 128;
      const lengths = Array.from({ length: 16 }, () => 128);
      const m = sampleDecoderMask({ lengths, seqLen, ratio, generator: new Generator(3) });
      let hidden = 0;
      let candidates = 0;
      for (let b = 0; b < lengths.length; b++) {
        for (let i = 1; i < seqLen - 1; i++) {
          for (let j = 1; j < seqLen - 1; j++) {
            if (j === i) continue;
            candidates++;
            if (m[(b * seqLen + i) * seqLen + j] === 0) hidden++;
          }
        }
      }
      // The budget round(n * ratio) is spent on the n-2 candidate positions.
      const expected = Math.round(seqLen * ratio) / (seqLen - 2);
      expect(Math.abs(hidden / candidates - expected)).toBeLessThan(0.01);
    }
  });

  it('rejects lengths longer than the padded length and a bad ratio, naming them', () => {
    expect(() => sampleDecoderMask({ lengths: [9], seqLen: 8, ratio: 0.5, generator: new Generator(0) })).toThrow(/lengths\[0\] = 9/);
    expect(() => sampleDecoderMask({ lengths: [4], seqLen: 8, ratio: 1.5, generator: new Generator(0) })).toThrow(/ratio/);
  });
});
