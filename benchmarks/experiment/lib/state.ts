/**
 * The runner's memory between invocations: OUT/state.json records each finished stage with its
 * result and seconds, so a rerun skips it. The settings that change results are stored too, and a
 * rerun with different ones is refused (otherwise a resumed run would mix two experiments).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface StageRecord {
  status: 'done';
  startedAt: string;
  finishedAt: string;
  /** Wall seconds of the invocation(s) that did the work (summed over resumed pieces for pretrain). */
  seconds: number;
  result: unknown;
}

export interface StateFile {
  version: 1;
  /** Settings that decide the numbers (steps, batch, seeds, vocab, eval limit, ...). */
  settings: Record<string, unknown>;
  stages: Record<string, StageRecord>;
  /** Seconds spent per pretrain stage across invocations (also while unfinished). */
  partialSeconds: Record<string, number>;
  invocations: Array<{ startedAt: string; argv: string[] }>;
}

export class ExperimentState {
  private readonly file: string;
  data: StateFile;

  constructor(out: string, settings: Record<string, unknown>, argv: string[]) {
    this.file = join(out, 'state.json');
    if (existsSync(this.file)) {
      this.data = JSON.parse(readFileSync(this.file, 'utf8')) as StateFile;
      const before = JSON.stringify(this.data.settings);
      const now = JSON.stringify(settings);
      if (before !== now) {
        throw new Error(
          `run.ts: ${this.file} was made with other settings:\n  recorded ${before}\n  now      ${now}\n` +
            'Use another --out (or delete that folder) to start a different experiment.',
        );
      }
    } else {
      this.data = { version: 1, settings, stages: {}, partialSeconds: {}, invocations: [] };
    }
    this.data.invocations.push({ startedAt: new Date().toISOString(), argv });
    this.save();
  }

  done(stage: string): StageRecord | undefined {
    return this.data.stages[stage];
  }

  finish(stage: string, startedAt: Date, result: unknown, seconds?: number): StageRecord {
    const record: StageRecord = {
      status: 'done',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: seconds ?? (Date.now() - startedAt.getTime()) / 1000,
      result,
    };
    this.data.stages[stage] = record;
    this.save();
    return record;
  }

  addPartialSeconds(stage: string, seconds: number): number {
    this.data.partialSeconds[stage] = (this.data.partialSeconds[stage] ?? 0) + seconds;
    this.save();
    return this.data.partialSeconds[stage]!;
  }

  /** Temp file + rename, so an interrupted write never leaves a half state file. */
  save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}

/** Wall-clock allowance of one invocation (--time-budget). */
export class TimeBudget {
  private readonly deadline: number;
  constructor(minutes: number | undefined, private readonly start = Date.now()) {
    this.deadline = minutes === undefined ? Infinity : start + minutes * 60_000;
  }
  /** Seconds left (Infinity without a budget). */
  left(): number {
    return (this.deadline - Date.now()) / 1000;
  }
  expired(): boolean {
    return this.left() <= 0;
  }
  usedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }
}

/** Thrown to stop a stage cleanly when the budget is spent; run.ts reports it and exits 0. */
export class BudgetSpent extends Error {
  constructor(readonly stage: string) {
    super(`time budget spent before or during stage ${stage}; rerun the same command to continue`);
  }
}
