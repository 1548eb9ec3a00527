import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import { renderLinePlot, type PlotSeries } from './svg-plot.js';

export const METRICS_FILE = 'metrics.jsonl';
export const LOSS_PLOT_FILE = 'loss.svg';

/**
 * One line of metrics.jsonl. Losses are means over the steps since the previous line; lr and
 * gradNorm are those of `step` itself; tokensPerSecond covers the same window; elapsed is run time
 * in seconds (summed across resumes). Loss keys other than `loss` appear only if the model returns them.
 */
export interface MetricsRecord {
  step: number;
  loss: number;
  encoderLoss?: number;
  decoderLoss?: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsed: number;
  [key: string]: number | undefined;
}

/** Loss keys of a record: every numeric field except the bookkeeping ones. */
export function lossKeys(record: MetricsRecord): string[] {
  const bookkeeping = new Set(['step', 'lr', 'gradNorm', 'tokensPerSecond', 'elapsed']);
  return Object.keys(record).filter((key) => !bookkeeping.has(key));
}

/** Parses metrics.jsonl text; `source` names the file in errors. */
export function parseMetrics(text: string, source = METRICS_FILE): MetricsRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as MetricsRecord;
      } catch (error) {
        throw new Error(`${source}: line ${index + 1} is not JSON (${(error as Error).message})`);
      }
    });
}

/**
 * metrics.jsonl plus the loss.svg drawn from it, both in `dir`. On resume from step S the lines
 * after S (written by the run that died) are dropped, so the file reads like one run.
 */
export class MetricsLog {
  readonly path: string;
  readonly plotPath: string;
  private readonly records: MetricsRecord[] = [];

  constructor(readonly dir: string, options: { keepUpToStep: number }) {
    this.path = join(dir, METRICS_FILE);
    this.plotPath = join(dir, LOSS_PLOT_FILE);
    const previous = existsSync(this.path) ? parseMetrics(readFileSync(this.path, 'utf8'), this.path) : [];
    this.records = previous.filter((record) => record.step <= options.keepUpToStep);
    if (previous.length !== this.records.length || (previous.length === 0 && existsSync(this.path))) {
      writeFileAtomic(this.path, this.records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    }
  }

  append(record: MetricsRecord): void {
    this.records.push(record);
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  all(): readonly MetricsRecord[] {
    return this.records;
  }

  /** Rewrites loss.svg: one line per loss key seen in any record. */
  writePlot(title = 'Training loss'): void {
    const keys = [...new Set(this.records.flatMap(lossKeys))];
    const series: PlotSeries[] = keys.map((key) => ({
      name: key,
      points: this.records.map((record) => [record.step, record[key] ?? Number.NaN] as const),
    }));
    writeFileAtomic(this.plotPath, renderLinePlot(series, { title, xLabel: 'step', yLabel: 'loss' }));
  }
}
