/** Where progress goes: a stream that may be a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

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

/** "1h02m", "3m05s", "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Live progress: on a TTY one line rewritten in place; otherwise a plain line now and then, so
 * logs stay readable. Format: `step 120/1000 | loss 5.4321 | 1234 tok/s | ETA 3m05s`.
 */
export class ProgressDisplay {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly everySeconds: number;
  private readonly everySteps: number;
  private lastPrintSeconds = Number.NEGATIVE_INFINITY;
  private wroteInPlace = false;

  constructor(private readonly totalSteps: number, options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.everySeconds = options.everySeconds ?? 30;
    this.everySteps = options.everySteps ?? 100;
  }

  line(update: ProgressUpdate): string {
    const remaining = this.totalSteps - update.step;
    const eta = update.stepsThisRun > 0 ? (update.secondsThisRun / update.stepsThisRun) * remaining : Number.NaN;
    return `step ${update.step}/${this.totalSteps} | loss ${update.loss.toFixed(4)} | ${Math.round(update.tokensPerSecond)} tok/s | ETA ${formatDuration(eta)}`;
  }

  update(update: ProgressUpdate): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${this.line(update)}`);
      this.wroteInPlace = true;
      return;
    }
    const due =
      update.step === this.totalSteps ||
      update.step % this.everySteps === 0 ||
      update.secondsThisRun - this.lastPrintSeconds >= this.everySeconds;
    if (!due) return;
    this.lastPrintSeconds = update.secondsThisRun;
    this.stream.write(`${this.line(update)}\n`);
  }

  /** A message on its own line (ends the in-place line first). */
  note(message: string): void {
    this.finish();
    this.stream.write(`${message}\n`);
  }

  /** Ends the in-place line so later output starts on a fresh one. */
  finish(): void {
    if (this.wroteInPlace) this.stream.write('\n');
    this.wroteInPlace = false;
  }
}
