/**
 * SentenceEncoder in Node: the HF-laid-out BertModel fixture through fromPretrained (worker thread
 * and calling thread) against the fixture's float64 references, progress, options and errors.
 */
import { mkdtempSync, rmSync, writeFileSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../src/index.js';
import { FIXTURE, FIXTURE_TEXTS, expectedTensor, maxDifference } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'retro-sentence-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SentenceEncoder.fromPretrained (Node)', () => {
  it('runs in a worker thread and gives the reference CLS vectors, normalized as modules.json says', async () => {
    const encoder = await SentenceEncoder.fromPretrained(FIXTURE);
    try {
      expect(encoder.runsIn).toBe('worker');
      expect(encoder.info).toMatchObject({ dimension: 32, maxLength: 64, pooling: 'cls', normalize: true, modelType: 'bert' });
      expect(encoder.info.poolingFrom).toMatch(/1_Pooling\/config\.json$/);
      const progress: Array<[number, number]> = [];
      const rows = await encoder.encode(FIXTURE_TEXTS, { batchSize: 3, onProgress: (p) => progress.push([p.done, p.total]) });
      expect(rows).toHaveLength(4);
      expect(rows.every((row) => row instanceof Float32Array && row.length === 32)).toBe(true);
      expect(maxDifference(rows, expectedTensor('sentence_embedding_cls_normalized').data)).toBeLessThan(1e-5);
      expect(progress).toEqual([[3, 4], [4, 4]]);
      // Mean pooling, unnormalized, on request.
      const mean = await encoder.encode(FIXTURE_TEXTS, { pooling: 'mean', normalize: false });
      expect(maxDifference(mean, expectedTensor('sentence_embedding_mean').data)).toBeLessThan(1e-5);
      expect(await encoder.encode([])).toEqual([]);
    } finally {
      await encoder.close();
    }
    await expect(encoder.encode(['x'])).rejects.toThrow(/the encoder is closed/);
  });

  it('{ worker: false } runs on the calling thread with the same results', async () => {
    const encoder = await SentenceEncoder.fromPretrained(FIXTURE, { worker: false });
    expect(encoder.runsIn).toBe('this thread');
    const rows = await encoder.encode(FIXTURE_TEXTS);
    expect(maxDifference(rows, expectedTensor('sentence_embedding_cls_normalized').data)).toBeLessThan(1e-5);
    await encoder.close();
  });

  it('bad options and bad folders fail with messages naming what is wrong', async () => {
    const encoder = await SentenceEncoder.fromPretrained(FIXTURE, { worker: false });
    await expect(encoder.encode(FIXTURE_TEXTS, { pooling: 'max' as never })).rejects.toThrow(/pooling must be 'cls' or 'mean', found "max"/);
    await expect(encoder.encode(FIXTURE_TEXTS, { maxLength: 65 })).rejects.toThrow(/maxLength must be an integer in 2\.\.64 \(the position table\), found 65/);
    await expect(encoder.encode(FIXTURE_TEXTS, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, found 0/);
    await expect(encoder.encode(['ok', 3 as never])).rejects.toThrow(/texts\[1\] is number, expected a string/);
    const noTokenizer = join(root, 'no-tokenizer');
    cpSync(FIXTURE, noTokenizer, { recursive: true });
    rmSync(join(noTokenizer, 'vocab.txt'));
    // The worker's error comes back to the caller, the worker is stopped.
    await expect(SentenceEncoder.fromPretrained(noTokenizer)).rejects.toThrow(/no-tokenizer: no tokenizer: expected tokenizer\.json, vocab\.txt, or vocab\.json \+ merges\.txt/);
    const maxPooling = join(root, 'max-pooling');
    cpSync(FIXTURE, maxPooling, { recursive: true });
    writeFileSync(join(maxPooling, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_max_tokens: true }));
    await expect(SentenceEncoder.fromPretrained(maxPooling, { worker: false })).rejects.toThrow(/1_Pooling\/config\.json: pooling pooling_mode_max_tokens is not supported/);
    await expect(SentenceEncoder.fromPretrained(join(root, 'nowhere'))).rejects.toThrow(/nowhere is not a folder/);
  });

  it('a folder without sentence-transformers files pools by CLS and does not normalize', async () => {
    const plain = join(root, 'plain');
    cpSync(FIXTURE, plain, { recursive: true });
    rmSync(join(plain, 'modules.json'));
    rmSync(join(plain, '1_Pooling'), { recursive: true });
    const encoder = await SentenceEncoder.fromPretrained(plain, { worker: false });
    expect(encoder.info).toMatchObject({ pooling: 'cls', normalize: false });
    const rows = await encoder.encode(FIXTURE_TEXTS.slice(0, 1));
    const norm = Math.hypot(...rows[0]!);
    expect(Math.abs(norm - 1)).toBeGreaterThan(1e-3);
    // Normalizing on request gives the reference.
    const normalized = await encoder.encode(FIXTURE_TEXTS, { normalize: true });
    expect(maxDifference(normalized, expectedTensor('sentence_embedding_cls_normalized').data)).toBeLessThan(1e-5);
    expect(JSON.parse(readFileSync(join(plain, 'config.json'), 'utf8')).hidden_size).toBe(32);
  });
});
