import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { maskableSpans, wordSpans } from '../src/index.js';

describe('wordSpans', () => {
  it('groups tokens by word-start flags, excluding [CLS]/[SEP] by default', () => {
    // [CLS] 我 们 喜 欢 hel ##lo [SEP]
    const starts = [1, 1, 0, 1, 0, 1, 0, 1];
    expect(wordSpans(starts, 8)).toEqual([
      { start: 1, end: 3 },
      { start: 3, end: 5 },
      { start: 5, end: 7 },
    ]);
  });

  it('a range starting on a continuation still opens a word; explicit range', () => {
    expect(wordSpans([0, 0, 1, 0], 4, { from: 0, to: 4 })).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
    ]);
    expect(wordSpans([1, 1, 1], 3)).toEqual([{ start: 1, end: 2 }]);
    expect(wordSpans([1, 1], 2)).toEqual([]);
    expect(wordSpans([1], 1)).toEqual([]);
    expect(wordSpans([], 0)).toEqual([]);
  });

  it('reads one row of a [B, L] batch at an offset, ignoring padding beyond length', () => {
    // row 0: [CLS] a b## [SEP] pad ; row 1: [CLS] c d e## [SEP]
    const starts = [1, 1, 0, 1, 0, 1, 1, 1, 0, 1];
    expect(wordSpans(starts, 4, { offset: 0 })).toEqual([{ start: 1, end: 3 }]);
    expect(wordSpans(starts, 5, { offset: 5 })).toEqual([
      { start: 1, end: 2 },
      { start: 2, end: 4 },
    ]);
    expect(() => wordSpans(starts, 6, { offset: 5 })).toThrow(/length must be an integer in \[0, 5\]/);
  });

  it('without flags every token is a word of its own', () => {
    expect(wordSpans(undefined, 5)).toEqual([
      { start: 1, end: 2 },
      { start: 2, end: 3 },
      { start: 3, end: 4 },
    ]);
  });

  it('validates its arguments', () => {
    expect(() => wordSpans([1, 1], 3)).toThrow(/length/);
    expect(() => wordSpans([1, 1, 1], 3, { from: 0, to: 4 })).toThrow(/range \[0, 4\)/);
  });

  // A flag means "1: this token starts a word, 0: it continues the word before it" (what the
  // tokenizers write and shards store). The encoder's masking once read `=== 1` and the decoder's
  // M `!== 0`, which disagree on any other value; such a value is refused instead of guessed at.
  it('refuses a flag that is neither 0 nor 1, naming its position', () => {
    expect(() => wordSpans([1, 1, 2, 1, 1], 5)).toThrow(/wordStarts\[2\] = 2; a word-start flag is 1 \(starts a word\) or 0/);
    expect(() => wordSpans([1, 1, 0, 1, 1, 1, 1, 255, 1], 4, { offset: 5 })).toThrow(/wordStarts\[7\] = 255/);
    expect(() => maskableSpans([5, 6, 7], [1, 0, 3], 3, () => false)).toThrow(/maskableSpans: wordStarts\[2\] = 3/);
  });
});

describe('maskableSpans', () => {
  it('excludes specials, which also end the word before them', () => {
    // [CLS] a b## [SEP] c [SEP] with 0 = [CLS], 9 = [SEP]
    const ids = [0, 5, 6, 9, 7, 9];
    const starts = [1, 1, 0, 0, 1, 1];
    expect(maskableSpans(ids, starts, 6, (id) => id === 0 || id === 9)).toEqual([
      { start: 1, end: 3 },
      { start: 4, end: 5 },
    ]);
  });

  it('agrees with wordSpans on [CLS] ... [SEP] sequences: the encoder and the decoder see the same words', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 1), { minLength: 0, maxLength: 40 }), (inner) => {
        const starts = [1, ...inner, 1];
        const n = starts.length;
        const ids = starts.map((_, i) => (i === 0 || i === n - 1 ? 0 : 5));
        expect(maskableSpans(ids, starts, n, (id) => id === 0)).toEqual(wordSpans(starts, n));
      }),
    );
  });
});
