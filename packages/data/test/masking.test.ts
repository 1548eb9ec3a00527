import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator } from '@retro/random';
import { IGNORE_INDEX, MaskKind, wholeWordMask, type WholeWordMaskOptions } from '../src/index.js';

// wordSpans / maskableSpans (the grouping) are tested in @retro/common's word-spans.test.ts.

// ---------- whole-word masking ----------

const V = 200;
const PAD = 0;
const UNK = 1;
const CLS = 2;
const SEP = 3;
const MASK = 4;
const SPECIALS = [PAD, UNK, CLS, SEP, MASK];
const opts = (ratio: number, extra: Partial<WholeWordMaskOptions> = {}): WholeWordMaskOptions => ({
  ratio,
  maskTokenId: MASK,
  vocabSize: V,
  specialIds: SPECIALS,
  ...extra,
});

/** A `[CLS] ... [SEP]` sequence; middle words of 1..maxWord tokens, some [UNK] tokens inside. */
const sequenceArb = (maxWord = 3) =>
  fc
    .array(
      fc.record({
        len: fc.integer({ min: 1, max: maxWord }),
        ids: fc.array(fc.integer({ min: 5, max: V - 1 }), { minLength: maxWord, maxLength: maxWord }),
        unk: fc.boolean(),
      }),
      { minLength: 1, maxLength: 40 },
    )
    .map((words) => {
      const ids = [CLS];
      const starts = [1];
      for (const w of words) {
        for (let k = 0; k < w.len; k++) {
          ids.push(w.unk && k === 0 && w.len === 1 ? UNK : w.ids[k]);
          starts.push(k === 0 ? 1 : 0);
        }
      }
      ids.push(SEP);
      starts.push(1);
      return { ids, starts };
    });

/** Independent word list: split at word starts and around special ids. */
function referenceWords(ids: number[], starts: number[]): number[][] {
  const words: number[][] = [];
  let cur: number[] | null = null;
  ids.forEach((id, i) => {
    if (SPECIALS.includes(id)) {
      cur = null;
      return;
    }
    if (!cur || starts[i] === 1) {
      cur = [];
      words.push(cur);
    }
    cur.push(i);
  });
  return words;
}

describe('wholeWordMask', () => {
  it('never selects or alters specials, and labels only selected positions', () => {
    fc.assert(
      fc.property(sequenceArb(), fc.integer(), fc.double({ min: 0.15, max: 0.3, noNaN: true }), ({ ids, starts }, seed, ratio) => {
        const m = wholeWordMask(ids, starts, new Generator(seed), opts(ratio));
        ids.forEach((id, i) => {
          if (SPECIALS.includes(id)) {
            expect(m.labels[i]).toBe(IGNORE_INDEX);
            expect(m.inputIds[i]).toBe(id);
            expect(m.kinds[i]).toBe(MaskKind.none);
          }
          if (m.kinds[i] === MaskKind.none) {
            expect(m.labels[i]).toBe(IGNORE_INDEX);
            expect(m.inputIds[i]).toBe(id);
          } else {
            expect(m.labels[i]).toBe(id);
          }
          if (m.kinds[i] === MaskKind.mask) expect(m.inputIds[i]).toBe(MASK);
          if (m.kinds[i] === MaskKind.keep) expect(m.inputIds[i]).toBe(id);
          if (m.kinds[i] === MaskKind.random) {
            expect(m.inputIds[i]).not.toBe(id);
            expect(SPECIALS.includes(m.inputIds[i])).toBe(false);
            expect(m.inputIds[i] >= 0 && m.inputIds[i] < V).toBe(true);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('masks whole words together and meets the budget up to one word', () => {
    fc.assert(
      fc.property(sequenceArb(4), fc.integer(), fc.double({ min: 0.15, max: 0.3, noNaN: true }), ({ ids, starts }, seed, ratio) => {
        const m = wholeWordMask(ids, starts, new Generator(seed), opts(ratio));
        const words = referenceWords(ids, starts);
        const maskable = words.reduce((a, w) => a + w.length, 0);
        if (maskable === 0) {
          expect(m.selected).toBe(0);
          return;
        }
        const budget = Math.max(1, Math.round(maskable * ratio));
        let selected = 0;
        for (const w of words) {
          const labelled = w.filter((i) => m.labels[i] !== IGNORE_INDEX).length;
          expect(labelled === 0 || labelled === w.length).toBe(true);
          selected += labelled;
        }
        expect(selected).toBe(m.selected);
        expect(selected).toBeLessThanOrEqual(budget);
        // Words are only passed over when they do not fit, so the shortfall is < the longest word.
        const longest = Math.max(...words.map((w) => w.length));
        expect(selected).toBeGreaterThanOrEqual(Math.min(budget, maskable) - (longest - 1));
      }),
      { numRuns: 300 },
    );
  });

  it('selects the requested ratio and splits 80/10/10 (aggregate over many sequences)', () => {
    for (const ratio of [0.15, 0.3]) {
      const rng = new Generator(2024);
      const gen = new Generator(77);
      let maskable = 0;
      let selected = 0;
      const kinds = [0, 0, 0, 0];
      for (let s = 0; s < 2000; s++) {
        // 120 single-token or two-token words: budget rarely blocks, so the ratio is tight.
        const ids = [CLS];
        const starts = [1];
        while (ids.length < 127) {
          const len = gen.random() < 0.7 ? 1 : 2;
          for (let k = 0; k < len && ids.length < 127; k++) {
            ids.push(5 + gen.randint(V - 5));
            starts.push(k === 0 ? 1 : 0);
          }
        }
        ids.push(SEP);
        starts.push(1);
        const m = wholeWordMask(ids, starts, rng, opts(ratio));
        maskable += ids.length - 2;
        selected += m.selected;
        for (const k of m.kinds) kinds[k]++;
      }
      expect(selected / maskable).toBeGreaterThan(ratio - 0.01);
      expect(selected / maskable).toBeLessThan(ratio + 0.005);
      const sel = kinds[1] + kinds[2] + kinds[3];
      expect(sel).toBe(selected);
      expect(kinds[MaskKind.mask] / sel).toBeCloseTo(0.8, 1);
      expect(Math.abs(kinds[MaskKind.mask] / sel - 0.8)).toBeLessThan(0.01);
      expect(Math.abs(kinds[MaskKind.random] / sel - 0.1)).toBeLessThan(0.01);
      expect(Math.abs(kinds[MaskKind.keep] / sel - 0.1)).toBeLessThan(0.01);
    }
  });

  it('is deterministic under a seed and differs across seeds', () => {
    fc.assert(
      fc.property(sequenceArb(), fc.integer(), ({ ids, starts }, seed) => {
        const a = wholeWordMask(ids, starts, new Generator(seed), opts(0.3));
        const b = wholeWordMask(ids, starts, new Generator(seed), opts(0.3));
        expect(b.inputIds).toEqual(a.inputIds);
        expect(b.labels).toEqual(a.labels);
      }),
      { numRuns: 100 },
    );
    const ids = [CLS, ...Array.from({ length: 100 }, (_, i) => 10 + i), SEP];
    const starts = ids.map(() => 1);
    const x = wholeWordMask(ids, starts, new Generator(1), opts(0.3));
    const y = wholeWordMask(ids, starts, new Generator(2), opts(0.3));
    expect(x.labels).not.toEqual(y.labels);
  });

  it("'word' decision gives every token of a word the same treatment", () => {
    fc.assert(
      fc.property(sequenceArb(4), fc.integer(), ({ ids, starts }, seed) => {
        const m = wholeWordMask(ids, starts, new Generator(seed), opts(0.3, { decision: 'word' }));
        for (const w of referenceWords(ids, starts)) {
          const ks = new Set(w.map((i) => (m.kinds[i] === MaskKind.random ? MaskKind.random : m.kinds[i])));
          expect(ks.size).toBe(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('masks at least one token of a one-word sequence; nothing when only specials', () => {
    const one = wholeWordMask([CLS, 50, SEP], [1, 1, 1], new Generator(0), opts(0.15));
    expect(one.selected).toBe(1);
    expect(one.labels[1]).toBe(50);
    const none = wholeWordMask([CLS, SEP], [1, 1], new Generator(0), opts(0.3));
    expect(none.selected).toBe(0);
  });

  it('validates options', () => {
    expect(() => wholeWordMask([CLS, 9, SEP], [1, 1, 1], new Generator(0), opts(0))).toThrow(/ratio/);
    expect(() => wholeWordMask([CLS, 9, SEP], [1, 1], new Generator(0), opts(0.3))).toThrow(/same length/);
    expect(() => wholeWordMask([CLS, 9, SEP], [1, 1, 1], new Generator(0), opts(0.3, { maskProb: 0.9, randomProb: 0.2 }))).toThrow(
      /maskProb/,
    );
  });
});
