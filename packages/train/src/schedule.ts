/** Learning-rate schedule kinds, as HF transformers names them. */
export type ScheduleKind = 'linear' | 'cosine' | 'constant';

export interface ScheduleConfig {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warmup from 0 to `lr` (0 = none). */
  warmupSteps: number;
  /** Total optimizer steps of the run (decay reaches 0 here for linear/cosine). */
  totalSteps: number;
}

/**
 * The multiplier of the peak learning rate after `step` completed optimizer updates (HF
 * LambdaLR convention: the first update uses step 0, so warmup starts from lr 0):
 * - warmup (step < warmup): step / max(1, warmup)
 * - linear: max(0, (total - step) / max(1, total - warmup))
 * - cosine (half a cycle): 0.5 (1 + cos(pi * min(1, (step - warmup) / max(1, total - warmup))))
 * - constant: 1
 */
export function lrMultiplier(config: Omit<ScheduleConfig, 'lr'>, step: number): number {
  const { kind, warmupSteps: warmup, totalSteps: total } = config;
  if (!Number.isInteger(step) || step < 0) throw new Error(`lrMultiplier: step must be a non-negative integer, got ${step}`);
  if (step < warmup) return step / Math.max(1, warmup);
  switch (kind) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (total - step) / Math.max(1, total - warmup));
    case 'cosine': {
      // Clamped at 1 so steps past the end stay at 0 (HF would rise again; training never gets there).
      const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    default:
      throw new Error(`lrMultiplier: unknown schedule kind '${kind as string}', expected linear, cosine or constant`);
  }
}

/** The learning rate the update after `step` completed updates uses (see `lrMultiplier`). */
export function learningRateAt(config: ScheduleConfig, step: number): number {
  return config.lr * lrMultiplier(config, step);
}

/** Checks a schedule config, naming the bad field. */
export function validateSchedule(config: ScheduleConfig): void {
  if (!['linear', 'cosine', 'constant'].includes(config.kind)) {
    throw new Error(`schedule.kind: expected linear, cosine or constant, found '${config.kind}'`);
  }
  if (!(config.lr >= 0) || !Number.isFinite(config.lr)) throw new Error(`schedule.lr: expected a finite number >= 0, found ${config.lr}`);
  if (!Number.isInteger(config.warmupSteps) || config.warmupSteps < 0) {
    throw new Error(`schedule.warmupSteps: expected an integer >= 0, found ${config.warmupSteps}`);
  }
  if (!Number.isInteger(config.totalSteps) || config.totalSteps < 1) {
    throw new Error(`schedule.totalSteps: expected an integer >= 1, found ${config.totalSteps}`);
  }
}
