/** `retro finetune` and `retro mine`: options -> @retro/finetune. */
import { writeFileSync } from 'node:fs';
import {
  TextEncoder,
  bm25Ranker,
  embeddingRanker,
  loadEncoderModel,
  loadTokenizerFrom,
  mineHardNegatives,
  readScoredPairs,
  readTitlePairs,
  readTriples,
} from '@retro/finetune';
import { finetune, type FinetuneData, type FinetuneResult } from './finetune-run.js';
import { FieldReader, readJsonl } from '@retro/eval';
import type { FinetuneCliOptions } from '../commands/finetune.js';
import { parseRange, type MineCliOptions } from '../commands/mine.js';

export async function runFinetune(o: FinetuneCliOptions): Promise<FinetuneResult> {
  let data: FinetuneData;
  if (o.triples) data = { kind: 'triples', items: readTriples(o.triples) };
  else if (o.pairs) data = { kind: 'pairs', items: readScoredPairs(o.pairs) };
  else data = { kind: 'triples', items: await readTitlePairs(o.titles!, { dataTypes: o.titleDataTypes, maxPairs: o.maxPairs }) };
  const warmupSteps = o.warmupSteps ?? Math.round(o.warmupRatio * o.totalSteps);
  return finetune({
    modelDir: o.model,
    tokenizerDir: o.tokenizer,
    data,
    batchSize: o.batchSize,
    group: o.group,
    queryInstruction: o.queryInstruction,
    temperature: o.temperature,
    symmetric: o.symmetric,
    cosentScale: o.cosentScale,
    pooling: o.pooling,
    maxLength: o.maxLength,
    chunkSize: o.chunkSize,
    dev: o.dev ? readScoredPairs(o.dev) : undefined,
    evalEvery: o.evalEvery,
    loop: {
      outputDir: o.output,
      optimizer: { lr: o.lr, beta1: o.adamBeta1, beta2: o.adamBeta2, eps: o.adamEps, weightDecay: o.weightDecay },
      schedule: { kind: o.schedule, warmupSteps },
      totalSteps: o.totalSteps,
      clipNorm: o.clipNorm > 0 ? o.clipNorm : null,
      accumulation: o.accumulation,
      checkpointEvery: o.checkpointEvery,
      keepCheckpoints: o.keepCheckpoints,
      logEvery: o.logEvery,
      seed: o.seed,
      resume: o.resume,
      overwriteOutputDir: o.overwrite,
      stopAtStep: o.stopAtStep,
      progress: o.progress,
      config: { ...o } as Record<string, unknown>,
    },
  });
}

function readPool(file: string): string[] {
  const fields = new FieldReader('retro mine --pool', file);
  return readJsonl(file, 'retro mine --pool').map((rec) => fields.string(rec, 'text'));
}

export async function runMine(o: MineCliOptions): Promise<{ queries: number; toppedUp: number; poolSize: number }> {
  const [rangeStart, rangeEnd] = parseRange(o.range);
  const triples = readTriples(o.input);
  let ranker;
  if (o.bm25) ranker = bm25Ranker();
  else {
    const model = loadEncoderModel(o.model!);
    const encoder = new TextEncoder(model, await loadTokenizerFrom(o.model!), { maxLength: o.maxLength, pooling: o.pooling });
    ranker = embeddingRanker(encoder, o.batchSize);
  }
  const { triples: mined, report } = mineHardNegatives(triples, ranker, {
    rangeStart,
    rangeEnd,
    count: o.negatives,
    seed: o.seed,
    pool: o.pool ? readPool(o.pool) : undefined,
    queryInstruction: o.bm25 ? undefined : o.queryInstruction,
  });
  writeFileSync(o.output, mined.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return { queries: mined.length, ...report };
}
