import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CMTEB_LITE_REFERENCE, formatTable, mainAverage, slug, toJSON, writeResults, type EvalResult } from '../src/index.js';
import { makeTree, removeTrees } from './helpers.js';

afterAll(removeTrees);

const result = (embedder: string, spearman: number, withRetrieval = true): EvalResult => ({
  embedder,
  suite: 'toy',
  scale: 100,
  sts: { spearman, pairs: 10 },
  reranking: { map: 50, mrr10: 60, queries: 3, skipped: 0 },
  ...(withRetrieval ? { retrieval: { ndcg10: 70, recall10: 80, recall100: 90, mrr10: 65, queries: 4, corpus: 9, skipped: 0, ignoreIdenticalIds: true } } : {}),
  timings: { totalMs: 1234, sts: { encodeMs: 1, scoreMs: 2, encodedTexts: 3 } },
  meta: { dim: 8 },
});

describe('report', () => {
  it('formatTable: one column per embedder, main scores starred, missing shown as -', () => {
    const table = formatTable([result('model-cls', 61.234), result('model/mean', NaN, false)]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^metric \(x100\) on toy\s+\| model-cls \| model\/mean$/);
    expect(table).toMatch(/\* STS Spearman\s+\|\s+61\.23 \|\s+- *$/m);
    expect(table).toMatch(/\* Retrieval nDCG@10\s+\|\s+70\.00 \|\s+-$/m);
    expect(table).toMatch(/Average of main scores\s+\|\s+60\.41 \|\s+-$/m); // (61.234 + 50 + 70) / 3
    expect(table).toMatch(/Time \(s\)\s+\|\s+1\.2 \|\s+1\.2$/m);
    expect(mainAverage(result('x', 10))).toBeCloseTo(130 / 3, 12);
    expect(() => formatTable([])).toThrow(/no results/);
    expect(formatTable([...CMTEB_LITE_REFERENCE])).toMatch(/\* Retrieval nDCG@10\s+\|\s+79\.32 \|\s+83\.29/);
  });

  it('toJSON writes NaN as null', () => {
    expect(JSON.parse(toJSON(result('m', NaN))).sts.spearman).toBeNull();
  });

  it('writeResults: per-task files per embedder, plus results.json and table.txt', () => {
    const dir = join(makeTree({}), 'ckpt-100', 'eval');
    const paths = writeResults(dir, [result('BM25 chars+bigrams', 64.77), result('retro cls', 50, false)]);
    expect(paths.map((p) => p.slice(dir.length + 1)).sort()).toEqual([
      'BM25_chars+bigrams/reranking.json',
      'BM25_chars+bigrams/retrieval.json',
      'BM25_chars+bigrams/sts.json',
      'BM25_chars+bigrams/summary.json',
      'results.json',
      'retro_cls/reranking.json',
      'retro_cls/sts.json',
      'retro_cls/summary.json',
      'table.txt',
    ]);
    const sts = JSON.parse(readFileSync(join(dir, 'BM25_chars+bigrams', 'sts.json'), 'utf8'));
    expect(sts).toMatchObject({ embedder: 'BM25 chars+bigrams', task: 'sts', scale: 100, scores: { spearman: 64.77, pairs: 10 }, timing: { encodedTexts: 3 } });
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).toHaveLength(2);
    expect(existsSync(join(dir, 'retro_cls', 'retrieval.json'))).toBe(false);
    expect(() => writeResults(dir, [result('a b', 1), result('a/b', 2)])).toThrow(/"a b" and "a\/b" map to the same folder "a_b"/);
    expect(slug('../x')).toBe('x');
  });
});
