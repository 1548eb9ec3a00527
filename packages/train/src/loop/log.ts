import type { MetricsWindow, TrainerState } from '../checkpoint/state.js';
import { MetricsLog, type MetricsRecord } from '../metrics/metrics-log.js';
import type { ProgressDisplay } from '../metrics/progress.js';
import type { UpdateOutcome } from './step.js';

type SavedMetrics = TrainerState['metrics'];

function emptyWindow(startElapsed: number): MetricsWindow {
  return { steps: 0, sums: {}, tokens: 0, startElapsed };
}

/**
 * The run's running figures (tokens seen, last/best loss, the open logging window, run time
 * across resumes) and where they go: a metrics.jsonl line every `logEvery` updates and at the
 * last step, and the live progress display. `saved()` is what a checkpoint stores, so a resumed
 * run logs the same means an uninterrupted one would.
 */
export class RunLog {
  private readonly metrics: MetricsLog;
  private readonly startedAt = performance.now();
  private readonly elapsedBefore: number;
  private readonly tokensBefore: number;
  private tokensSeen: number;
  private lastLosses: Record<string, number>;
  private lastGradNorm: number;
  private bestLoss: { step: number; value: number } | null;
  private window: MetricsWindow;

  constructor(
    outputDir: string,
    private readonly startStep: number,
    saved: SavedMetrics | undefined,
    private readonly options: { logEvery: number; totalSteps: number; progress: ProgressDisplay | undefined },
  ) {
    // Lines after the resumed step were written by the run that died; they are dropped.
    this.metrics = new MetricsLog(outputDir, { keepUpToStep: startStep });
    this.elapsedBefore = saved?.elapsedSeconds ?? 0;
    this.tokensBefore = saved?.tokensSeen ?? 0;
    this.tokensSeen = this.tokensBefore;
    this.lastLosses = saved?.lastLosses ?? {};
    this.lastGradNorm = saved?.lastGradNorm ?? Number.NaN;
    this.bestLoss = saved?.bestLoss ?? null;
    this.window = saved?.window ?? emptyWindow(0);
  }

  /** Seconds this process has trained. */
  secondsThisRun(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Seconds the run has trained, across resumes. */
  elapsed(): number {
    return this.elapsedBefore + this.secondsThisRun();
  }

  get losses(): Record<string, number> {
    return this.lastLosses;
  }

  get tokens(): number {
    return this.tokensSeen;
  }

  /** Adds update `step` to the running figures and the open window. */
  record(step: number, outcome: UpdateOutcome): void {
    const { losses, gradNorm, tokens } = outcome;
    this.lastLosses = losses;
    this.lastGradNorm = gradNorm;
    this.tokensSeen += tokens;
    if (this.bestLoss === null || losses.loss < this.bestLoss.value) this.bestLoss = { step, value: losses.loss };
    const window = this.window;
    window.steps += 1;
    window.tokens += tokens;
    for (const [key, value] of Object.entries(losses)) window.sums[key] = (window.sums[key] ?? 0) + value;
  }

  /** After update `step` (at learning rate `lr`): a metrics line when the window closes, and progress. */
  report(step: number, lr: number): void {
    const window = this.window;
    if (step % this.options.logEvery === 0 || step === this.options.totalSteps) {
      const now = this.elapsed();
      const seconds = now - window.startElapsed;
      // Insertion order is the documented key order: step, losses..., lr, gradNorm, tokensPerSecond, elapsed.
      const record: Record<string, number> = { step, loss: window.sums.loss / window.steps };
      for (const [key, sum] of Object.entries(window.sums)) if (key !== 'loss') record[key] = sum / window.steps;
      Object.assign(record, { lr, gradNorm: this.lastGradNorm, tokensPerSecond: seconds > 0 ? window.tokens / seconds : 0, elapsed: now });
      this.metrics.append(record as MetricsRecord);
      this.window = emptyWindow(now);
    }
    this.options.progress?.update({
      step,
      loss: this.lastLosses.loss,
      tokensPerSecond: (this.tokensSeen - this.tokensBefore) / Math.max(1e-9, this.secondsThisRun()),
      secondsThisRun: this.secondsThisRun(),
      stepsThisRun: step - this.startStep,
    });
  }

  /** The figures a checkpoint stores. */
  saved(): SavedMetrics {
    return { elapsedSeconds: this.elapsed(), tokensSeen: this.tokensSeen, lastLosses: this.lastLosses, lastGradNorm: this.lastGradNorm, bestLoss: this.bestLoss, window: this.window };
  }

  /** Redraws loss.svg from every metrics line (at checkpoints and at the end). */
  writePlot(): void {
    this.metrics.writePlot();
  }

  /** Whether any metrics line exists (no plot is drawn for a run that logged nothing). */
  hasRecords(): boolean {
    return this.metrics.all().length > 0;
  }
}
