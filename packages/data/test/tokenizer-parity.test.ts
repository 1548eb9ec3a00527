/**
 * Parity with HF's reference JS implementation (@huggingface/tokenizers 0.2.0) fed the very same
 * tokenizer.json files this package writes: ids must be identical.
 *
 * Where HF implementations disagree we follow HF `tokenizers` (Rust) / `transformers` (Python),
 * which the JS port deviates from in three places, asserted below with hand-computed values:
 * - BERT: unassigned code points (category Cn) are control characters and dropped (JS keeps them);
 * - BERT: CJK ideographs above U+FFFF are split like the others (JS sees only UTF-16 units);
 * - byte-level: U+0085 is whitespace for the GPT-2 split and U+FEFF is not (Oniguruma's \s).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoTokenizer,
  BertTokenizer,
  ByteLevelBpeTrainer,
  WordPieceVocabBuilder,
  splitGpt2,
  tokenizerFor,
  type AnyTokenizer,
} from '../src/tokenizers/index.js';

const SHARED = process.env.RETRO_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared');
const PART0 = join(SHARED, 'corpus', 'part-000.json');
const CMTEB = join(SHARED, 'cmteb-lite');
const hasShared = existsSync(PART0) && existsSync(join(CMTEB, 'stsb', 'test.jsonl'));

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Saves `tok`, reloads it with AutoTokenizer, and builds HF's JS tokenizer from the saved files. */
async function roundTrip(tok: AnyTokenizer): Promise<{ mine: AnyTokenizer; hf: Tokenizer }> {
  const dir = mkdtempSync(join(tmpdir(), 'retro-parity-'));
  dirs.push(dir);
  await tok.save(dir);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  return { mine: await AutoTokenizer.fromPretrained(dir), hf: new Tokenizer(json, config) };
}

/** Texts whose ids differ (at most `keep` examples) and how many were compared. */
function compare(mine: AnyTokenizer, hf: Tokenizer, texts: Iterable<string>, keep = 5) {
  const bad: { text: string; mine: number[]; hf: number[] }[] = [];
  let n = 0;
  let mismatches = 0;
  let tokens = 0;
  for (const text of texts) {
    n++;
    const a = mine.encode(text).ids;
    const b = hf.encode(text).ids;
    tokens += a.length;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      mismatches++;
      if (bad.length < keep) bad.push({ text, mine: a, hf: b });
    }
  }
  return { n, mismatches, tokens, bad };
}

const EDGE_CASES = [
  '',
  ' ',
  '\n\t  \r\n',
  'Hello, World! Café naïve RÉSUMÉ façade Ångström',
  'e\u0301 a\u0308 o\u0303 (combining accents)',
  'ctrl\u0000in\u0007side\u001b[0m, zero\u200bwidth, bom\ufeff, del\u007f, bad\ufffdchar, private\ue000use',
  'tabs\tnew\nlines\rand\u3000ideographic\u00a0nbsp\u2028line\u2029para',
  '我爱北京天安门，iPhone12 Pro Max只要5999元！价格：¥5,999.00（约$850）',
  '全角ＡＢＣａｂｃ１２３！？＠＃ and 半角ABCabc123!?@#',
  '😀👍🏽👨‍👩‍👧 emoji 🇨🇳 ❤️ ✓',
  'Ǆemal ΟΔΟΣ Σίσυφος İstanbul ß ﬁnance Ⅻ ½ ² ㈱',
  '한국어 日本語のテキスト ไทย العربية עברית हिन्दी',
  'supercalifragilisticexpialidocious'.repeat(3),
  'x'.repeat(100),
  'y'.repeat(101),
  'a-b_c.d/e:f;g<h>i[j]k{l}m|n~o`p^q"r\'s',
  "It's don't we'll I'M they've you'd 'quoted'",
  '3.14159 1,000,000 2024-05-21 10:30 50% #1 @user user@example.com http://x.y/z?q=1&r=2',
  '[CLS] text with [MASK] and [SEP] inside [PAD][UNK]',
  '<s> bpe <mask> specials </s> <pad>',
  '   leading and trailing   ',
  '豈 更 車 (CJK compatibility ideographs) ⺀ ⼀ (radicals) 〇 々 ー',
];

/** A corpus that gives the edge cases a vocabulary where most pieces exist (so ids say a lot). */
const EDGE_CORPUS = [...EDGE_CASES, ...EDGE_CASES, 'hello world the quick brown fox', '数据 模型 训练 评测'];

describe('parity on hand-written edge cases (no shared data needed)', () => {
  let bert: { mine: AnyTokenizer; hf: Tokenizer };
  let bpe: { mine: AnyTokenizer; hf: Tokenizer };
  beforeAll(async () => {
    const b = new WordPieceVocabBuilder({ minCharFrequency: 1, minWordFrequency: 2 });
    EDGE_CORPUS.forEach((t) => b.add(t));
    bert = await roundTrip(b.toTokenizer());
    const t = new ByteLevelBpeTrainer({ vocabSize: 700, minFrequency: 2 });
    EDGE_CORPUS.forEach((x) => t.add(x));
    bpe = await roundTrip(t.toTokenizer());
  });

  it('WordPiece ids equal HF on every edge case', () => {
    const r = compare(bert.mine, bert.hf, EDGE_CASES);
    expect(r.bad).toEqual([]);
    expect(r.n).toBe(EDGE_CASES.length);
  });

  it('byte-level BPE ids equal HF on every edge case', () => {
    const r = compare(bpe.mine, bpe.hf, EDGE_CASES);
    expect(r.bad).toEqual([]);
  });

  it('decode equals HF, with and without specials', () => {
    for (const { mine, hf } of [bert, bpe]) {
      for (const text of EDGE_CASES) {
        const ids = mine.encode(text).ids;
        expect(mine.decode(ids)).toBe(hf.decode(ids));
        if (ids.length > 2) expect(mine.decode(ids, { skipSpecialTokens: true })).toBe(hf.decode(ids, { skip_special_tokens: true }));
      }
    }
  });

  it('ids equal HF on random strings of tricky characters', () => {
    // Every class the normalizer and pre-tokenizers treat specially, minus the three known deviations.
    const unit = fc.constantFrom(
      'a', 'Z', 'É', 'é', 'e', '\u0301', 'ß', 'Σ', 'İ', 'ǅ', '1', '٣', '½', '中', '文', '豈', '，', '。', '！', '.', ',', "'", 's', '#',
      '$', '~', '¥', '℃', '∶', 'ｶ', 'Ａ', '１', '😀', '👍🏽', '\u200d', ' ', '  ', '\t', '\n', '\r', '\u3000', '\u00a0', '\u2028',
      '\u0000', '\u0007', '\u200b', '\ufffd', '\ue000', '[MASK]', '[SEP]', '<mask>', '<s>', 'hello', 'world', 'x'.repeat(60),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 30 }).map((xs) => xs.join('')), (text) => {
        expect(bert.mine.encode(text).ids).toEqual(bert.hf.encode(text).ids);
        expect(bpe.mine.encode(text).ids).toEqual(bpe.hf.encode(text).ids);
      }),
      { numRuns: 2000 },
    );
  });

  it('follows HF Rust/Python where the JS port deviates (hand-computed)', () => {
    const t = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'z', 'a', '##z', '𠀀', '𠀁']);
    // U+0378 is unassigned (Cn): dropped like other control characters, so "a\u0378z" is "az".
    expect(t.tokenize('a\u0378z')).toEqual(['a', '##z']);
    // U+20000 and U+20001 are CJK Ext. B ideographs: one token each.
    expect(t.tokenize('𠀀𠀁')).toEqual(['𠀀', '𠀁']);
    const pieces = (s: string) => {
      const out: string[] = [];
      splitGpt2(s, { piece: (x, a, b) => out.push(x.slice(a, b)) });
      return out;
    };
    // U+0085 (NEL) is \s for Oniguruma: " \u0085" is a whitespace run ending before "b".
    expect(pieces('a \u0085b')).toEqual(['a', ' ', '\u0085', 'b']);
    // U+FEFF is not \s for Oniguruma: it is "other", glued after the optional space.
    expect(pieces('a \ufeffb')).toEqual(['a', ' \ufeff', 'b']);
  });
});

function* jsonl(path: string): Generator<Record<string, unknown>> {
  for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) yield JSON.parse(line);
}

/** Every text of cmteb-lite: STS sentence pairs, reranking queries/candidates, retrieval corpus/queries. */
function cmtebTexts(): string[] {
  const out = new Set<string>();
  for (const r of jsonl(join(CMTEB, 'stsb', 'test.jsonl'))) {
    out.add(r.sentence1 as string);
    out.add(r.sentence2 as string);
  }
  for (const r of jsonl(join(CMTEB, 'reranking', 't2-like.jsonl'))) {
    out.add(r.query as string);
    for (const x of [...(r.positive as string[]), ...(r.negative as string[])]) out.add(x);
  }
  for (const r of jsonl(join(CMTEB, 'retrieval', 'corpus.jsonl'))) {
    out.add(r.text as string);
    if (r.title) out.add(r.title as string);
  }
  for (const r of jsonl(join(CMTEB, 'retrieval', 'queries.jsonl'))) out.add(r.text as string);
  return [...out];
}

describe.skipIf(!hasShared)(`parity on shared data (${hasShared ? SHARED : `SKIPPED: ${SHARED} not found`})`, () => {
  let docs: { title: string; content: string }[];
  let cmteb: string[];
  let bert: { mine: AnyTokenizer; hf: Tokenizer };
  let bpe: { mine: AnyTokenizer; hf: Tokenizer };
  const N_DOCS = 3000;

  beforeAll(async () => {
    docs = JSON.parse(readFileSync(PART0, 'utf8'));
    cmteb = cmtebTexts();
    // (a) WordPiece, lower-cased, built by our builder from the whole shared corpus.
    const b = new WordPieceVocabBuilder();
    for (let p = 0; p < 6; p++) {
      for (const d of JSON.parse(readFileSync(join(SHARED, 'corpus', `part-00${p}.json`), 'utf8')) as { content: string }[]) b.add(d.content);
    }
    const v = b.build();
    expect(v.vocab.length).toBeGreaterThan(5000);
    bert = await roundTrip(tokenizerFor(v));
    // (b) byte-level BPE trained on other documents of the corpus than the ones compared.
    const t = new ByteLevelBpeTrainer({ vocabSize: 3000 });
    for (const d of docs.slice(N_DOCS, N_DOCS + 2000)) t.add(d.content);
    bpe = await roundTrip(t.toTokenizer());
  });

  it('cmteb-lite: WordPiece ids equal HF on every sentence', () => {
    const r = compare(bert.mine, bert.hf, cmteb);
    console.info(`[parity] WordPiece, cmteb-lite: ${r.n - r.mismatches}/${r.n} texts equal (${r.tokens} tokens)`);
    // Distinct texts per the cmteb-lite README: retrieval corpus 7,456 (all STS-B test strings + 5,000
    // distractors) + reranking 5,661 - 3,361 shared distractors - 179 STS-B test sentences = 9,577.
    expect(r.n).toBe(9577);
    expect(r.bad).toEqual([]);
  });

  it(`corpus: WordPiece ids equal HF on ${N_DOCS} documents (content and title)`, () => {
    const texts = docs.slice(0, N_DOCS).flatMap((d) => [d.content, d.title]);
    const r = compare(bert.mine, bert.hf, texts);
    console.info(`[parity] WordPiece, corpus: ${r.n - r.mismatches}/${r.n} texts equal (${r.tokens} tokens)`);
    expect(r.bad).toEqual([]);
  });

  it('cmteb-lite: byte-level BPE ids equal HF on every sentence', () => {
    const r = compare(bpe.mine, bpe.hf, cmteb);
    console.info(`[parity] BPE, cmteb-lite: ${r.n - r.mismatches}/${r.n} texts equal (${r.tokens} tokens)`);
    expect(r.bad).toEqual([]);
  });

  it(`corpus: byte-level BPE ids equal HF on ${N_DOCS} documents`, () => {
    const r = compare(bpe.mine, bpe.hf, docs.slice(0, N_DOCS).map((d) => d.content));
    console.info(`[parity] BPE, corpus: ${r.n - r.mismatches}/${r.n} texts equal (${r.tokens} tokens)`);
    expect(r.bad).toEqual([]);
  });

  it('decode equals HF on corpus documents', () => {
    for (const { mine, hf } of [bert, bpe]) {
      for (const d of docs.slice(0, 300)) {
        const ids = mine.encode(d.content).ids;
        expect(mine.decode(ids, { skipSpecialTokens: true })).toBe(hf.decode(ids, { skip_special_tokens: true }));
      }
    }
  });

  it('reference vocab.txt: ids equal HF given the same vocabulary', async () => {
    const ref = join(SHARED, 'experiment', 'vocab.txt');
    if (!existsSync(ref)) return;
    const r = await roundTrip(await BertTokenizer.fromVocabFile(ref));
    const res = compare(r.mine, r.hf, [...cmteb.slice(0, 3000), ...docs.slice(0, 1000).map((d) => d.content)]);
    expect(res.bad).toEqual([]);
  });
});
