/**
 * RetroMAE pretraining one optimizer update at a time (updates.ts: @retro/train's runUpdate, the
 * function its Node loop runs); checkpoints are the page's downloads instead of files.
 * Batches: BatchLoader over the in-memory chunks (seeded shuffle, whole-word encoder mask), then
 * RetroMAEBatches (decoder mask M), driven through RetroMAEObjective.
 */
import { BatchLoader, specialIdsOf, type AnyTokenizer, type Chunk } from '@retro/data';
import { RetroMAEBatches, RetroMAEObjective, type RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { TrainerRng, type ScheduleConfig } from '@retro/train';
import type { StepReport, TrainSettings } from '../protocol.js';
import { MemoryShards } from './corpus.js';
import { UpdateStepper } from './updates.js';

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
  private readonly updates: UpdateStepper<Batch>;

  constructor(
    model: RetroMAEForPretraining,
    tokenizer: AnyTokenizer,
    chunks: readonly Chunk[],
    readonly settings: TrainSettings,
  ) {
    checkSettings(settings);
    const schedule: ScheduleConfig = { kind: 'linear', lr: settings.lr, warmupSteps: Math.min(settings.warmupSteps, settings.steps), totalSteps: settings.steps };
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
    const batches = new RetroMAEBatches(loader, { decoderRatio: settings.decoderMaskRatio, seed: settings.seed });
    this.updates = new UpdateStepper(new RetroMAEObjective(model), batches, schedule, 'batch loader');
  }

  /** Updates done in this run. */
  get step(): number {
    return this.updates.step;
  }

  get done(): boolean {
    return this.updates.done;
  }

  /** One optimizer update; throws TrainingDivergedError on a non-finite loss or gradient (weights untouched). */
  async update(): Promise<StepReport> {
    const { step, outcome, lr, seconds, elapsedSeconds } = await this.updates.update();
    const { loss, encoderLoss, decoderLoss } = outcome.losses;
    return {
      phase: 'pretrain',
      step,
      runStep: step,
      totalSteps: this.settings.steps,
      loss,
      encoderLoss,
      decoderLoss: decoderLoss ?? Number.NaN,
      lr,
      gradNorm: outcome.gradNorm,
      tokensPerSecond: outcome.tokens / Math.max(seconds, 1e-9),
      elapsedSeconds,
    };
  }
}
