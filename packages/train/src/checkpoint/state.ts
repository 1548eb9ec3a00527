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

/** Parses trainer_state.json text, checking the fields resume depends on. `source` names the file. */
export function parseTrainerState(text: string, source: string): TrainerState {
  let state: TrainerState;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  if (state?.format !== TRAINER_STATE_FORMAT) throw new Error(`${source}: field 'format' is ${JSON.stringify(state?.format)}, expected '${TRAINER_STATE_FORMAT}'`);
  if (state.version !== 1) throw new Error(`${source}: field 'version' is ${JSON.stringify(state.version)}, expected 1`);
  for (const field of ['step', 'totalSteps', 'accumulation', 'batchesConsumed'] as const) {
    if (!Number.isInteger(state[field]) || state[field] < 0) throw new Error(`${source}: field '${field}' is ${JSON.stringify(state[field])}, expected an integer >= 0`);
  }
  for (const field of ['schedule', 'rng', 'optimizer', 'metrics'] as const) {
    if (typeof state[field] !== 'object' || state[field] === null) throw new Error(`${source}: field '${field}' is missing or not an object`);
  }
  return state;
}
