/**
 * The status line of a long job (training steps, prepare's files, embedding texts): on a terminal
 * one line rewritten in place; otherwise (a log file, CI) a plain line now and then, so logs stay
 * readable. Each job formats its own line; how it reaches the stream lives here, once.
 */

/** Where progress goes: a stream that may be a terminal (process.stderr, or a test's recorder). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** "1h02m", "3m05s", "42s"; "?" for an unknown (NaN, infinite or negative) duration. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export class ProgressLine {
  /** Whether the stream is a terminal (lines are rewritten in place). */
  readonly tty: boolean;
  private lastPrint = Number.NEGATIVE_INFINITY;
  private inPlace = false;

  /**
   * @param stream where the line goes.
   * @param everySeconds off a terminal, the least time between two printed lines unless one is due.
   */
  constructor(
    private readonly stream: ProgressStream,
    private readonly everySeconds: number,
  ) {
    this.tty = stream.isTTY === true;
  }

  /**
   * Shows `line`: on a terminal it replaces the current line; elsewhere it is printed on a line of
   * its own when `due` (the caller's milestones: a file done, the last step) or when `everySeconds`
   * have passed since the last printed one. `now` is in seconds on the caller's clock.
   * @returns whether anything was written.
   */
  show(line: string, now: number, due = false): boolean {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.inPlace = true;
      return true;
    }
    if (!due && now - this.lastPrint < this.everySeconds) return false;
    this.lastPrint = now;
    this.stream.write(`${line}\n`);
    return true;
  }

  /** A message on its own line (ends the in-place line first). */
  note(message: string): void {
    this.finish();
    this.stream.write(`${message}\n`);
  }

  /** Ends the in-place line so later output starts on a fresh one. */
  finish(): void {
    if (this.inPlace) this.stream.write('\n');
    this.inPlace = false;
  }
}
