import { ProgressLine, formatDuration, type ProgressStream } from '@retro/common';

/** Texts embedded so far for one named part of a job (an eval task, an input file). */
export interface CountProgress {
  task: string;
  done: number;
  total?: number;
}

/**
 * Progress of embedding jobs on stderr: on a terminal one line rewritten in place; otherwise a
 * line at most every `everySeconds` and when a part completes, so logs stay short.
 * Format: `retro eval: retrieval 1,024/7,456 texts | 85 texts/s | ETA 1m15s`.
 */
export function progressPrinter(io: { stderr: ProgressStream }, prefix: string, everySeconds = 10): (p: CountProgress) => void {
  const output = new ProgressLine(io.stderr, everySeconds);
  const started = new Map<string, number>();
  return (p) => {
    const now = performance.now() / 1000;
    if (!started.has(p.task)) started.set(p.task, now);
    const seconds = now - started.get(p.task)!;
    const rate = seconds > 0 ? p.done / seconds : 0;
    const complete = p.total !== undefined && p.done >= p.total;
    const eta = p.total !== undefined && rate > 0 ? ` | ETA ${formatDuration((p.total - p.done) / rate)}` : '';
    const count = p.total !== undefined ? `${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')}` : p.done.toLocaleString('en');
    const line = `${prefix}: ${p.task} ${count} texts | ${rate > 0 ? Math.round(rate) : '?'} texts/s${complete ? '' : eta}`;
    output.show(line, now, complete);
    // A completed part keeps its line; the next part starts on a fresh one.
    if (complete) output.finish();
  };
}
