import type { RngState } from '../rng.js';
import type { ScheduleConfig } from '../schedule.js';
import { TRAINER_STATE_FORMAT } from './layout.js';

/** Running sums of the current logging window, kept so a resumed run logs the same means. */
export interface MetricsWindow {
  steps: number;
  sums: Record<string, number>;
  tokens: number;
  /** Run time (seconds) at which the window opened. */
  startElapsed: number;
}

/** trainer_state.json: everything besides weights and moments needed to continue exactly. */
export interface TrainerState {
  format: typeof TRAINER_STATE_FORMAT;
  version: 1;
  /** Optimizer updates completed; the checkpoint directory is checkpoint-<step>. */
  step: number;
  totalSteps: number;
  accumulation: number;
  /** Batches taken from the BatchSource since the run began (all resumes together). */
  batchesConsumed: number;
  schedule: ScheduleConfig;
  /** Learning rate of the last update. */
  lr: number;
  rng: RngState;
  /** BatchSource.state() right after the last consumed batch. */
  dataLoader: unknown;
  optimizer: {
    beta1: number;
    beta2: number;
    eps: number;
    groups: Array<{ weightDecay: number; names: string[] }>;
    /** name -> AdamW updates applied (moments live in optimizer.safetensors). */
    steps: Record<string, number>;
  };
  metrics: {
    elapsedSeconds: number;
    tokensSeen: number;
    /** Losses of the last step (mean over its micro-batches). */
    lastLosses: Record<string, number>;
    lastGradNorm: number;
    /** Lowest per-step `loss` so far, and its step. */
    bestLoss: { step: number; value: number } | null;
    window: MetricsWindow;
  };
  /** The run configuration, as given (JSON-safe). */
  config: Record<string, unknown>;
  savedAt: string;
}

/** Parses trainer_state.json text, checking every field resume depends on. `source` names the file. */
export function parseTrainerState(text: string, source: string): TrainerState {
  let state: TrainerState;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  validateTrainerState(state, source);
  return state;
}

/**
 * Checks a parsed trainer state field by field, so a hand-edited or damaged file fails here with
 * the field, what it holds and what was expected, never as a TypeError mid-resume or as a run
 * that "resumes" past its end and trains nothing.
 */
export function validateTrainerState(value: unknown, source: string): asserts value is TrainerState {
  const fail = (field: string, found: unknown, expected: string) => new Error(`${source}: field '${field}' is ${describe(found)}, expected ${expected}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${source}: the top level is ${describe(value)}, expected an object`);
  const state = value as unknown as Record<string, unknown>;
  if (state.format !== TRAINER_STATE_FORMAT) throw fail('format', state.format, `'${TRAINER_STATE_FORMAT}'`);
  if (state.version !== 1) throw fail('version', state.version, '1');
  for (const field of ['step', 'totalSteps', 'accumulation', 'batchesConsumed'] as const) {
    if (!Number.isSafeInteger(state[field]) || (state[field] as number) < 0) throw fail(field, state[field], 'an integer >= 0');
  }
  const step = state.step as number;
  const totalSteps = state.totalSteps as number;
  if (totalSteps < 1) throw fail('totalSteps', totalSteps, 'an integer >= 1');
  if ((state.accumulation as number) < 1) throw fail('accumulation', state.accumulation, 'an integer >= 1');
  if (step > totalSteps) throw fail('step', step, `at most totalSteps (${totalSteps}): a run cannot be past its end`);
  if ((state.batchesConsumed as number) < step) throw fail('batchesConsumed', state.batchesConsumed, `at least step (${step}): every update consumed a batch`);
  for (const field of ['schedule', 'rng', 'optimizer', 'metrics'] as const) {
    const v = state[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(field, v, 'an object');
  }
  if (!('dataLoader' in state) || state.dataLoader === undefined || state.dataLoader === null) {
    throw fail('dataLoader', state.dataLoader, 'the batch source position (BatchSource.state()) saved with the checkpoint');
  }

  const schedule = state.schedule as Record<string, unknown>;
  if (!['linear', 'cosine', 'constant'].includes(schedule.kind as string)) throw fail('schedule.kind', schedule.kind, "'linear', 'cosine' or 'constant'");
  if (typeof schedule.lr !== 'number' || !Number.isFinite(schedule.lr) || schedule.lr < 0) throw fail('schedule.lr', schedule.lr, 'a finite number >= 0');
  if (!Number.isSafeInteger(schedule.warmupSteps) || (schedule.warmupSteps as number) < 0) throw fail('schedule.warmupSteps', schedule.warmupSteps, 'an integer >= 0');
  if (schedule.totalSteps !== totalSteps) throw fail('schedule.totalSteps', schedule.totalSteps, `totalSteps (${totalSteps})`);

  const rng = state.rng as Record<string, unknown>;
  for (const [name, stream] of Object.entries(rng)) {
    // The @retro/random Generator's JSON state; an array is the sfc32 state retro saved before it.
    if (Array.isArray(stream)) {
      throw fail(`rng.${name}`, stream, "a generator state {algorithm: 'xoshiro128**', s, spareNormal}; this array is the state of the sfc32 generator retro used before @retro/random, and such a run cannot continue bit-exactly");
    }
    const { algorithm, s, spareNormal } = (stream ?? {}) as { algorithm?: unknown; s?: unknown; spareNormal?: unknown };
    const ok =
      algorithm === 'xoshiro128**' &&
      Array.isArray(s) &&
      s.length === 4 &&
      s.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 32) &&
      s.some((x) => x !== 0) &&
      (spareNormal === undefined || spareNormal === null || (typeof spareNormal === 'number' && Number.isFinite(spareNormal)));
    if (!ok) throw fail(`rng.${name}`, stream, "a generator state {algorithm: 'xoshiro128**', s: [4 uint32 words, not all 0], spareNormal: number or null}");
  }

  const optimizer = state.optimizer as Record<string, unknown>;
  for (const key of ['beta1', 'beta2', 'eps'] as const) {
    if (typeof optimizer[key] !== 'number' || !Number.isFinite(optimizer[key])) throw fail(`optimizer.${key}`, optimizer[key], 'a finite number');
  }
  if (!Array.isArray(optimizer.groups)) throw fail('optimizer.groups', optimizer.groups, 'a list of {weightDecay, names}');
  const steps = optimizer.steps as Record<string, unknown>;
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) throw fail('optimizer.steps', steps, 'an object parameter -> updates');
  for (const [name, n] of Object.entries(steps)) {
    if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > step) throw fail(`optimizer.steps.${name}`, n, `an integer from 0 to step (${step})`);
  }

  const metrics = state.metrics as Record<string, unknown>;
  for (const key of ['elapsedSeconds', 'tokensSeen'] as const) {
    if (typeof metrics[key] !== 'number' || !Number.isFinite(metrics[key]) || (metrics[key] as number) < 0) throw fail(`metrics.${key}`, metrics[key], 'a finite number >= 0');
  }
  if (typeof metrics.lastLosses !== 'object' || metrics.lastLosses === null) throw fail('metrics.lastLosses', metrics.lastLosses, 'an object');
  const window = metrics.window as Record<string, unknown> | undefined;
  if (typeof window !== 'object' || window === null) throw fail('metrics.window', window, 'an object');
  if (!Number.isSafeInteger(window.steps) || typeof window.sums !== 'object' || window.sums === null) throw fail('metrics.window', window, '{steps, sums, tokens, startElapsed}');
  if (typeof state.config !== 'object' || state.config === null) throw fail('config', state.config, 'an object');
}

function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  let text: string | undefined;
  try {
    text = JSON.stringify(x);
  } catch {
    text = String(x);
  }
  if (text === undefined) return String(x);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
