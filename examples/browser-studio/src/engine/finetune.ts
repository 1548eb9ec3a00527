/**
 * Contrastive fine-tuning of the current model's encoder in the page, with @retro/finetune's own
 * pieces: FlagEmbedding triples `{query, pos, neg}` -> InfoNCE (in-batch negatives, plus one listed
 * hard negative per query when every triple lists some), or scored pairs `{sentence1, sentence2,
 * score}` -> CoSENT.
 * Each update is @retro/train's `runUpdate` (NaN/Inf checks, clipping at 1.0, AdamW), as in
 * pretraining and in `retro finetune`; only the encoder body (`bert.*` / `roberta.*`) trains, so
 * the MLM head and the decoder's c_head are carried along unchanged.
 */
import { ContrastiveTrainable, PairStream, TextEncoder, TripleStream, parseScoredPairs, parseTriples, type ContrastiveBatch, type ScoredPair, type Triple } from '@retro/finetune';
import type { AnyTokenizer } from '@retro/data';
import type { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { TrainerRng, type ScheduleConfig } from '@retro/train';
import type { FinetuneSettings, InputFile, StepReport } from '../protocol.js';
import { UpdateStepper } from './updates.js';

export type PairData = { kind: 'triples'; items: Triple[] } | { kind: 'pairs'; items: ScoredPair[] };

/**
 * Passages per query for triples: its positive plus one listed hard negative when every triple
 * lists some (TripleStream needs one for each query), else in-batch negatives only.
 */
export function groupOf(data: PairData): number {
  return data.kind === 'triples' && data.items.every((t) => t.neg.length > 0) ? 2 : 1;
}

/** What the loss will be, for the page. */
export function lossOf(data: PairData): string {
  if (data.kind === 'pairs') return 'CoSENT';
  const listed = data.items.filter((t) => t.neg.length > 0).length;
  if (groupOf(data) === 2) return 'InfoNCE (in-batch negatives + 1 listed hard negative per query)';
  return `InfoNCE (in-batch negatives${listed > 0 ? `; ${listed} of ${data.items.length} triples list negatives, so they are not used: every triple needs one` : ''})`;
}

/** The dropped files' records; every file must hold the same kind (named by its first record's fields). */
export function readPairFiles(files: readonly InputFile[]): { data: PairData; files: Array<{ name: string; records: number }> } {
  if (files.length === 0) throw new Error('no pair files were given');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let kind: PairData['kind'] | undefined;
  const triples: Triple[] = [];
  const pairs: ScoredPair[] = [];
  const reports: Array<{ name: string; records: number }> = [];
  for (const file of files) {
    let text: string;
    try {
      text = decoder.decode(file.bytes);
    } catch {
      throw new Error(`${file.name}: not UTF-8 text (expected JSONL: one {"query", "pos", "neg"} or {"sentence1", "sentence2", "score"} object per line)`);
    }
    // The first record's fields name the kind; parse* then checks every line (file:line: field).
    const first = text.replace(/^\ufeff/, '').split('\n').find((line) => line.trim() !== '');
    let fields: string[] = [];
    try {
      const record: unknown = first === undefined ? undefined : JSON.parse(first);
      if (record && typeof record === 'object' && !Array.isArray(record)) fields = Object.keys(record);
    } catch {
      // parse* reports the line with JSON.parse's message.
    }
    const fileKind = fields.includes('sentence1') ? 'pairs' : 'triples';
    if (fields.length > 0 && !fields.includes('query') && !fields.includes('sentence1')) {
      throw new Error(`${file.name}:1: expected {"query", "pos": [..], "neg": [..]} (InfoNCE) or {"sentence1", "sentence2", "score"} (CoSENT) records, found fields ${JSON.stringify(fields)}`);
    }
    if (kind && first !== undefined && fileKind !== kind) throw new Error(`${file.name}: holds ${fileKind} but an earlier file holds ${kind}; fine-tune on one kind at a time`);
    kind ??= first !== undefined ? fileKind : undefined;
    if (kind === 'pairs') {
      const read = parseScoredPairs(text, file.name);
      pairs.push(...read);
      reports.push({ name: file.name, records: read.length });
    } else {
      const read = parseTriples(text, file.name);
      triples.push(...read);
      reports.push({ name: file.name, records: read.length });
    }
  }
  return { data: kind === 'pairs' ? { kind, items: pairs } : { kind: 'triples', items: triples }, files: reports };
}

export function checkFinetuneSettings(settings: FinetuneSettings, data: PairData): void {
  const integer = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) throw new Error(`fine-tune ${name} must be an integer >= ${min}, got ${value}`);
  };
  integer('steps', settings.steps, 1);
  integer('batch size', settings.batchSize, 2);
  integer('seed', settings.seed, 0);
  if (!(settings.lr > 0 && settings.lr < 1)) throw new Error(`fine-tune learning rate must be in (0, 1), got ${settings.lr}`);
  if (!(settings.temperature > 0)) throw new Error(`InfoNCE temperature must be > 0, got ${settings.temperature}`);
  if (settings.batchSize > data.items.length) {
    throw new Error(`fine-tune batch size ${settings.batchSize} is larger than the ${data.items.length} ${data.kind} given (in-batch negatives need a full batch)`);
  }
}

export class BrowserFinetuner {
  private readonly updates: UpdateStepper<ContrastiveBatch>;

  constructor(
    model: RetroMAEForPretraining,
    tokenizer: AnyTokenizer,
    data: PairData,
    readonly settings: FinetuneSettings,
    maxLength: number,
  ) {
    checkFinetuneSettings(settings, data);
    const schedule: ScheduleConfig = { kind: 'linear', lr: settings.lr, warmupSteps: Math.min(Math.ceil(settings.steps / 10), settings.steps), totalSteps: settings.steps };
    const rng = new TrainerRng(settings.seed);
    const masked = model.encoder;
    masked.generator = rng.dropout;
    const positions = masked.config.modelType === 'roberta' ? masked.config.maxPositionEmbeddings - masked.config.padTokenId - 1 : masked.config.maxPositionEmbeddings;
    const encoder = new TextEncoder(masked, tokenizer, { maxLength: Math.min(maxLength, positions), pooling: settings.pooling });
    const trainable = new ContrastiveTrainable(encoder, { temperature: settings.temperature });
    // The data order is its own stream of the seed (as `retro finetune` does), independent of dropout.
    const seed = rng.stream('data').randint(2 ** 31);
    const countTokens = (text: string): number => encoder.tokenize([text])[0].length;
    const batches =
      data.kind === 'triples'
        ? new TripleStream(data.items, { batchSize: settings.batchSize, group: groupOf(data), seed, countTokens })
        : new PairStream(data.items, { batchSize: settings.batchSize, seed, countTokens });
    this.updates = new UpdateStepper(trainable, batches, schedule, 'pair stream');
  }

  /** Updates done in this run. */
  get step(): number {
    return this.updates.step;
  }

  get done(): boolean {
    return this.updates.done;
  }

  /** One optimizer update of the contrastive loss; throws TrainingDivergedError on a non-finite loss or gradient. */
  async update(): Promise<StepReport> {
    const { step, outcome, lr, seconds, elapsedSeconds } = await this.updates.update();
    return {
      phase: 'finetune',
      step,
      runStep: step,
      totalSteps: this.settings.steps,
      loss: outcome.losses.loss,
      encoderLoss: Number.NaN,
      decoderLoss: Number.NaN,
      lr,
      gradNorm: outcome.gradNorm,
      tokensPerSecond: outcome.tokens / Math.max(seconds, 1e-9),
      elapsedSeconds,
    };
  }
}
