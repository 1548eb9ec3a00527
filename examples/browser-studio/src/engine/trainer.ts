/**
 * RetroMAE pretraining one optimizer update at a time, so the worker can yield between updates
 * (pause, resume, search, download mid-run). Each update is @retro/train's `runUpdate` (the same
 * function its Node loop runs: forward, NaN/Inf checks, backward, global-norm clipping at 1.0,
 * AdamW) at the scheduled learning rate; checkpoints are the page's downloads instead of files.
 * Batches: BatchLoader over the in-memory chunks (seeded shuffle, whole-word encoder mask), then
 * RetroMAEBatches (decoder mask M), driven through RetroMAEObjective.
 */
import { BatchLoader, specialIdsOf, type AnyTokenizer, type Chunk } from '@retro/data';
import { RetroMAEBatches, RetroMAEObjective, type RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { AdamW, TrainerRng, learningRateAt, runUpdate, validateSchedule, type ScheduleConfig, type UpdateParts } from '@retro/train';
import type { StepReport, TrainSettings } from '../protocol.js';
import { MemoryShards } from './corpus.js';

export function checkSettings(settings: TrainSettings): void {
  const integer = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  };
  integer('steps', settings.steps, 1);
  integer('batch size', settings.batchSize, 1);
  integer('warmup steps', settings.warmupSteps, 0);
  integer('seed', settings.seed, 0);
  if (!(settings.lr > 0 && settings.lr < 1)) throw new Error(`learning rate must be in (0, 1), got ${settings.lr}`);
  for (const [name, value] of [['encoder mask ratio', settings.encoderMaskRatio], ['decoder mask ratio', settings.decoderMaskRatio]] as const) {
    if (!(value > 0 && value < 1)) throw new Error(`${name} must be in (0, 1), got ${value}`);
  }
}

type Batch = NonNullable<ReturnType<RetroMAEBatches<unknown>['next']>>;

export class BrowserTrainer {
  /** Updates done in this run. */
  step = 0;
  private batchesConsumed = 0;
  private readonly parts: UpdateParts<Batch>;
  private readonly schedule: ScheduleConfig;
  private elapsed = 0;

  constructor(
    model: RetroMAEForPretraining,
    tokenizer: AnyTokenizer,
    chunks: readonly Chunk[],
    readonly settings: TrainSettings,
  ) {
    checkSettings(settings);
    this.schedule = { kind: 'linear', lr: settings.lr, warmupSteps: Math.min(settings.warmupSteps, settings.steps), totalSteps: settings.steps };
    validateSchedule(this.schedule);
    model.encoder.generator = new TrainerRng(settings.seed).dropout;
    const loader = new BatchLoader(new MemoryShards(chunks), {
      batchSize: settings.batchSize,
      seed: settings.seed,
      epochs: Infinity,
      padTokenId: tokenizer.padTokenId,
      encoderMasking: {
        ratio: settings.encoderMaskRatio,
        maskTokenId: tokenizer.maskTokenId,
        vocabSize: tokenizer.vocabSize,
        specialIds: specialIdsOf(tokenizer),
      },
    });
    const objective = new RetroMAEObjective(model);
    const namedParameters = objective.namedParameters();
    this.parts = {
      model: objective,
      batches: new RetroMAEBatches(loader, { decoderRatio: settings.decoderMaskRatio, seed: settings.seed }),
      // RetroMAE's recipe: weight decay 0.01, off biases and LayerNorms (AdamW's HF default rule).
      optimizer: new AdamW(namedParameters, { lr: settings.lr, weightDecay: 0.01, eps: 1e-6 }),
      namedParameters,
      params: namedParameters.map(([, tensor]) => tensor),
      accumulation: 1,
      clipNorm: 1.0,
    };
  }

  get done(): boolean {
    return this.step >= this.settings.steps;
  }

  /** One optimizer update; throws TrainingDivergedError on a non-finite loss or gradient (weights untouched). */
  async update(): Promise<StepReport> {
    const started = performance.now();
    const lr = learningRateAt(this.schedule, this.step);
    this.parts.model.train(true);
    // On WebGPU runUpdate reads back once, asynchronously; on cpu it resolves at once.
    const { taken, outcome } = await runUpdate(this.parts, lr, this.step + 1, this.batchesConsumed);
    this.batchesConsumed += taken;
    if (!outcome) throw new Error('the batch loader ran dry (it loops over the corpus forever; this is a bug)');
    this.step += 1;
    const seconds = (performance.now() - started) / 1000;
    this.elapsed += seconds;
    const { loss, encoderLoss, decoderLoss } = outcome.losses;
    return {
      phase: 'pretrain',
      step: this.step,
      runStep: this.step,
      totalSteps: this.settings.steps,
      loss,
      encoderLoss,
      decoderLoss: decoderLoss ?? Number.NaN,
      lr,
      gradNorm: outcome.gradNorm,
      tokensPerSecond: outcome.tokens / Math.max(seconds, 1e-9),
      elapsedSeconds: this.elapsed,
    };
  }
}
