/**
 * Byte-level BPE (RoBERTa) against hand-computed merges, the GPT-2 regex itself (as an oracle for
 * the hand-written splitter) and a naive BPE trainer written here.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AutoTokenizer,
  BYTE_TO_CHAR,
  ByteLevelBpeTrainer,
  RobertaTokenizer,
  parseMergesTxt,
  splitGpt2,
} from '../src/tokenizers/index.js';

const MERGES: [string, string][] = [
  ['l', 'o'],
  ['lo', 'w'],
  ['e', 'r'],
  ['Ġ', 'low'],
  ['low', 'er'],
  ['Ġlow', 'er'],
  ['a', 'a'],
  ['b', 'c'],
  ['a', 'b'],
];
// <s> <pad> </s> <unk> = 0..3, byte b = 4 + b, merged tokens 260.., <mask> last.
const VOCAB = ['<s>', '<pad>', '</s>', '<unk>', ...BYTE_TO_CHAR, 'lo', 'low', 'er', 'Ġlow', 'lower', 'Ġlower', 'aa', 'bc', 'ab', '<mask>'];
const id = (t: string) => VOCAB.indexOf(t);
const tok = new RobertaTokenizer(VOCAB, MERGES);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The GPT-2 pattern as a JS regex (HF's Oniguruma \s differs only on U+0085 and U+FEFF). */
const GPT2 = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const pieces = (text: string): string[] => {
  const out: string[] = [];
  splitGpt2(text, { piece: (t, s, e) => out.push(t.slice(s, e)) });
  return out;
};

describe('byte-level pieces', () => {
  it('maps bytes to GPT-2 characters', () => {
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[33]).toBe('!');
    expect(BYTE_TO_CHAR[0]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });

  it('splits like the GPT-2 regex on hand cases', () => {
    expect(pieces("Hello world! It's  fine\n\n x")).toEqual(['Hello', ' world', '!', ' It', "'s", ' ', ' fine', '\n\n', ' x']);
    expect(pieces('我爱北京，2024年 ok   ')).toEqual(['我爱北京', '，', '2024', '年', ' ok', '   ']);
    expect(pieces("don't 'LL ''s")).toEqual(['don', "'t", " '", 'LL', " ''", 's']);
  });

  it('splits like the GPT-2 regex on random text', () => {
    const alphabet = fc.constantFrom('a', 'Z', 'é', '中', '1', '٣', '½', ' ', ' ', '\n', '\t', '\u3000', "'", 's', 'l', 'r', 'e', '!', '，', '😀', '\u0301', '\u00a0', '_');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 40 }), (text) => {
        expect(pieces(text)).toEqual(text.match(GPT2) ?? []);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('RobertaTokenizer BPE', () => {
  it('merges by rank, leftmost first, as worked out by hand', () => {
    expect(tok.tokenize('lower')).toEqual(['lower']);
    expect(tok.tokenize(' lower')).toEqual(['Ġlower']);
    expect(tok.tokenize('aaa')).toEqual(['aa', 'a']);
    expect(tok.tokenize('abc')).toEqual(['a', 'bc']);
    expect(tok.tokenize('lowest')).toEqual(['low', 'e', 's', 't']);
    expect(tok.tokenize('é')).toEqual(['Ã', '©']);
  });

  it('wraps with <s> </s> and records words', () => {
    const e = tok.encode('lower aaa abc!');
    expect(e.ids).toEqual([0, id('lower'), id('Ġ'), id('aa'), id('a'), id('Ġ'), id('a'), id('bc'), id('!'), 2]);
    expect(e.wordIds).toEqual([null, 0, 1, 1, 1, 2, 2, 2, 3, null]);
    expect(Array.from(e.wordStarts)).toEqual([0, 1, 1, 0, 0, 1, 0, 0, 1, 0]);
    expect(e.tokenTypeIds.every((t) => t === 0)).toBe(true);
    expect(tok.encode('lower', { textPair: 'abc' }).ids).toEqual([0, id('lower'), 2, 2, id('a'), id('bc'), 2]);
    expect([tok.clsTokenId, tok.padTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId]).toEqual([0, 1, 2, 3, VOCAB.length - 1]);
  });

  it('lets <mask> swallow the space before it, and add_prefix_space prepend one', () => {
    expect(tok.encode('lower <mask>').ids).toEqual([0, id('lower'), id('<mask>'), 2]);
    const prefixed = new RobertaTokenizer(VOCAB, MERGES, { addPrefixSpace: true });
    expect(prefixed.encode('lower').ids).toEqual([0, id('Ġlower'), 2]);
  });

  it('decodes bytes back to text, losslessly for any string', () => {
    expect(tok.decode([0, id('lower'), id('Ġ'), id('aa'), id('a'), id('!'), 2], { skipSpecialTokens: true })).toBe('lower aaa!');
    expect(tok.decode([0, id('lower'), 2])).toBe('<s>lower</s>');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        expect(tok.decode(tok.encode(text, { addSpecialTokens: false }).ids)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('saves HF files; loads from tokenizer.json and from vocab.json + merges.txt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retro-bpe-'));
    dirs.push(dir);
    await tok.save(dir);
    for (const f of ['vocab.json', 'merges.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n').slice(0, 3)).toEqual(['#version: 0.2', 'l o', 'lo w']);
    const text = 'lower <mask> aaa abc! 中文';
    const a = await AutoTokenizer.fromPretrained(dir);
    expect(a).toBeInstanceOf(RobertaTokenizer);
    expect(a.encode(text).ids).toEqual(tok.encode(text).ids);
    unlinkSync(join(dir, 'tokenizer.json'));
    const b = await AutoTokenizer.fromPretrained(dir);
    expect(b.encode(text).ids).toEqual(tok.encode(text).ids);
    expect(parseMergesTxt('#version: 0.2\r\na b\r\n')).toEqual([['a', 'b']]);
  });

  it('rejects merges whose parts are not in the vocabulary', () => {
    expect(() => new RobertaTokenizer(VOCAB, [['x', 'yz']])).toThrow(/merges\[0\].*"yz"/);
  });
});

/** Reference trainer: recount every pair each step; most frequent, ties by smaller ids. */
function naiveTrain(texts: string[], vocabSize: number, minFrequency: number): [string, string][] {
  const tokens = ['<s>', '<pad>', '</s>', '<unk>', ...BYTE_TO_CHAR];
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of t.match(GPT2) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  let words = [...counts].map(([w, n]) => ({ sym: Array.from(new TextEncoder().encode(w), (b) => 4 + b), n }));
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize - 1) {
    const pc = new Map<string, number>();
    for (const { sym, n } of words) for (let k = 0; k + 1 < sym.length; k++) pc.set(`${sym[k]},${sym[k + 1]}`, (pc.get(`${sym[k]},${sym[k + 1]}`) ?? 0) + n);
    let best: [number, number, number] | null = null;
    for (const [key, c] of pc) {
      const [a, b] = key.split(',').map(Number) as [number, number];
      if (!best || c > best[0] || (c === best[0] && (a < best[1] || (a === best[1] && b < best[2])))) best = [c, a, b];
    }
    if (!best || best[0] < minFrequency) break;
    const [, a, b] = best;
    const s = tokens[a]! + tokens[b]!;
    if (!idOf.has(s)) {
      idOf.set(s, tokens.length);
      tokens.push(s);
    }
    const m = idOf.get(s)!;
    merges.push([tokens[a]!, tokens[b]!]);
    words = words.map(({ sym, n }) => {
      const out: number[] = [];
      for (let k = 0; k < sym.length; k++) {
        if (k + 1 < sym.length && sym[k] === a && sym[k + 1] === b) {
          out.push(m);
          k++;
        } else out.push(sym[k]!);
      }
      return { sym: out, n };
    });
  }
  return merges;
}

describe('ByteLevelBpeTrainer', () => {
  it('learns the same merges as a naive trainer', () => {
    const texts = [
      'low lower lowest newer wider',
      'the lowest newest widest aaa aaaa',
      '我爱北京天安门，天安门上太阳升。',
      "it's the newest, isn't it? 2024 2025",
      '北京北京 天安门 lower lower',
    ];
    const trainer = new ByteLevelBpeTrainer({ vocabSize: 320, minFrequency: 2 });
    texts.forEach((t) => trainer.add(t));
    const model = trainer.train();
    expect(model.merges).toEqual(naiveTrain(texts, 320, 2));
    expect(model.vocab.slice(0, 4)).toEqual(['<s>', '<pad>', '</s>', '<unk>']);
    expect(model.vocab[model.vocab.length - 1]).toBe('<mask>');
    const t = new RobertaTokenizer(model.vocab, model.merges);
    expect(t.decode(t.encode(texts[2]!, { addSpecialTokens: false }).ids)).toBe(texts[2]);
  });
});

describe('AutoTokenizer.filesIn', () => {
  it('lists the saved files of a RoBERTa and of a BERT folder, in a fixed order, only those present', async () => {
    const robertaDir = mkdtempSync(join(tmpdir(), 'retro-files-in-'));
    dirs.push(robertaDir);
    await tok.save(robertaDir);
    const listed = await AutoTokenizer.filesIn(robertaDir);
    expect(listed.map((f) => f.slice(robertaDir.length + 1))).toEqual(
      ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'].filter((f) => existsSync(join(robertaDir, f))),
    );
    expect(listed.some((f) => f.endsWith('merges.txt')) && listed.some((f) => f.endsWith('vocab.json'))).toBe(true);
    expect(listed.some((f) => f.endsWith('vocab.txt'))).toBe(false);
    unlinkSync(join(robertaDir, 'merges.txt'));
    expect((await AutoTokenizer.filesIn(robertaDir)).some((f) => f.endsWith('merges.txt'))).toBe(false);
    const empty = mkdtempSync(join(tmpdir(), 'retro-files-in-'));
    dirs.push(empty);
    expect(await AutoTokenizer.filesIn(empty)).toEqual([]);
  });
});
