import { ProgressLine, formatDuration, type ProgressStream } from '@retro/common';

export interface ProgressOptions {
  stream?: ProgressStream;
  /** Non-TTY streams get one line at most this often (seconds); default 30. */
  everySeconds?: number;
  /** ...or every this many steps, whichever comes first; default 100. */
  everySteps?: number;
}

export interface ProgressUpdate {
  step: number;
  loss: number;
  tokensPerSecond: number;
  /** Seconds since this process started training (ETA uses this process's speed only). */
  secondsThisRun: number;
  stepsThisRun: number;
}

/**
 * Live training progress through @retro/common's ProgressLine (in place on a TTY, a plain line now
 * and then elsewhere). Format: `step 120/1000 | loss 5.4321 | 1234 tok/s | ETA 3m05s`.
 */
export class ProgressDisplay {
  private readonly output: ProgressLine;
  private readonly everySteps: number;

  constructor(private readonly totalSteps: number, options: ProgressOptions = {}) {
    this.output = new ProgressLine(options.stream ?? process.stderr, options.everySeconds ?? 30);
    this.everySteps = options.everySteps ?? 100;
  }

  line(update: ProgressUpdate): string {
    const remaining = this.totalSteps - update.step;
    const eta = update.stepsThisRun > 0 ? (update.secondsThisRun / update.stepsThisRun) * remaining : Number.NaN;
    return `step ${update.step}/${this.totalSteps} | loss ${update.loss.toFixed(4)} | ${Math.round(update.tokensPerSecond)} tok/s | ETA ${formatDuration(eta)}`;
  }

  update(update: ProgressUpdate): void {
    const due = update.step === this.totalSteps || update.step % this.everySteps === 0;
    this.output.show(this.line(update), update.secondsThisRun, due);
  }

  /** A message on its own line (ends the in-place line first). */
  note(message: string): void {
    this.output.note(message);
  }

  /** Ends the in-place line so later output starts on a fresh one. */
  finish(): void {
    this.output.finish();
  }
}
