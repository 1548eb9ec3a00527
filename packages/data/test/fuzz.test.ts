/**
 * Fuzz suite for the files @retro/data reads: tokenizer.json (WordPiece and BPE), vocab.txt,
 * shards + manifest.json, WuDao JSON, JSONL and text corpora. Truncations, byte flips, inserted
 * bytes, wrong-typed and absurd JSON values: each case must end in a clear error naming the file
 * or a correct result, within a time bound (see test-support/fuzz.ts). Counts are printed per format.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoTokenizer,
  BertTokenizer,
  RobertaTokenizer,
  ShardDataset,
  readDocuments,
  type CorpusDocument,
} from '../src/index.js';
import { writeShardSet } from './helpers/shard-set.js';
import { Tally, applyJsonMutation, applyMutation, byteMutation, classify, jsonMutation, runs } from '../../../test-support/fuzz.js';

const root = mkdtempSync(join(tmpdir(), 'retro-fuzz-data-'));
const tally = new Tally();
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  console.log(`fuzz outcomes (@retro/data):\n${tally.table()}`);
});
let caseNo = 0;
const caseDir = () => {
  const dir = join(root, `c${caseNo++}`);
  mkdirSync(dir);
  return dir;
};

function expectClean(format: string): void {
  const row = tally.counts.get(format)!;
  expect(tally.failures.filter((f) => f.startsWith(`${format}:`)), format).toEqual([]);
  expect(row['result'] + row['clear-error']).toBeGreaterThan(0);
}

const SAMPLE = '天地玄黄 hello, World! [MASK] 宇宙';

/** A loaded tokenizer is correct when it encodes a sample into ids inside its vocabulary. */
function encodesSample(tok: { encode(t: string): { ids: number[] }; vocabSize: number }): boolean | string {
  const ids = tok.encode(SAMPLE).ids;
  return ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize) || `ids ${ids} outside [0, ${tok.vocabSize})`;
}

describe('tokenizer files', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '天', '地', '玄', '黄', 'hello', '##lo', 'world', ',', '!'];
  let bertJson: unknown;
  let bpeJson: unknown;
  beforeAll(async () => {
    bertJson = BertTokenizer.fromVocabText(vocab.join('\n')).toTokenizerJson();
    const bpeVocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, '<mask>': 4, h: 5, e: 6, l: 7, o: 8, he: 9, ll: 10, 'Ġ': 11 };
    bpeJson = RobertaTokenizer.fromVocabAndMerges(bpeVocab, 'h e\nl l\n').toTokenizerJson();
  });

  it('tokenizer.json (WordPiece): wrong types, missing fields, absurd values', async () => {
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const dir = caseDir();
        writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(applyJsonMutation(bertJson, m)) ?? 'undefined');
        await classify(tally, 'tokenizer.json', ['tokenizer.json'], () => AutoTokenizer.fromPretrained(dir), encodesSample);
      }),
      { numRuns: runs(100) },
    );
    expectClean('tokenizer.json');
  });

  it('tokenizer.json: truncated and byte-flipped text', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(bertJson));
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const dir = caseDir();
        writeFileSync(join(dir, 'tokenizer.json'), applyMutation(bytes, m));
        await classify(tally, 'tokenizer.json bytes', ['tokenizer.json'], () => AutoTokenizer.fromPretrained(dir), encodesSample);
      }),
      { numRuns: runs(50) },
    );
    expectClean('tokenizer.json bytes');
  });

  it('tokenizer.json (byte-level BPE): wrong types, missing fields', async () => {
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const dir = caseDir();
        writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(applyJsonMutation(bpeJson, m)) ?? 'undefined');
        await classify(tally, 'tokenizer.json (BPE)', ['tokenizer.json'], () => AutoTokenizer.fromPretrained(dir), encodesSample);
      }),
      { numRuns: runs(60) },
    );
    expectClean('tokenizer.json (BPE)');
  });

  it('vocab.txt: truncations, flips, inserted bytes', async () => {
    const bytes = new TextEncoder().encode(`${vocab.join('\n')}\n`);
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const dir = caseDir();
        writeFileSync(join(dir, 'vocab.txt'), applyMutation(bytes, m));
        await classify(tally, 'vocab.txt', ['vocab.txt'], () => AutoTokenizer.fromPretrained(dir), encodesSample);
      }),
      { numRuns: runs(60) },
    );
    expectClean('vocab.txt');
  });
});

describe('shards and manifest.json', () => {
  let base: string;
  const original: number[][][] = [];
  beforeAll(() => {
    base = join(root, 'shards-base');
    mkdirSync(base);
    writeShardSet(base, [[2, 10, 11, 3], [2, 12, 3], [2, 13, 14, 15, 3], [2, 16, 3], [2, 17, 18, 3]], 8);
    const ds = ShardDataset.open(base, { progress: false });
    for (let i = 0; i < ds.numShards; i++) {
      const d = ds.loadShard(i);
      original.push(Array.from({ length: d.numChunks }, (_, c) => [...d.ids.subarray(d.offsets[c], d.offsets[c + 1])]));
    }
  });

  /** Copies the intact set, lets `damage` change it, then opens and loads every shard. */
  function openAll(damage: (dir: string) => void) {
    const dir = caseDir();
    for (const name of ['manifest.json', 'p0.rshard', 'p1.rshard', 'p2.rshard']) {
      try {
        writeFileSync(join(dir, name), readFileSync(join(base, name)));
      } catch {
        // fewer shards than names: fine
      }
    }
    damage(dir);
    return () => {
      const ds = ShardDataset.open(dir, { progress: false });
      const loaded: number[][][] = [];
      for (let i = 0; i < ds.numShards; i++) {
        const d = ds.loadShard(i);
        loaded.push(Array.from({ length: d.numChunks }, (_, c) => [...d.ids.subarray(d.offsets[c], d.offsets[c + 1])]));
      }
      return loaded;
    };
  }
  // With verification on, whatever opens must be exactly what was written.
  const sameAsWritten = (loaded: number[][][]) => JSON.stringify(loaded) === JSON.stringify(original) || 'loaded shards differ from what was written';

  it('shard bytes: truncations, flips, inserted bytes (sha256 on by default)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), byteMutation, async (shard, m) => {
        const name = `p${shard}.rshard`;
        const run = openAll((dir) => writeFileSync(join(dir, name), applyMutation(readFileSync(join(base, name)), m)));
        await classify(tally, 'shard', [name], run, sameAsWritten);
      }),
      { numRuns: runs(80) },
    );
    expectClean('shard');
  });

  it('shard bytes without verification: size and header checked up front, ids at load', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), byteMutation, async (shard, m) => {
        const name = `p${shard}.rshard`;
        const dir = caseDir();
        for (const f of ['manifest.json', 'p0.rshard', 'p1.rshard', 'p2.rshard']) writeFileSync(join(dir, f), readFileSync(join(base, f)));
        writeFileSync(join(dir, name), applyMutation(readFileSync(join(base, name)), m));
        await classify(
          tally,
          'shard (--no-verify-shards)',
          [name],
          () => {
            const ds = ShardDataset.open(dir, { verify: false });
            for (let i = 0; i < ds.numShards; i++) ds.loadShard(i);
            return ds;
          },
          // Without hashes a flipped id inside the vocabulary cannot be told apart: well-formed is all one can ask.
          (ds) => ds.numChunks === 5 || `numChunks ${ds.numChunks}`,
        );
      }),
      { numRuns: runs(50) },
    );
    expectClean('shard (--no-verify-shards)');
  });

  it('manifest.json: wrong types, missing fields, absurd values', async () => {
    const manifest = JSON.parse(readFileSync(join(base, 'manifest.json'), 'utf8'));
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const run = openAll((dir) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(applyJsonMutation(manifest, m)) ?? ''));
        // A mutation of a field nothing reads (dates, totals, source size) may open: then the data must be intact.
        await classify(tally, 'manifest.json', ['manifest.json', '.rshard'], run, sameAsWritten);
      }),
      { numRuns: runs(100) },
    );
    expectClean('manifest.json');
  });

  it('manifest.json: truncated and byte-flipped text', async () => {
    const bytes = readFileSync(join(base, 'manifest.json'));
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const run = openAll((dir) => writeFileSync(join(dir, 'manifest.json'), applyMutation(bytes, m)));
        await classify(tally, 'manifest.json bytes', ['manifest.json', '.rshard'], run, sameAsWritten);
      }),
      { numRuns: runs(50) },
    );
    expectClean('manifest.json bytes');
  });
});

describe('corpora', () => {
  const records = Array.from({ length: 6 }, (_, i) => ({ id: i, uniqueKey: `k${i}`, titleUkey: 't', dataType: '句子', title: `题${i}`, content: `天地玄黄${i}。宇宙洪荒。` }));
  const formats: Array<[string, string, string]> = [
    ['WuDao JSON', 'part-000.json', JSON.stringify(records, null, 1)],
    ['JSONL', 'corpus.jsonl', records.map((r) => JSON.stringify(r)).join('\n') + '\n'],
    ['text', 'corpus.txt', records.map((r) => r.content).join('\n') + '\n'],
  ];

  /** Reads every document (failing at the first problem), with a wall-clock bound. */
  async function readAll(path: string): Promise<CorpusDocument[]> {
    const docs: CorpusDocument[] = [];
    const reading = (async () => {
      for await (const doc of readDocuments(path, { onError: 'fail' })) docs.push(doc);
      return docs;
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fuzz: reading ${path} did not finish in 5 s (hang)`)), 5000);
    });
    try {
      return await Promise.race([reading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Correct: documents with non-empty text, from this file, no more than the records written (+ inserted lines).
  const plausible = (path: string) => (docs: CorpusDocument[]) =>
    docs.every((d) => typeof d.text === 'string' && d.text.trim().length > 0 && d.source.file === path && !/[\uD800-\uDFFF]/.test(d.text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) &&
    docs.length <= records.length + 2 || `${docs.length} documents`;

  it.each(formats)('%s: truncations, flips, inserted bytes', async (format, name, text) => {
    const bytes = new TextEncoder().encode(text);
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const path = join(caseDir(), name);
        writeFileSync(path, applyMutation(bytes, m));
        await classify(tally, format, [name], () => readAll(path), plausible(path));
      }),
      { numRuns: runs(40) },
    );
    expectClean(format);
  });

  it.each(formats.slice(0, 2))('%s: wrong-typed fields', async (format, name) => {
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const path = join(caseDir(), name);
        const mutated = applyJsonMutation(records, m);
        writeFileSync(path, name.endsWith('.jsonl') && Array.isArray(mutated) ? mutated.map((r) => JSON.stringify(r) ?? '').join('\n') : JSON.stringify(mutated) ?? '');
        await classify(tally, `${format} fields`, [name], () => readAll(path), plausible(path));
      }),
      { numRuns: runs(40) },
    );
    expectClean(`${format} fields`);
  });

  it('an intact file reads back exactly (the check can tell right from wrong)', async () => {
    const path = join(caseDir(), 'corpus.jsonl');
    writeFileSync(path, formats[1][2]);
    expect((await readAll(path)).map((d) => d.text)).toEqual(records.map((r) => r.content));
  });
});
