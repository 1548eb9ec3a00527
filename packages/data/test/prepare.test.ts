import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { prepare, type PrepareOptions, type PrepareProgress } from '../src/prepare.js';
import { readShardFile, ShardDataset } from '../src/shards/index.js';
import { CorpusError } from '../src/corpus/index.js';
import type { TokenizerLike } from '../src/text/index.js';

/** Character tokenizer for these tests: one token per non-space char, unknown chars -> [UNK]. */
class CharTokenizer implements TokenizerLike {
  readonly index: Map<string, number>;
  readonly padTokenId = 0;
  readonly unkTokenId = 1;
  readonly clsTokenId = 2;
  readonly sepTokenId = 3;
  readonly maskTokenId = 4;
  readonly vocabSize: number;
  constructor(vocabText: string) {
    const vocab = vocabText.split('\n').filter((l) => l.length > 0);
    this.index = new Map(vocab.map((t, i) => [t, i]));
    this.vocabSize = vocab.length;
  }
  tokenize(text: string): string[] {
    return [...text].filter((c) => !/\s/.test(c));
  }
  convertTokensToIds(tokens: string[]): number[] {
    return tokens.map((t) => this.index.get(t) ?? 1);
  }
}

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'retro-prepare-test-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'一二三四五六七八九十甲乙丙丁。！？'.split('')].join('\n') + '\n';

/** A fresh corpus: WuDao file (3 docs), JSONL (2 docs + 1 malformed), text (2 lines). */
function setup() {
  const dir = join(root, `case${n++}`);
  const corpus = join(dir, 'corpus');
  const out = join(dir, 'shards');
  rmSync(dir, { recursive: true, force: true });
  import_mkdir(corpus);
  const vocab = join(dir, 'vocab.txt');
  writeFileSync(vocab, VOCAB);
  const a = join(corpus, 'a.json');
  writeFileSync(
    a,
    JSON.stringify([
      { id: 0, title: 't', content: '一二三。四五！' },
      { id: 1, title: 't', content: '六七八九十甲乙丙丁一二。' },
      { id: 2, title: 't', content: '' },
    ]),
  );
  const b = join(corpus, 'b.jsonl');
  writeFileSync(b, '{"text":"甲乙。丙丁？"}\n{"text": 5}\n{"text":"一。"}\n');
  const c = join(corpus, 'c.txt');
  writeFileSync(c, '三四五六。\n七八。\n');
  const tokenizer = new CharTokenizer(VOCAB);
  const base: PrepareOptions = {
    inputs: [a, b, c],
    outDir: out,
    tokenizer,
    tokenizerFiles: [vocab],
    maxSeqLength: 8,
    segmenter: 'none',
    progress: false,
  };
  return { dir, out, a, b, c, vocab, tokenizer, base };
}
import { mkdirSync } from 'node:fs';
const import_mkdir = (p: string) => mkdirSync(p, { recursive: true });

/** All chunks of a prepared directory as token strings, per source file. */
function readBack(out: string, tokenizer: CharTokenizer) {
  const ds = ShardDataset.open(out, { verify: true });
  const inv = new Map([...tokenizer.index].map(([t, i]) => [i, t]));
  const bySource = new Map<string, string[]>();
  ds.manifest.shards.forEach((s, k) => {
    const d = ds.loadShard(k);
    for (let c = 0; c < d.numChunks; c++) {
      const ids = [...d.ids.subarray(d.offsets[c], d.offsets[c + 1])];
      const list = bySource.get(s.source) ?? [];
      list.push(ids.map((i) => inv.get(i)).join(' '));
      bySource.set(s.source, list);
    }
  });
  return { ds, bySource };
}

describe('prepare', () => {
  it('writes shards and a manifest whose chunks match the hand-computed packing', async () => {
    const { out, a, b, c, tokenizer, base } = setup();
    const r = await prepare(base);
    expect(r.processed).toEqual([a, b, c]);
    const { ds, bySource } = readBack(out, tokenizer);
    // maxSeqLength 8 -> 6 content tokens. a: "一二三。" (4) + "四五！" (3) do not fit together;
    // "六七八九十甲乙丙丁一二。" (12) is cut 6 + 6.
    expect(bySource.get(a)).toEqual([
      '[CLS] 一 二 三 。 [SEP]',
      '[CLS] 四 五 ！ [SEP]',
      '[CLS] 六 七 八 九 十 甲 [SEP]',
      '[CLS] 乙 丙 丁 一 二 。 [SEP]',
    ]);
    expect(bySource.get(b)).toEqual(['[CLS] 甲 乙 。 丙 丁 ？ [SEP]', '[CLS] 一 。 [SEP]']);
    expect(bySource.get(c)).toEqual(['[CLS] 三 四 五 六 。 [SEP]', '[CLS] 七 八 。 [SEP]']);
    const m = ds.manifest;
    expect(m.totals).toEqual({
      sources: 3,
      failedSources: 0,
      records: 3 + 3 + 2,
      documents: 2 + 2 + 2,
      chunks: 8,
      tokens: 4 + 3 + 6 + 6 + (6 + 2) + (5 + 3) + 2 * 8, // content + [CLS]/[SEP] per chunk
      skippedRecords: 1,
      emptyRecords: 1,
    });
    expect(r.chunks).toBe(8);
    const src = m.sources.find((s) => s.path === b)!;
    expect(src).toMatchObject({ format: 'jsonl', size: statSync(b).size, skippedRecords: 1, documents: 2, chunks: 2 });
    expect(src.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.tokenizer).toMatchObject({ vocabSize: tokenizer.vocabSize, clsTokenId: 2, maskTokenId: 4, specialIds: [2, 3, 0, 4, 1] });
    expect(m.config).toMatchObject({ maxSeqLength: 8, segmenter: 'none', idType: 'uint16' });
    expect(r.issues.map((i) => [i.kind, i.file, i.index])).toEqual([['schema', b, 1]]);
    expect(readdirSync(out).some((f) => f.includes('.tmp'))).toBe(false);
  });

  it('re-running is incremental: unchanged files are skipped, a changed file is re-done alone', async () => {
    const { out, a, b, c, tokenizer, base } = setup();
    await prepare(base);
    const shardFiles = () => readdirSync(out).filter((f) => f.endsWith('.rshard')).sort();
    const before = shardFiles();
    const again = await prepare(base);
    expect(again.processed).toEqual([]);
    expect(again.upToDate).toEqual([a, b, c]);
    expect(shardFiles()).toEqual(before);

    appendFileSync(c, '九十。\n');
    const third = await prepare(base);
    expect(third.processed).toEqual([c]);
    expect(third.upToDate).toEqual([a, b]);
    const { ds, bySource } = readBack(out, tokenizer);
    // Each line of a text file is its own document, so the new line is a new chunk.
    expect(bySource.get(c)).toEqual(['[CLS] 三 四 五 六 。 [SEP]', '[CLS] 七 八 。 [SEP]', '[CLS] 九 十 。 [SEP]']);
    expect(ds.manifest.totals.chunks).toBe(9);
    // The old shard of c is gone; those of a and b are untouched.
    const now = shardFiles();
    expect(now.filter((f) => f.startsWith('c.txt'))).toHaveLength(1);
    expect(now.filter((f) => !f.startsWith('c.txt'))).toEqual(before.filter((f) => !f.startsWith('c.txt')));
    expect(now.find((f) => f.startsWith('c.txt'))).not.toBe(before.find((f) => f.startsWith('c.txt')));
  });

  it('a touched file with the same bytes is recognised by its sha256', async () => {
    const { a, base } = setup();
    await prepare(base);
    const t = new Date(Date.now() + 60_000);
    utimesSync(a, t, t);
    const r = await prepare(base);
    expect(r.processed).toEqual([]);
    expect(r.manifest.sources.find((s) => s.path === a)!.mtimeMs).toBe(statSync(a).mtimeMs);
  });

  it('a different tokenizer or chunking config rebuilds everything', async () => {
    const { out, vocab, base } = setup();
    await prepare(base);
    const r1 = await prepare({ ...base, maxSeqLength: 16 });
    expect(r1.processed).toHaveLength(3);
    // Budget 14: every document fits one chunk (a: 7 and 12 tokens; b: 6, 2; c: 5, 3).
    expect(r1.manifest.totals.chunks).toBe(6);
    appendFileSync(vocab, '新\n');
    const tok2 = new CharTokenizer(readFileSync(vocab, 'utf8'));
    const r2 = await prepare({ ...base, maxSeqLength: 16, tokenizer: tok2 });
    expect(r2.processed).toHaveLength(3);
    expect(r2.manifest.tokenizer.vocabSize).toBe(tok2.vocabSize);
    const listed = new Set(r2.manifest.shards.map((s) => s.file));
    expect(readdirSync(out).filter((f) => f.endsWith('.rshard') && !listed.has(f))).toEqual([]);
  });

  it('reports progress through the callback and the stream', async () => {
    const { base } = setup();
    const events: PrepareProgress[] = [];
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    await prepare({ ...base, progress: stream, onProgress: (p) => events.push(p) });
    const done = events[events.length - 1];
    expect(done).toMatchObject({ phase: 'done', filesDone: 3, filesTotal: 3, documents: 6, chunks: 8 });
    expect(done.bytesDone).toBe(done.bytesTotal);
    expect(events.filter((e) => e.phase === 'file').length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/prepare: files 3\/3 \| docs 6 \| chunks 8 \| tokens 51 \| [\d.]+ MB\/s/);
  });

  it("onError 'fail' stops at the malformed record, naming file and index, and leaves no shards of it", async () => {
    const { out, b, base } = setup();
    const err = await prepare({ ...base, inputs: [b], onError: 'fail' }).catch((e) => e);
    expect(err).toBeInstanceOf(CorpusError);
    expect(err.message).toContain(`${b}: record 1: schema`);
    expect(readdirSync(out).filter((f) => f.endsWith('.rshard'))).toEqual([]);
  });

  it('keeps the records before a truncated WuDao file breaks, and marks the source failed', async () => {
    const { dir, out, tokenizer, base } = setup();
    const t = join(dir, 'corpus', 'trunc.json');
    writeFileSync(t, '[{"content":"一二。"},{"content":"三四。"},{"content":"五');
    const r = await prepare({ ...base, inputs: [t] });
    expect(r.manifest.sources[0].failed).toMatchObject({ kind: 'truncated', index: 2 });
    expect(r.manifest.totals.failedSources).toBe(1);
    expect(readBack(out, tokenizer).bySource.get(t)).toEqual(['[CLS] 一 二 。 [SEP]', '[CLS] 三 四 。 [SEP]']);
  });

  it('prune drops sources that are no longer listed; missing tokenizer identity is an error', async () => {
    const { out, a, base } = setup();
    await prepare(base);
    const r = await prepare({ ...base, inputs: [a], prune: true });
    expect(r.manifest.sources.map((s) => s.path)).toEqual([a]);
    expect(readdirSync(out).filter((f) => f.endsWith('.rshard')).every((f) => f.startsWith('a.json'))).toBe(true);
    await expect(prepare({ ...base, tokenizerFiles: undefined })).rejects.toThrow(/tokenizerFiles/);
  });

  it('stores int32 ids when asked and uses jieba word starts by default', async () => {
    const { out, base } = setup();
    const r = await prepare({ ...base, segmenter: undefined, idType: 'int32' });
    expect(r.manifest.config).toMatchObject({ segmenter: 'jieba', idType: 'int32' });
    const shard = readShardFile(join(out, r.manifest.shards[0].file));
    expect(shard.idType).toBe('int32');
    // "一二三。": jieba cuts 一二三 / 。 -> starts [CLS]=1, 一=1, 二=0, 三=0, 。=1, [SEP]=1.
    expect([...shard.wordStarts.subarray(shard.offsets[0], shard.offsets[1])]).toEqual([1, 1, 0, 0, 1, 1]);
  });
});
