import { describe, expect, it } from 'vitest';
import { claimsMarkdown, continuedPlot, passingStepsMarkdown, plottedSeeds, seedTableMarkdown, type ContinuedExperiment } from '../experiment/lib/continued.js';
import type { EvalRecord } from '../experiment/lib/report.js';
import { mergeByBackbone } from '../experiment/seed-table.js';
import { parseContinuedOptions, runArgs } from '../experiment/continued.js';

/** A CLS record with the three seed metrics (retrieval, reranking, STS). */
function rec(model: EvalRecord['model'], seed: number, step: number, retrieval: number, reranking: number, sts: number): EvalRecord {
  return {
    model, seed, step, pooling: 'cls', limit: null, forwardSeconds: 0, scoreSeconds: 0, texts: 0,
    scores: { 'retrieval.ndcg10': retrieval, 'reranking.map': reranking, 'sts.spearman': sts },
  };
}

function experiment(evals: EvalRecord[]): ContinuedExperiment {
  return { encoder: 'bert', baseSteps: 1200, continueSteps: 1200, evals };
}

const evals = [
  rec('mlm', 42, 1200, 40, 60, 35),
  rec('mlm', 42, 600, 10, 10, 10), // an intermediate step of the base: not the base
  rec('cont-mlm', 42, 600, 42, 61, 30),
  rec('cont-mlm', 42, 1200, 45, 62, 28),
  rec('cont-retromae', 42, 600, 38, 65, 36),
  rec('cont-retromae', 42, 1200, 66, 76, 46),
  rec('mlm', 43, 1200, 42, 62, 37),
  rec('cont-mlm', 43, 1200, 47, 64, 29),
  rec('cont-retromae', 43, 1200, 64, 74, 44),
];

describe('continued-pretraining report', () => {
  it('averages the three scores per row and gives mean ± sd over seeds', () => {
    const md = seedTableMarkdown([experiment(evals)], 'cls');
    // base: averages (40+60+35)/3 = 45 and (42+62+37)/3 = 47 -> 46.0 ± 1.4; retrieval 40, 42 -> 41.0 ± 1.4
    expect(md).toMatch(/\| bert base \(MLM from scratch\), 1200 steps \| 2 \| 46\.0 ± 1\.4 \| 41\.0 ± 1\.4 \| 61\.0 ± 1\.4 \| 36\.0 ± 1\.4 \|/);
    // RetroMAE: averages 62.67 and 60.67 -> 61.7 ± 1.4
    expect(md).toMatch(/\+ RetroMAE continued, 1200 more \| 2 \| 61\.7 ± 1\.4 \| 65\.0 ± 1\.4 \|/);
  });

  it('plots the mean over the complete seeds, at the steps all of them were scored', () => {
    // seed 43 ran only to step 1200 (no 600), so the mean curve is base -> 1200
    const x = experiment(evals);
    expect(plottedSeeds(x)).toEqual([42, 43]);
    const svg = continuedPlot(x);
    expect(svg).toContain('(mean of seeds 42, 43)');
    const retrieval = /data-series="RetroMAE continued, Retrieval nDCG@10" [^>]*points="([^"]+)"/.exec(svg)![1].split(' ');
    expect(retrieval).toHaveLength(2);
    // a seed that is still training (its control not scored at the last step) is left out
    const running = [...evals, rec('cont-retromae', 44, 600, 50, 70, 40)];
    expect(plottedSeeds(experiment(running))).toEqual([42, 43]);
    // one seed alone: its own steps (base, 600, 1200)
    const one = continuedPlot(experiment(evals.filter((r) => r.seed === 42)));
    expect(one).toContain('(seed 42)');
    expect(/data-series="RetroMAE continued, Retrieval nDCG@10" [^>]*points="([^"]+)"/.exec(one)![1].split(' ')).toHaveLength(3);
  });

  it('finds the first evaluated step at which RetroMAE passes its base and the control', () => {
    const md = passingStepsMarkdown(experiment(evals));
    // seed 42 retrieval: 38 < base 40 at 600, 66 > 40 at 1200; vs control 42 at 600 (no), 45 at 1200 (yes)
    expect(md).toContain('| 42 | Retrieval nDCG@10 | 1200 | 1200 | 600, 1200 |');
    // seed 42 reranking: 65 > 60 and > 61 already at 600
    expect(md).toContain('| 42 | Reranking MAP | 600 | 600 | 600, 1200 |');
  });

  it('answers the claims from complete seeds, and says "no" when one seed fails', () => {
    expect(claimsMarkdown([experiment(evals)])).toMatch(/Retrieval nDCG@10 .*improves the base on every seed: \*\*yes\*\*; more than the control on every seed: \*\*yes\*\*/);
    const worse = evals.map((r) => (r.model === 'cont-retromae' && r.seed === 43 && r.step === 1200 ? rec('cont-retromae', 43, 1200, 41, 60, 44) : r));
    const md = claimsMarkdown([experiment(worse)]);
    // seed 43: retrieval 41 > base 42? no
    expect(md).toMatch(/Retrieval nDCG@10 .*improves the base on every seed: \*\*no\*\*/);
    expect(md).toMatch(/BERT vs RoBERTa gains: needs both backbones/);
  });

  it('compares the backbones by gain and by where RetroMAE ends, which can disagree', () => {
    // bert gains 66-40 = 26 and 64-42 = 22 (mean 24) and ends at 65.0; roberta gains 30 from a lower base and ends at 60.
    const roberta: ContinuedExperiment = {
      encoder: 'roberta', baseSteps: 1200, continueSteps: 1200,
      evals: [rec('mlm', 42, 1200, 30, 50, 30), rec('cont-mlm', 42, 1200, 35, 55, 30), rec('cont-retromae', 42, 1200, 60, 70, 40)],
    };
    const md = claimsMarkdown([experiment(evals), roberta]);
    expect(md).toContain('BERT gains more than RoBERTa from RetroMAE on retrieval (mean over seeds): BERT 24.0 vs RoBERTa 30.0: **no**.');
    expect(md).toMatch(/BERT \+ RetroMAE ends above RoBERTa \+ RetroMAE on Retrieval nDCG@10 .*: BERT 65\.0 vs RoBERTa 60\.0: \*\*yes\*\*\./);
    expect(md).toMatch(/on Reranking MAP .*: BERT 75\.0 vs RoBERTa 70\.0: \*\*yes\*\*\./);
  });

  it('claims nothing while no seed has all three rows', () => {
    const partial = evals.filter((r) => r.model !== 'cont-mlm');
    expect(claimsMarkdown([experiment(partial)])).toMatch(/bert: no seed has the base and both continuations evaluated yet/);
  });

  it('pools seeds published separately for one backbone, and refuses mismatched or repeated runs', () => {
    const s42 = experiment(evals.filter((r) => r.seed === 42));
    const s43 = experiment(evals.filter((r) => r.seed === 43));
    const merged = mergeByBackbone([{ source: 'a.json', experiment: s42 }, { source: 'b.json', experiment: s43 }]);
    expect(merged).toHaveLength(1);
    expect(seedTableMarkdown(merged, 'cls')).toBe(seedTableMarkdown([experiment(evals)], 'cls'));
    expect(() => mergeByBackbone([{ source: 'a.json', experiment: s42 }, { source: 'c.json', experiment: s42 }])).toThrow(/c\.json: mlm seed 42 step 1200 \(cls\) is also in a\.json/);
    const shorter = { ...s43, continueSteps: 600 };
    expect(() => mergeByBackbone([{ source: 'a.json', experiment: s42 }, { source: 'd.json', experiment: shorter }])).toThrow(/d\.json: bert with 1200 base \+ 600 continued steps cannot join a\.json/);
  });

  it('continued.ts: one run.ts per backbone in OUT/<backbone>, the budget and publish folders passed on, bad flags named', () => {
    const o = parseContinuedOptions(['--out', '/x', '--seeds', '3', '--publish', '/p', '--eval-at', '600', '--shared', '/s']);
    expect(o.encoders).toEqual(['bert', 'roberta']);
    expect(runArgs(o, 'roberta', 90)).toEqual([
      '--out', '/x/roberta', '--encoder', 'roberta', '--only', 'init,mlm,cont-mlm,cont-retromae', '--seeds', '3', '--seed', '42',
      '--continue-steps', '1200', '--eval-at', '600', '--shared', '/s', '--time-budget', '90.00', '--publish', '/p/roberta',
    ]);
    expect(runArgs(parseContinuedOptions(['--encoders', 'bert', '--dry-run']), 'bert')).toContain('--dry-run');
    expect(() => parseContinuedOptions(['--encoders', 'bert,xlm'])).toThrow(/--encoders: expected bert, roberta or both, found 'bert,xlm'/);
    expect(() => parseContinuedOptions(['--seeds', '0'])).toThrow(/--seeds: expected a whole number >= 1, found '0'/);
    expect(() => parseContinuedOptions(['--time-budget', 'soon'])).toThrow(/--time-budget: expected minutes > 0/);
    expect(() => parseContinuedOptions(['--batch', '8'])).toThrow(/unknown flag --batch/);
    expect(() => parseContinuedOptions(['--out'])).toThrow(/--out: expected --name value/);
  });
});
