/**
 * BertTokenizer against hand-computed expectations (the HF rules applied by hand to a tiny
 * vocabulary). Parity with HF's own implementation on real text is in tokenizer-parity.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, BertTokenizer, normalizeBertText, DEFAULT_BERT_NORMALIZER } from '../src/tokenizers/index.js';
import { longestFirstLengths } from '../src/tokenizers/encoding.js';

const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', // 0..4
  '我', '爱', '北', '京', '，', // 5..9
  'hello', 'world', ',', '!', '.', // 10..14
  'un', '##b', '##believ', '##able', 'cafe', // 15..19
  'a', '##a', 'Cafe', '12', '##3', // 20..24
  '𠀀', 'b', 'c', 'é', // 25..28
];
const tok = new BertTokenizer(VOCAB);
const ids = (tokens: string[]) => tokens.map((t) => VOCAB.indexOf(t));

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'retro-tok-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('BertTokenizer basic tokenization', () => {
  it('lower-cases, strips accents and splits punctuation', () => {
    expect(tok.tokenize('Hello, World!')).toEqual(['hello', ',', 'world', '!']);
    expect(tok.tokenize('CAFÉ.')).toEqual(['cafe', '.']);
  });

  it('makes every CJK character a token, also inside latin text', () => {
    expect(tok.tokenize('我爱hello北京')).toEqual(['我', '爱', 'hello', '北', '京']);
    // U+20000 is CJK Ext. B: a surrogate pair in JS, still one token.
    expect(tok.tokenize('a𠀀b')).toEqual(['a', '𠀀', 'b']);
  });

  it('drops control characters, U+0000 and U+FFFD inside words, and splits on any whitespace', () => {
    expect(tok.tokenize('hel\u0000lo\u200b wor\ufffdld')).toEqual(['hello', 'world']);
    expect(tok.tokenize('hello\tworld\nhello\u3000world\u00a0!')).toEqual(['hello', 'world', 'hello', 'world', '!']);
  });

  it('follows do_lower_case / strip_accents / tokenize_chinese_chars', () => {
    const cased = new BertTokenizer(VOCAB, { doLowerCase: false });
    expect(cased.tokenize('Cafe Café hello')).toEqual(['Cafe', '[UNK]', 'hello']);
    const stripOnly = new BertTokenizer(VOCAB, { doLowerCase: false, stripAccents: true });
    expect(stripOnly.tokenize('Café')).toEqual(['Cafe']);
    const keepAccents = new BertTokenizer(VOCAB, { stripAccents: false });
    expect(keepAccents.tokenize('É')).toEqual(['é']);
    const noCjk = new BertTokenizer(VOCAB, { tokenizeChineseChars: false });
    expect(noCjk.tokenize('我爱')).toEqual(['[UNK]']);
  });

  it('normalize() gives the HF normalizer string', () => {
    expect(normalizeBertText('Ab我\tÉ\u0007', DEFAULT_BERT_NORMALIZER)).toBe('ab 我  e');
  });
});

describe('BertTokenizer WordPiece', () => {
  it('matches the longest piece first and continues with ##', () => {
    expect(tok.tokenize('unbelievable')).toEqual(['un', '##believ', '##able']);
    expect(tok.tokenize('123')).toEqual(['12', '##3']);
  });

  it('makes the whole word [UNK] when any position has no piece', () => {
    expect(tok.tokenize('unbelievablex hello')).toEqual(['[UNK]', 'hello']);
  });

  it('makes words over 100 characters [UNK]', () => {
    expect(tok.tokenize('a'.repeat(100))).toEqual(['a', ...new Array(99).fill('##a')]);
    expect(tok.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
  });
});

describe('BertTokenizer encode', () => {
  it('adds [CLS]/[SEP] with masks, word ids and word starts', () => {
    const e = tok.encode('unbelievable world!');
    expect(e.tokens).toEqual(['[CLS]', 'un', '##believ', '##able', 'world', '!', '[SEP]']);
    expect(e.ids).toEqual([2, 15, 17, 18, 11, 13, 3]);
    expect(e.attentionMask).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(e.tokenTypeIds).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(e.wordIds).toEqual([null, 0, 0, 0, 1, 2, null]);
    expect(Array.from(e.wordStarts)).toEqual([0, 1, 0, 0, 1, 1, 0]);
    expect(Array.from(e.specialTokensMask)).toEqual([1, 0, 0, 0, 0, 0, 1]);
    expect(e.length).toBe(7);
  });

  it('encodes the empty string as [CLS] [SEP]', () => {
    expect(tok.encode('').ids).toEqual([2, 3]);
    expect(tok.encode('', { addSpecialTokens: false }).ids).toEqual([]);
  });

  it('encodes pairs with token type 1 for the second text', () => {
    const e = tok.encode('hello', { textPair: 'world' });
    expect(e.ids).toEqual([2, 10, 3, 11, 3]);
    expect(e.tokenTypeIds).toEqual([0, 0, 0, 1, 1]);
    expect(e.wordIds).toEqual([null, 0, null, 0, null]);
  });

  it('truncates to maxLength including the specials, and pads to it on request', () => {
    expect(tok.encode('hello world hello', { maxLength: 4 }).ids).toEqual([2, 10, 11, 3]);
    expect(tok.encode('hello world hello', { maxLength: 4, truncation: false }).ids).toHaveLength(5);
    const padded = tok.encode('hello', { maxLength: 5, padding: 'max_length' });
    expect(padded.ids).toEqual([2, 10, 3, 0, 0]);
    expect(padded.attentionMask).toEqual([1, 1, 1, 0, 0]);
    expect(padded.length).toBe(3);
    expect(() => tok.encode('hello', { maxLength: 1 })).toThrow(/maxLength 1/);
  });

  it('truncates pairs longest-first as HF tokenizers', () => {
    // Hand-derived from the Rust rule: cut the longer side first; if both must go, floor/ceil halves.
    expect(longestFirstLengths(10, 0, 5)).toEqual([5, 0]);
    expect(longestFirstLengths(5, 5, 7)).toEqual([3, 4]);
    expect(longestFirstLengths(2, 10, 6)).toEqual([2, 4]);
    expect(longestFirstLengths(10, 2, 6)).toEqual([4, 2]);
    expect(longestFirstLengths(3, 3, 10)).toEqual([3, 3]);
    const e = tok.encode('hello world hello world', { textPair: 'hello world', maxLength: 7 });
    expect(e.ids).toEqual([2, 10, 11, 3, 10, 11, 3]);
  });

  it('keeps special tokens written in the text as single tokens', () => {
    expect(tok.encode('hello [MASK] world[SEP]', { addSpecialTokens: false }).ids).toEqual([10, 4, 11, 3]);
  });

  it('batches with padding to the longest item or to maxLength', () => {
    const b = tok.encodeBatch(['hello', 'hello world !']);
    expect(b.seqLength).toBe(5);
    expect(Array.from(b.inputIds)).toEqual([2, 10, 3, 0, 0, 2, 10, 11, 13, 3]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(b.encodings[0]!.wordIds).toEqual([null, 0, null, null, null]);
    const m = tok.encodeBatch(['hello', 'hello world hello world'], { padding: 'max_length', maxLength: 4 });
    expect(Array.from(m.inputIds)).toEqual([2, 10, 3, 0, 2, 10, 11, 3]);
    expect(() => tok.encodeBatch(['a'], { padding: 'max_length' })).toThrow(/maxLength/);
  });
});

describe('BertTokenizer ids and decode', () => {
  it('exposes the special ids and vocabulary size', () => {
    expect([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId]).toEqual([0, 1, 2, 3, 4]);
    expect(tok.vocabSize).toBe(VOCAB.length);
    expect(tok.specialIds).toEqual([0, 1, 2, 3, 4]);
    expect(tok.convertTokensToIds(['hello', 'nope', '##a'])).toEqual([10, 1, 21]);
    expect(tok.isContinuation('##a')).toBe(true);
    expect(tok.isContinuation('a')).toBe(false);
  });

  it('decodes like HF: ## pieces glued, spaces before punctuation cleaned', () => {
    const e = ids(['[CLS]', 'un', '##believ', '##able', ',', 'world', '!', '[SEP]', '[PAD]']);
    expect(tok.decode(e)).toBe('[CLS] unbelievable, world! [SEP] [PAD]');
    expect(tok.decode(e, { skipSpecialTokens: true })).toBe('unbelievable, world!');
    expect(tok.decode(e, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe('unbelievable , world !');
    expect(() => tok.decode([999])).toThrow(/999/);
  });
});

describe('BertTokenizer files', () => {
  it('saves HF files and loads them back with AutoTokenizer', async () => {
    const dir = tmp();
    await tok.save(dir);
    for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'vocab.txt'), 'utf8')).toBe(VOCAB.join('\n') + '\n');
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(json.model.type).toBe('WordPiece');
    expect(json.normalizer).toEqual({ type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true });
    expect(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')).mask_token).toBe('[MASK]');
    const back = await AutoTokenizer.fromPretrained(dir);
    expect(back).toBeInstanceOf(BertTokenizer);
    expect(back.encode('Unbelievable 我爱 hello!').ids).toEqual(tok.encode('Unbelievable 我爱 hello!').ids);
  });

  it('loads vocab.txt alone (CRLF too), with tokenizer_config casing', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\r\n') + '\r\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const t = await AutoTokenizer.fromPretrained(dir);
    expect(t.vocabSize).toBe(VOCAB.length);
    expect(t.tokenize('Cafe cafe')).toEqual(['Cafe', 'cafe']);
  });

  it('round-trips a vocabulary with a "__proto__" token and digit tokens', async () => {
    const dir = tmp();
    const vocab = [...VOCAB, '__proto__', '7'];
    await new BertTokenizer(vocab).save(dir);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(Object.prototype.hasOwnProperty.call(json.model.vocab, '__proto__')).toBe(true);
    const back = await AutoTokenizer.fromPretrained(dir);
    expect(back.vocab).toEqual(vocab);
  });

  it('rejects a tokenizer.json that is not WordPiece, naming the field', () => {
    const json = tok.toTokenizerJson();
    expect(() => BertTokenizer.fromTokenizerJson({ ...json, model: { ...json.model, type: 'BPE' } })).toThrow(/model\.type/);
    expect(() => new BertTokenizer(['a', 'b'])).toThrow(/cls_token/);
  });
});
