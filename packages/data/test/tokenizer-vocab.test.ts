/**
 * The BERT-Chinese-style vocabulary builder: hand-counted small corpora, and the shared corpus
 * against the reference run's vocabulary (../shared/experiment/vocab.txt, built by an independent
 * PyTorch pipeline).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AutoTokenizer,
  BertTokenizer,
  WordPieceVocabBuilder,
  buildWordPieceVocab,
  tokenizerFor,
  writeWordPieceVocab,
} from '../src/tokenizers/index.js';

const SHARED = process.env.RETRO_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared');
const PARTS = [0, 1, 2, 3, 4, 5].map((p) => join(SHARED, 'corpus', `part-00${p}.json`));
const REF = join(SHARED, 'experiment', 'vocab.txt');
const hasShared = PARTS.every(existsSync) && existsSync(REF);

const SMALL = ['我爱你。', '我爱Hello!', 'hello world', 'HELLO hi', 'hi hi'];
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

describe('WordPieceVocabBuilder on a hand-counted corpus', () => {
  // Basic tokens: 我2 爱2 你1 。1 hello3 !1 world1 hi3.
  // Character frequency (alone or word-initial): h6 我2 爱2 你1 。1 !1 w1.
  // Continuation frequency: l7 o4 e3 i3 r1 d1. Words: hello3 hi3 world1.
  it('keeps chars, continuations and words by frequency, ties in first-seen order', async () => {
    const v = await buildWordPieceVocab(SMALL, { minCharFrequency: 2, minWordFrequency: 2, continuations: 'observed' });
    expect(v.vocab).toEqual([...SPECIALS, 'h', '我', '爱', '##l', '##o', '##e', '##i', 'hello', 'hi']);
    expect(v.counts).toEqual({ specials: 5, chars: 3, continuations: 4, extraContinuations: 0, words: 2 });
    expect(v.stats).toEqual({ texts: 5, tokens: 14, distinctTokens: 8 });
  });

  it('by default adds ## for every kept character that can continue a word', async () => {
    const v = await buildWordPieceVocab(SMALL, { minCharFrequency: 2, minWordFrequency: 2 });
    expect(v.vocab).toEqual([...SPECIALS, 'h', '我', '爱', '##l', '##o', '##e', '##i', '##h', 'hello', 'hi']);
    const tok = tokenizerFor(v);
    expect(tok.tokenize('Hi hello hoe hh 我')).toEqual(['hi', 'hello', 'h', '##o', '##e', 'h', '##h', '我']);
  });

  it('streams from an async iterable, one text at a time', async () => {
    async function* gen() {
      for (const t of SMALL) yield t;
    }
    const a = await buildWordPieceVocab(gen(), { minCharFrequency: 1, minWordFrequency: 1 });
    const b = new WordPieceVocabBuilder({ minCharFrequency: 1, minWordFrequency: 1 });
    for (const t of SMALL) b.add(t);
    expect(a.vocab).toEqual(b.build().vocab);
    expect(a.vocab.slice(5, 12)).toEqual(['h', '我', '爱', '你', '。', '!', 'w']);
  });

  it('writes vocab.txt and tokenizer.json that load back', async () => {
    const v = await buildWordPieceVocab(SMALL, { minCharFrequency: 2, minWordFrequency: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'retro-vocab-'));
    try {
      await writeWordPieceVocab(v, dir);
      expect(readFileSync(join(dir, 'vocab.txt'), 'utf8')).toBe(v.vocab.join('\n') + '\n');
      const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
      expect(Object.keys(json.model.vocab)).toEqual(v.vocab);
      expect((await AutoTokenizer.fromPretrained(dir)).tokenize('HELLO 我')).toEqual(['hello', '我']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('respects lower-casing off and custom specials', async () => {
    const v = await buildWordPieceVocab(['Ab Ab ab'], {
      minCharFrequency: 1,
      minWordFrequency: 1,
      normalizer: { lowercase: false },
      specialTokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '[unused1]'],
    });
    expect(v.vocab).toEqual([...SPECIALS, '[unused1]', 'A', 'a', '##b', '##A', '##a', 'Ab', 'ab']);
  });
});

const readDocs = (): string[] => PARTS.flatMap((p) => (JSON.parse(readFileSync(p, 'utf8')) as { content: string }[]).map((d) => d.content));
const readRef = (): string[] => {
  const lines = readFileSync(REF, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};
const isPrivateUse = (t: string) => /[\ue000-\uf8ff]/u.test(t);

describe.skipIf(!hasShared)(`vocabulary of the shared corpus vs the reference run (${hasShared ? SHARED : `SKIPPED: ${SHARED} not found`})`, () => {
  it("equals the reference except the private-use characters HF's clean_text drops", async () => {
    const docs = readDocs();
    expect(docs).toHaveLength(86294);
    const ref = readRef();
    expect(ref).toHaveLength(5159);
    const v = await buildWordPieceVocab(docs, { continuations: 'observed' });
    expect(v.stats.texts).toBe(86294);
    // The reference cleaned text like Google's BERT (drops Cc/Cf only), so it kept 5 private-use
    // (Co) characters and 2 continuations of them; HF (Python, Rust, JS) drops every C* character.
    const mine = new Set(v.vocab);
    const onlyRef = ref.filter((t) => !mine.has(t));
    expect(onlyRef.sort()).toEqual(['##\ue00e', '##\ue411', '\ue00e', '\ue056', '\ue411', '\ue416', '\ue420'].sort());
    expect(onlyRef.every(isPrivateUse)).toBe(true);
    const refSet = new Set(ref);
    expect(v.vocab.filter((t) => !refSet.has(t))).toEqual([]);
    expect(v.vocab).toHaveLength(5152);
    expect(v.counts).toEqual({ specials: 5, chars: 4712, continuations: 92, extraContinuations: 0, words: 343 });
    // Same order too, except two characters of doc 8203 ("临Τ\ue5e6翴\ue4c7┬丁"): the reference saw
    // "τ\ue5e6" and "\ue4c7┬" as words (τ counted after lone characters, ┬ as a continuation),
    // we see "τ" and "┬" alone once the private-use characters are dropped.
    const refClean = ref.filter((t) => !isPrivateUse(t));
    const moved = ['τ', '┬'];
    expect(v.vocab.filter((t) => !moved.includes(t))).toEqual(refClean.filter((t) => !moved.includes(t)));
    expect(moved.map((t) => [v.vocab.indexOf(t), refClean.indexOf(t)])).toEqual([
      [4196, 4280],
      [4342, 4676],
    ]);
  });

  it('covering all kept characters adds 38 ## entries', async () => {
    const v = await buildWordPieceVocab(readDocs());
    expect(v.vocab).toHaveLength(5190);
    expect(v.counts.extraContinuations).toBe(38);
    const ref = new Set(readRef());
    const extra = v.vocab.filter((t) => !ref.has(t));
    expect(extra).toHaveLength(38);
    expect(extra.every((t) => t.startsWith('##') && v.vocab.includes(t.slice(2)))).toBe(true);
  });

  it('the reference vocabulary leaves 0.02% of corpus tokens unknown, as its README says', async () => {
    const tok = await BertTokenizer.fromVocabFile(REF);
    let unk = 0;
    let n = 0;
    for (const d of readDocs()) {
      const { ids } = tok.encodeIds(d);
      n += ids.length;
      for (let k = 0; k < ids.length; k++) if (ids[k] === tok.unkTokenId) unk++;
    }
    expect((100 * unk) / n).toBeCloseTo(0.02, 2);
  });
});
