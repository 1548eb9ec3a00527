/**
 * The runner's memory between invocations: OUT/state.json records each finished stage with its
 * result and seconds, so a rerun skips it. The settings that change results are stored too, and a
 * rerun with different ones is refused (otherwise a resumed run would mix two experiments).
 *
 * Several invocations may share one OUT at once (e.g. one per seed, which uses two cores better
 * than one process does): every write re-reads the file under a lock and merges, and a stage
 * being worked on is claimed by its process so no two processes run it together.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
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
  /** Settings that decide the numbers (steps, batch, vocab, eval limit, ...); seeds and eval steps only pick stages. */
  settings: Record<string, unknown>;
  stages: Record<string, StageRecord>;
  /** Stages a live process is working on now: stage -> pid and start. */
  claims?: Record<string, { pid: number; since: string }>;
  /** Seconds spent per pretrain stage across invocations (also while unfinished). */
  partialSeconds: Record<string, number>;
  invocations: Array<{ startedAt: string; argv: string[] }>;
}

export class ExperimentState {
  private readonly file: string;
  private readonly lockDir: string;
  data: StateFile;

  /**
   * @param addedSettings settings introduced after some state files were written, with the value
   *   those files were made with; a file lacking one is read as having it.
   */
  constructor(out: string, settings: Record<string, unknown>, argv: string[], addedSettings: Record<string, unknown> = {}) {
    this.file = join(out, 'state.json');
    this.lockDir = join(out, 'state.lock');
    this.data = this.update((data) => {
      // files from before seeds/evalAt left the settings: those two never decided a stage's numbers
      const { seeds: _seeds, evalAt: _evalAt, ...recorded } = data.settings;
      for (const [key, value] of Object.entries(addedSettings)) if (!(key in recorded)) recorded[key] = value;
      data.settings = Object.fromEntries(Object.keys(settings).filter((k) => k in recorded).map((k) => [k, recorded[k]]).concat(Object.entries(recorded).filter(([k]) => !(k in settings))));
      const before = JSON.stringify(data.settings);
      const now = JSON.stringify(settings);
      if (before !== now) {
        throw new Error(
          `run.ts: ${this.file} was made with other settings:\n  recorded ${before}\n  now      ${now}\n` +
            'Use another --out (or delete that folder) to start a different experiment.',
        );
      }
      data.invocations.push({ startedAt: new Date().toISOString(), argv });
    }, settings);
  }

  done(stage: string): StageRecord | undefined {
    return this.data.stages[stage] ?? this.read().stages[stage];
  }

  /**
   * Marks `stage` as this process's; throws naming the other process when a live one holds it.
   * Claims of dead processes (a killed run) are taken over.
   */
  claim(stage: string): void {
    this.update((data) => {
      const held = data.claims?.[stage];
      if (held && held.pid !== process.pid && processAlive(held.pid)) {
        throw new Error(`run.ts: stage ${stage} is being run by process ${held.pid} since ${held.since}; pick other --seed/--only for this invocation`);
      }
      data.claims = { ...data.claims, [stage]: { pid: process.pid, since: new Date().toISOString() } };
    });
  }

  /** Stages other live processes hold now, e.g. ['pretrain:mlm-s43 (pid 123)']. */
  liveClaimsOfOthers(): string[] {
    const claims = this.read().claims ?? {};
    return Object.entries(claims)
      .filter(([, held]) => held.pid !== process.pid && processAlive(held.pid))
      .map(([stage, held]) => `${stage} (pid ${held.pid})`);
  }

  /** Drops every claim of this process (on exit or a signal). */
  releaseAll(): void {
    this.update((data) => {
      for (const [stage, held] of Object.entries(data.claims ?? {})) if (held.pid === process.pid) delete data.claims![stage];
    });
  }

  release(stage: string): void {
    this.update((data) => {
      if (data.claims?.[stage]?.pid === process.pid) delete data.claims[stage];
    });
  }

  finish(stage: string, startedAt: Date, result: unknown, seconds?: number): StageRecord {
    const record: StageRecord = {
      status: 'done',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: seconds ?? (Date.now() - startedAt.getTime()) / 1000,
      result,
    };
    this.update((data) => {
      data.stages[stage] = record;
      if (data.claims?.[stage]?.pid === process.pid) delete data.claims[stage];
    });
    return record;
  }

  addPartialSeconds(stage: string, seconds: number): number {
    return this.update((data) => {
      data.partialSeconds[stage] = (data.partialSeconds[stage] ?? 0) + seconds;
    }).partialSeconds[stage]!;
  }

  /** The file as other processes left it; no lock needed, writers replace it by rename. */
  private read(): StateFile {
    this.data = JSON.parse(readFileSync(this.file, 'utf8')) as StateFile;
    return this.data;
  }

  /**
   * Read-modify-write of state.json under a lock directory (mkdir is atomic), written through a
   * temp file + rename so an interrupted write never leaves a half state file.
   */
  private update(change: (data: StateFile) => void, initialSettings?: Record<string, unknown>): StateFile {
    mkdirSync(dirname(this.file), { recursive: true });
    this.lock();
    try {
      const data: StateFile = existsSync(this.file)
        ? (JSON.parse(readFileSync(this.file, 'utf8')) as StateFile)
        : { version: 1, settings: initialSettings ?? {}, stages: {}, partialSeconds: {}, invocations: [] };
      change(data);
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
      renameSync(tmp, this.file);
      this.data = data;
      return data;
    } finally {
      rmdirSync(this.lockDir);
    }
  }

  private lock(): void {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        mkdirSync(this.lockDir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock older than 30 s belongs to a process that died between mkdir and rmdir.
        if (Date.now() - statSync(this.lockDir).mtimeMs > 30_000) {
          rmdirSync(this.lockDir);
          continue;
        }
        if (Date.now() > deadline) throw new Error(`run.ts: ${this.lockDir} is held for over 30 s; remove it if no run.ts is running`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
