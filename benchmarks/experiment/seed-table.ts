/**
 * The seed's table from several continued-pretraining experiments (one run.ts --out per backbone):
 *
 *   node --import tsx benchmarks/experiment/seed-table.ts --out runs/continued-bert --out runs/continued-roberta [--publish docs/experiment/continued]
 *   node --import tsx benchmarks/experiment/seed-table.ts --results docs/experiment/continued/bert/results.json --results docs/experiment/continued/roberta/results.json --publish docs/experiment/continued
 *
 * Reads each OUT/report/results.json (run.ts writes it after every invocation) or each --results
 * file (a published copy) and writes seed-table.md: rows base / + MLM continued / + RetroMAE
 * continued per backbone, CLS and mean pooling, BM25 beside them, the seed's own numbers, and
 * which of its claims hold here. Files of the same backbone are merged (their seeds pooled), so
 * seeds run at different times, by different invocations, add up to one table.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { claimsMarkdown, seedReferenceMarkdown, seedTableMarkdown, type ContinuedExperiment } from './lib/continued.js';
import type { EvalRecord } from './lib/report.js';
import type { MetricKey } from './lib/reference.js';

interface ResultsFile {
  settings: { encoder?: 'bert' | 'roberta'; steps: number; continueSteps?: number };
  evals: EvalRecord[];
  bm25?: Partial<Record<MetricKey, number>>;
}

function readExperiment(file: string): ContinuedExperiment {
  if (!existsSync(file)) throw new Error(`seed-table.ts: ${file} does not exist (run benchmarks/experiment/run.ts --out DIR first; it writes DIR/report/results.json)`);
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

/**
 * One experiment per backbone: evaluations of different seeds pooled. The same (model, seed, step,
 * pooling) twice is an error, as are different step counts (rows would not be comparable).
 */
export function mergeByBackbone(parts: Array<{ source: string; experiment: ContinuedExperiment }>): ContinuedExperiment[] {
  const merged = new Map<string, { sources: string[]; experiment: ContinuedExperiment }>();
  for (const { source, experiment } of parts) {
    const seen = merged.get(experiment.encoder);
    if (!seen) {
      merged.set(experiment.encoder, { sources: [source], experiment: { ...experiment, evals: [...experiment.evals] } });
      continue;
    }
    const x = seen.experiment;
    if (x.baseSteps !== experiment.baseSteps || x.continueSteps !== experiment.continueSteps) {
      throw new Error(
        `seed-table.ts: ${source}: ${experiment.encoder} with ${experiment.baseSteps} base + ${experiment.continueSteps} continued steps ` +
          `cannot join ${seen.sources.join(', ')} (${x.baseSteps} + ${x.continueSteps} steps)`,
      );
    }
    const key = (r: EvalRecord) => `${r.model}/${r.seed}/${r.step}/${r.pooling}/${r.limit}`;
    const have = new Set(x.evals.map(key));
    const clash = experiment.evals.find((r) => have.has(key(r)));
    if (clash) throw new Error(`seed-table.ts: ${source}: ${clash.model} seed ${clash.seed} step ${clash.step} (${clash.pooling}) is also in ${seen.sources.join(', ')}; give each seed once`);
    x.evals.push(...experiment.evals);
    x.bm25 ??= experiment.bm25;
    seen.sources.push(source);
  }
  return [...merged.values()].map((m) => m.experiment);
}

function main(argv: string[]): void {
  const files: string[] = [];
  let publish: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--out' || flag === '--results' || flag === '--publish') && value !== undefined) {
      if (flag === '--out') files.push(join(resolve(value), 'report', 'results.json'));
      else if (flag === '--results') files.push(resolve(value));
      else publish = resolve(value);
      i++;
    } else throw new Error(`seed-table.ts: unexpected argument '${flag}'; usage: seed-table.ts (--out DIR | --results FILE) [...] [--publish DIR]`);
  }
  if (files.length === 0) throw new Error('seed-table.ts: give at least one --out DIR (a run.ts output folder) or --results FILE (its report/results.json)');
  const experiments = mergeByBackbone(files.map((source) => ({ source, experiment: readExperiment(source) })));
  const outs = files;
  const target = publish ?? dirname(outs[0]!);
  // Sources as seen from the table's folder, so a published table names files in the repository.
  const sources = outs.map((o) => relative(target, o) || o);
  const md = [
    '# The seed\'s table at small scale: continued pretraining of MLM-pretrained encoders',
    '',
    `Zero-shot on cmteb-lite, ×100, mean ± sample sd over seeds; average = mean of retrieval nDCG@10, reranking MAP and STS Spearman. Sources: ${sources.map((o) => `\`${o}\``).join(', ')}.`,
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
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'seed-table.md'), `${md}\n`);
  process.stdout.write(`${md}\nwritten: ${join(target, 'seed-table.md')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
}
