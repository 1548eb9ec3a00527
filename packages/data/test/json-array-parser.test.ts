import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonArrayStreamParser, type ArrayParseFailure, type RawElement } from '../src/corpus/wudao-parser.js';

/** Feeds `text` cut at `cuts` (fractions of its length) and collects everything the parser says. */
function parse(text: string, cuts: number[] = []): { values: unknown[]; indices: number[]; failure: ArrayParseFailure | null } {
  const at = [...new Set(cuts.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b);
  const parser = new JsonArrayStreamParser();
  const got: RawElement[] = [];
  let from = 0;
  for (const cut of [...at, text.length]) {
    got.push(...parser.write(text.slice(from, cut)));
    from = cut;
  }
  got.push(...parser.end());
  return { values: got.map((e) => e.value), indices: got.map((e) => e.index), failure: parser.failure };
}

const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });
const spaceArb = fc.string({ unit: fc.constantFrom(' ', '\n', '\t', '\r'), maxLength: 3 });
/** Strings full of what a scanner can trip on: quotes, backslashes, brackets, commas, CJK. */
const trickyString = fc.string({ unit: fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', 'a', '文', '\n', '\u2028', '\\"'), maxLength: 12 });
const valueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ id: fc.nat(), title: trickyString, content: trickyString }),
  trickyString,
);

/** An array of `values` written out with random whitespace around its tokens. */
const arrayTextArb = fc
  .tuple(fc.array(valueArb, { maxLength: 6 }), fc.array(spaceArb, { minLength: 20, maxLength: 20 }))
  .map(([values, spaces]) => {
    const s = (k: number) => spaces[k % spaces.length];
    const body = values.map((v, k) => s(k) + JSON.stringify(v) + s(k + 7)).join(',');
    return { values, text: `${s(3)}[${body}${values.length ? '' : s(5)}]${s(11)}` };
  });

describe('JsonArrayStreamParser', () => {
  it('returns every element as JSON.parse reads it, with its index, for any split of the text', () => {
    fc.assert(
      fc.property(arrayTextArb, cutsArb, ({ values, text }, cuts) => {
        const r = parse(text, cuts);
        expect(r.failure).toBeNull();
        expect(r.values).toEqual(JSON.parse(text));
        expect(r.values).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
        expect(r.indices).toEqual(values.map((_, k) => k));
      }),
      { numRuns: 400 },
    );
  });

  it('a text cut anywhere before its closing ] is truncated, after exactly the elements complete in it', () => {
    fc.assert(
      fc.property(arrayTextArb, fc.double({ min: 0, max: 1, noNaN: true }), cutsArb, ({ text }, where, cuts) => {
        const close = text.lastIndexOf(']');
        const cut = text.slice(0, Math.floor(where * close));
        const r = parse(cut, cuts);
        expect(r.failure?.kind).toBe('truncated');
        expect(r.failure?.index).toBe(r.values.length);
        // What came out is a prefix of the whole array, element for element.
        expect(r.values).toEqual((JSON.parse(text) as unknown[]).slice(0, r.values.length));
      }),
      { numRuns: 400 },
    );
  });

  it('garbage after element k: elements 0..k survive and the error names element k+1', () => {
    fc.assert(
      fc.property(
        fc.array(valueArb, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.constantFrom('@', 'x', '}', ':', '"', '1'),
        (values, pick, garbage) => {
          const k = pick % values.length;
          const parts = values.map((v) => JSON.stringify(v));
          parts[k] += ` ${garbage}`;
          const r = parse(`[${parts.join(',')}]`);
          expect(r.failure).toMatchObject({ kind: 'syntax', index: k + 1 });
          expect(r.values).toEqual(values.slice(0, k + 1).map((v) => JSON.parse(JSON.stringify(v))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same elements and failure for any split of any text, valid or not', () => {
    const noisy = fc
      .tuple(arrayTextArb, fc.array(fc.tuple(fc.nat(), fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', 'x', ' ', '')), { maxLength: 3 }))
      .map(([{ text }, edits]) => {
        let t = text;
        for (const [at, ch] of edits) {
          const i = at % (t.length + 1);
          t = t.slice(0, i) + ch + t.slice(i + (ch === '' ? 1 : 0));
        }
        return t;
      });
    fc.assert(
      fc.property(noisy, cutsArb, (text, cuts) => {
        expect(parse(text, cuts)).toEqual(parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('a syntax error inside an element fails at that element, with what JSON.parse says', () => {
    const r = parse('[{"id":0},{"id":1, content: "x"},{"id":2}]', [0.3, 0.5]);
    expect(r.values).toEqual([{ id: 0 }]);
    expect(r.failure).toMatchObject({ kind: 'syntax', index: 1 });
    expect(r.failure!.message).toMatch(/JSON/);
  });

  it('a mismatched bracket ends the element at once, so a broken record cannot hold the rest of the file', () => {
    const rest = Array.from({ length: 2000 }, (_, k) => `{"id":${k},"content":"内容"}`).join(',');
    const parser = new JsonArrayStreamParser();
    parser.write('[{"id":0,"list":[1,2}');
    expect(parser.failure).toMatchObject({ kind: 'syntax', index: 0 });
    expect(parser.write(`,${rest}]`)).toEqual([]);
  });

  it('names what the top level is when it is not an array; empty input and trailing text', () => {
    expect(parse('{"a": 1}').failure).toMatchObject({ kind: 'not-array', index: 0, message: expect.stringMatching(/top level is an object/) });
    expect(parse('  "x"').failure).toMatchObject({ kind: 'not-array', message: expect.stringMatching(/a string value/) });
    expect(parse('-1').failure!.message).toMatch(/a number value/);
    expect(parse('').failure).toMatchObject({ kind: 'truncated', index: 0, message: expect.stringMatching(/empty/) });
    expect(parse(' \n ').failure).toMatchObject({ kind: 'truncated', index: 0 });
    expect(parse('[1,2] 3')).toMatchObject({ values: [1, 2], failure: { kind: 'syntax', index: 2, message: expect.stringMatching(/after the closing \]/) } });
    expect(parse('[1,]')).toMatchObject({ values: [1], failure: { kind: 'syntax', index: 1 } });
    expect(parse('[,1]')).toMatchObject({ values: [], failure: { kind: 'syntax', index: 0 } });
    expect(parse('[1 2]')).toMatchObject({ values: [1], failure: { kind: 'syntax', index: 1, message: expect.stringMatching(/expected , or \]/) } });
    expect(parse('[]')).toEqual({ values: [], indices: [], failure: null });
  });

  it('an escaped quote split from its backslash across writes stays inside the string', () => {
    const parser = new JsonArrayStreamParser();
    const got = [...parser.write('[{"content":"a\\'), ...parser.write('"b"}]'), ...parser.end()];
    expect(parser.failure).toBeNull();
    expect(got).toEqual([{ index: 0, value: { content: 'a"b' } }]);
  });
});
