/**
 * The seed's table from several continued-pretraining experiments (one run.ts --out per backbone):
 *
 *   node --import tsx benchmarks/experiment/seed-table.ts --out runs/continued-bert --out runs/continued-roberta [--publish docs/experiment/continued]
 *
 * Reads each OUT/report/results.json (run.ts writes it after every invocation) and writes
 * seed-table.md: rows base / + MLM continued / + RetroMAE continued per backbone, CLS and mean
 * pooling, BM25 beside them, the seed's own numbers, and which of its claims hold here.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { claimsMarkdown, seedReferenceMarkdown, seedTableMarkdown, type ContinuedExperiment } from './lib/continued.js';
import type { EvalRecord } from './lib/report.js';
import type { MetricKey } from './lib/reference.js';

interface ResultsFile {
  settings: { encoder?: 'bert' | 'roberta'; steps: number; continueSteps?: number };
  evals: EvalRecord[];
  bm25?: Partial<Record<MetricKey, number>>;
}

function readExperiment(out: string): ContinuedExperiment {
  const file = join(out, 'report', 'results.json');
  if (!existsSync(file)) throw new Error(`seed-table.ts: ${file} does not exist (run benchmarks/experiment/run.ts --out ${out} first)`);
  let results: ResultsFile;
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  } catch (error) {
    throw new Error(`seed-table.ts: ${file}: not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(results.evals) || typeof results.settings?.steps !== 'number') {
    throw new Error(`seed-table.ts: ${file}: expected 'settings.steps' (a number) and 'evals' (an array), as run.ts writes them`);
  }
  return {
    encoder: results.settings.encoder ?? 'bert',
    baseSteps: results.settings.steps,
    continueSteps: results.settings.continueSteps ?? results.settings.steps,
    evals: results.evals,
    bm25: results.bm25,
  };
}

function main(argv: string[]): void {
  const outs: string[] = [];
  let publish: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--out' || flag === '--publish') && value !== undefined) {
      if (flag === '--out') outs.push(resolve(value));
      else publish = resolve(value);
      i++;
    } else throw new Error(`seed-table.ts: unexpected argument '${flag}'; usage: seed-table.ts --out DIR [--out DIR ...] [--publish DIR]`);
  }
  if (outs.length === 0) throw new Error('seed-table.ts: give at least one --out DIR (a run.ts output folder)');
  const experiments = outs.map(readExperiment);
  const md = [
    '# The seed\'s table at small scale: continued pretraining of MLM-pretrained encoders',
    '',
    `Zero-shot on cmteb-lite, ×100, mean ± sample sd over seeds; average = mean of retrieval nDCG@10, reranking MAP and STS Spearman. Sources: ${outs.map((o) => `\`${o}\``).join(', ')}.`,
    '',
    '## CLS pooling (the sentence embedding RetroMAE trains)',
    '',
    seedTableMarkdown(experiments, 'cls'),
    '## Mean pooling',
    '',
    seedTableMarkdown(experiments, 'mean'),
    '## The seed\'s claims at this scale',
    '',
    claimsMarkdown(experiments),
    '## The seed\'s own table (Chinese BERT/RoBERTa base, WuDao, C-MTEB)',
    '',
    seedReferenceMarkdown(),
  ].join('\n');
  const target = publish ?? outs[0]!;
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'seed-table.md'), `${md}\n`);
  process.stdout.write(`${md}\nwritten: ${join(target, 'seed-table.md')}\n`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
