/**
 * The fine-tuning run (library API under `retro finetune`; it composes @retro/finetune's objective
 * with @retro/train's loop, as pipelines/pretrain.ts does for RetroMAE): a pretrained encoder + labelled (or title -> content) examples -> a fine-tuned
 * encoder, through @retro/train's loop (AdamW, schedule, clipping, atomic checkpoints, resume,
 * metrics.jsonl + loss.svg). On top of the loop: dev-set Spearman every `evalEvery` updates
 * (dev.jsonl, dev.svg) and the best-scoring model kept in `<outputDir>/best`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import { TrainerRng, alignTokenizerMaxLength, train, renderLinePlot, type TrainOptions, type TrainResult } from '@retro/train';
import {
  ContrastiveTrainable,
  PairStream,
  TextEncoder,
  TripleStream,
  devSpearman,
  loadEncoderModel,
  loadTokenizerFrom,
  tokenizerFilesIn,
  type ContrastiveBatch,
  type Pooling,
  type ScoredPair,
  type Triple,
} from '@retro/finetune';

export type FinetuneData = { kind: 'triples'; items: readonly Triple[] } | { kind: 'pairs'; items: readonly ScoredPair[] };

export interface FinetuneOptions {
  /** A retro or HF BERT/RoBERTa folder (config.json + model.safetensors; masked-LM or bare encoder). */
  modelDir: string;
  /** The tokenizer folder (default: modelDir). */
  tokenizerDir?: string;
  /** Triples -> InfoNCE, scored pairs -> CoSENT. */
  data: FinetuneData;
  /** Queries (triples) or pairs per update. */
  batchSize: number;
  /** Passages per query for InfoNCE: 1 positive + group-1 listed negatives. Default 1 (in-batch only). */
  group?: number;
  queryInstruction?: string;
  /** InfoNCE temperature. Default 0.02 (bge). */
  temperature?: number;
  symmetric?: boolean;
  cosentScale?: number;
  /** Default 'cls' (RetroMAE's sentence embedding). */
  pooling?: Pooling;
  /** Default 64 tokens, or the model's position table if shorter. */
  maxLength?: number;
  /** Gradient caching: texts per encoder pass (default: the whole batch at once). */
  chunkSize?: number;
  /** Scored dev pairs; Spearman every `evalEvery` updates and at the end; the best model is kept. */
  dev?: readonly ScoredPair[];
  /** Default 100. */
  evalEvery?: number;
  /** Everything @retro/train's loop takes except the model, batches and rng, which are built here. */
  loop: Omit<TrainOptions<ContrastiveBatch>, 'model' | 'batches' | 'rng' | 'tokenizerFiles'>;
}

export interface DevRecord {
  step: number;
  spearman: number;
}

export interface FinetuneResult extends TrainResult {
  dev: DevRecord[];
  best?: { step: number; spearman: number; dir: string };
}

export const DEV_FILE = 'dev.jsonl';
export const DEV_PLOT_FILE = 'dev.svg';
export const BEST_DIR = 'best';
export const BEST_FILE = 'best.json';

function readDev(outputDir: string): DevRecord[] {
  const file = join(outputDir, DEV_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as DevRecord);
}

function writeDev(outputDir: string, records: readonly DevRecord[], label: string): void {
  writeFileAtomic(join(outputDir, DEV_FILE), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  if (records.length > 0) {
    const svg = renderLinePlot([{ name: `dev Spearman x100 (${label})`, points: records.map((r) => [r.step, r.spearman] as const) }], { title: 'dev STS Spearman', xLabel: 'step', yLabel: 'Spearman x100' });
    writeFileAtomic(join(outputDir, DEV_PLOT_FILE), svg);
  }
}

export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const loop = options.loop;
  const rng = new TrainerRng(loop.seed);
  const model = loadEncoderModel(options.modelDir, { seed: loop.seed });
  model.generator = rng.dropout;
  const tokenizerDir = options.tokenizerDir ?? options.modelDir;
  const tokenizer = await loadTokenizerFrom(tokenizerDir);
  const tokenizerFiles = tokenizerFilesIn(tokenizerDir);
  const pooling = options.pooling ?? 'cls';
  const encoder = new TextEncoder(model, tokenizer, { maxLength: options.maxLength, pooling });
  const temperature = options.temperature ?? 0.02;
  const trainable = new ContrastiveTrainable(encoder, {
    temperature,
    symmetric: options.symmetric,
    cosentScale: options.cosentScale,
    chunkSize: options.chunkSize,
    accumulation: loop.accumulation,
  });
  // the data stream's seed is its own stream of the run seed, so it never tracks the init or dropout
  const dataSeed = rng.stream('data').randint(2 ** 31);
  const countTokens = (text: string): number => encoder.tokenize([text])[0].length;
  const batches =
    options.data.kind === 'triples'
      ? new TripleStream(options.data.items, { batchSize: options.batchSize, group: options.group ?? 1, seed: dataSeed, queryInstruction: options.queryInstruction, countTokens })
      : new PairStream(options.data.items, { batchSize: options.batchSize, seed: dataSeed, countTokens });

  const evalEvery = options.evalEvery ?? 100;
  const outputDir = loop.outputDir;
  mkdirSync(outputDir, { recursive: true });
  let dev: DevRecord[] = loop.resume ? readDev(outputDir) : [];
  let best: FinetuneResult['best'];
  const bestDir = join(outputDir, BEST_DIR);
  if (loop.resume && existsSync(join(bestDir, BEST_FILE))) {
    best = { ...(JSON.parse(readFileSync(join(bestDir, BEST_FILE), 'utf8')) as { step: number; spearman: number }), dir: bestDir };
  } else if (!loop.resume && existsSync(bestDir) && loop.overwriteOutputDir) {
    rmSync(bestDir, { recursive: true, force: true });
  }
  let first = true;
  const scoreDev = (step: number): void => {
    if (!options.dev) return;
    const spearman = devSpearman(encoder, options.dev);
    dev.push({ step, spearman });
    writeDev(outputDir, dev, pooling);
    if (!best || spearman > best.spearman) {
      // written beside, then swapped in, so a kill never leaves a half-written best/
      const staging = join(outputDir, `.${BEST_DIR}.tmp-${process.pid}`);
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      model.savePretrained(staging);
      for (const file of tokenizerFiles) copyFileSync(file, join(staging, basename(file)));
      alignTokenizerMaxLength(staging);
      writeFileSync(join(staging, BEST_FILE), `${JSON.stringify({ step, spearman, metric: 'dev STS Spearman x100', pooling })}\n`);
      rmSync(bestDir, { recursive: true, force: true });
      renameSync(staging, bestDir);
      best = { step, spearman, dir: bestDir };
    }
  };

  const result = await train<ContrastiveBatch>({
    ...loop,
    model: trainable,
    batches,
    rng,
    tokenizerFiles,
    config: {
      ...(loop.config ?? {}),
      finetune: {
        modelDir: options.modelDir,
        objective: options.data.kind === 'triples' ? 'infonce' : 'cosent',
        examples: options.data.items.length,
        batchSize: options.batchSize,
        group: options.group ?? 1,
        temperature,
        symmetric: options.symmetric ?? false,
        queryInstruction: options.queryInstruction ?? '',
        pooling,
        maxLength: encoder.maxLength,
        chunkSize: options.chunkSize ?? null,
      },
    },
    onStep: async (info) => {
      if (first) {
        // a resumed run re-does the steps after its checkpoint: forget dev scores from beyond it
        dev = dev.filter((r) => r.step < info.step);
        first = false;
      }
      if (info.step % evalEvery === 0 || info.step === info.totalSteps) scoreDev(info.step);
      await loop.onStep?.(info);
    },
  });
  return { ...result, dev, best };
}
