import { describe, expect, it } from 'vitest';
import { mostEvaluatedSeed, resultsMarkdown, sampleSd, stepTableMarkdown, type EvalRecord } from '../experiment/lib/report.js';

function record(model: EvalRecord['model'], seed: number, step: number, pooling: 'cls' | 'mean', ndcg: number): EvalRecord {
  return { model, seed, step, pooling, limit: null, scores: { 'retrieval.ndcg10': ndcg }, forwardSeconds: 1, scoreSeconds: 1, texts: 10 };
}

describe('experiment report', () => {
  it('sampleSd divides by n - 1 and needs two values', () => {
    expect(sampleSd([1])).toBeUndefined();
    expect(sampleSd([2, 4])).toBeCloseTo(Math.SQRT2, 12);
    expect(sampleSd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });

  it('shows mean ± sd over seeds where a model has several, the plain value where it has one', () => {
    const finals = [record('init', 42, 0, 'cls', 70), record('init', 43, 0, 'cls', 72), record('mlm', 42, 1200, 'cls', 40)];
    const md = resultsMarkdown({ finals, training: [], steps: 1200, limit: null, seeds: [42, 43] });
    const row = md.split('\n').find((line) => line.startsWith('| Retrieval nDCG@10'))!;
    expect(row).toContain('| 71.0 ± 1.4 | 68.5 | 40.0 | 40.6 | – | 50.7 |');
    expect(md).toContain('n = init 2, MLM 1, RetroMAE 0');
    expect(md).toContain('Step cost ratio: not measured yet');
    expect(md).not.toContain("reference's 1200-step run");
  });

  it('leaves the PyTorch columns empty for a RoBERTa run (the reference is a BERT)', () => {
    const finals = [record('init', 42, 0, 'cls', 66.8), record('mlm', 42, 1200, 'cls', 40)];
    const md = resultsMarkdown({ finals, training: [], steps: 1200, limit: null, seeds: [42], encoder: 'roberta' });
    const row = md.split('\n').find((line) => line.startsWith('| Retrieval nDCG@10'))!;
    expect(row).toContain('| 66.8 | – | 40.0 | – | – | – |');
    expect(md).toContain('none exists for RoBERTa');
  });

  it('says when the PyTorch columns describe a different run length', () => {
    const md = resultsMarkdown({ finals: [], training: [], steps: 1800, limit: null, seeds: [42] });
    expect(md).toContain("The PT columns are the reference's 1200-step run, beside 1800 steps here.");
  });

  it('reports the measured step cost ratio', () => {
    const md = resultsMarkdown({ finals: [], training: [], steps: 10, limit: null, seeds: [42], stepCost: { mlmSecondsPerStep: 2, retromaeSecondsPerStep: 2.9, ratio: 1.45 } });
    expect(md).toContain('MLM 2.00 s, RetroMAE 2.90 s, RetroMAE / MLM **1.45×**');
  });

  it('lists every evaluated step per model and seed, init first, with both poolings', () => {
    const table = stepTableMarkdown(
      [record('mlm', 42, 600, 'cls', 45), record('mlm', 42, 300, 'cls', 50), record('init', 42, 0, 'cls', 70), record('init', 42, 0, 'mean', 74)],
      { 'retrieval.ndcg10': 83.3 },
    );
    const lines = table.trim().split('\n');
    expect(lines[2]).toBe('| init | 42 | 0 | 70.0 | – | – | 74.0 | – | – |');
    expect(lines[3]).toBe('| mlm | 42 | 300 | 50.0 | – | – | – | – | – |');
    expect(lines[4]).toBe('| mlm | 42 | 600 | 45.0 | – | – | – | – | – |');
    expect(lines[5]).toBe('| BM25 | – | – | 83.3 | – | – | 83.3 | – | – |');
  });

  it('plots the seed with the most evaluated steps', () => {
    const records = [record('init', 42, 0, 'cls', 1), record('mlm', 42, 1200, 'cls', 1), record('init', 43, 0, 'cls', 1), record('mlm', 43, 300, 'cls', 1), record('mlm', 43, 1200, 'cls', 1)];
    expect(mostEvaluatedSeed(records)).toBe(43);
    expect(mostEvaluatedSeed(records.slice(0, 2))).toBe(42);
    expect(mostEvaluatedSeed([])).toBeUndefined();
  });
});
