/**
 * One optimizer update at a time, for both of the page's training kinds (RetroMAE pretraining and
 * contrastive fine-tuning), so the worker can yield between updates (pause, resume, search,
 * download mid-run). Each update is @retro/train's `runUpdate` (the function its Node loop runs:
 * forward, NaN/Inf checks, backward, global-norm clipping at 1.0, AdamW) at the scheduled rate,
 * with the recipe both kinds use: AdamW, weight decay 0.01 off biases and LayerNorms, eps 1e-6.
 */
import { AdamW, learningRateAt, runUpdate, validateSchedule, type BatchSource, type CountedBatch, type ScheduleConfig, type Trainable, type UpdateOutcome, type UpdateParts } from '@retro/train';

export interface TimedUpdate {
  /** Updates done in this run, this one included. */
  step: number;
  outcome: UpdateOutcome;
  lr: number;
  /** This update's wall time. */
  seconds: number;
  /** Wall time of every update of this run. */
  elapsedSeconds: number;
}

export class UpdateStepper<B extends CountedBatch> {
  /** Updates done in this run. */
  step = 0;
  private batchesConsumed = 0;
  private elapsed = 0;
  private readonly parts: UpdateParts<B>;

  /** `source` names the batch source in the error raised if it ever runs dry (all of the page's cycle forever). */
  constructor(
    model: Trainable<B>,
    batches: BatchSource<B>,
    readonly schedule: ScheduleConfig,
    private readonly source: string,
  ) {
    validateSchedule(schedule);
    const namedParameters = model.namedParameters();
    this.parts = {
      model,
      batches,
      optimizer: new AdamW(namedParameters, { lr: schedule.lr, weightDecay: 0.01, eps: 1e-6 }),
      namedParameters,
      params: namedParameters.map(([, tensor]) => tensor),
      accumulation: 1,
      clipNorm: 1.0,
    };
  }

  get done(): boolean {
    return this.step >= this.schedule.totalSteps;
  }

  /** One update; throws TrainingDivergedError on a non-finite loss or gradient (weights untouched). */
  async update(): Promise<TimedUpdate> {
    const started = performance.now();
    const lr = learningRateAt(this.schedule, this.step);
    this.parts.model.train(true);
    // On WebGPU runUpdate reads back once, asynchronously; on cpu it resolves at once.
    const { taken, outcome } = await runUpdate(this.parts, lr, this.step + 1, this.batchesConsumed);
    this.batchesConsumed += taken;
    if (!outcome) throw new Error(`the ${this.source} ran dry (it cycles forever; this is a bug)`);
    this.step += 1;
    const seconds = (performance.now() - started) / 1000;
    this.elapsed += seconds;
    return { step: this.step, outcome, lr, seconds, elapsedSeconds: this.elapsed };
  }
}
