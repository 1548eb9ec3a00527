/**
 * The RetroMAE / MLM step-cost ratio, measured on the experiment's own batches in one sitting:
 * short MLM and RetroMAE segments alternate (A B A B) so drift on a shared machine hits both.
 * The long runs cannot give this number: several of them may share the two cores.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from './report.js';

export interface StepCost {
  /** Median seconds per optimizer step over the measured windows, per objective. */
  mlmSecondsPerStep: number;
  retromaeSecondsPerStep: number;
  ratio: number;
  windows: { mlm: number[]; retromae: number[] };
  stepsPerSegment: number;
  rounds: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs `rounds` x (MLM segment, RetroMAE segment) of `stepsPerSegment` steps each under `dir`;
 * the first window of each segment (model build, warm-up) is
 * left out. `argsFor(kind, runDir, totalSteps)` gives the `retro pretrain` argv of one objective
 * (with --resume, and a --log-every of a few steps so each segment yields several windows).
 */
export async function measureStepCost(
  dir: string,
  runRetro: (argv: string[]) => Promise<void>,
  argsFor: (kind: 'mlm' | 'retromae', runDir: string, totalSteps: number) => string[],
  options: { stepsPerSegment?: number; rounds?: number } = {},
): Promise<StepCost> {
  const stepsPerSegment = options.stepsPerSegment ?? 20;
  const rounds = options.rounds ?? 2;
  rmSync(dir, { recursive: true, force: true });
  const windows = { mlm: [] as number[], retromae: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    for (const kind of ['mlm', 'retromae'] as const) {
      const runDir = join(dir, kind);
      const before = readMetrics(join(runDir, 'metrics.jsonl')).length;
      await runRetro([...argsFor(kind, runDir, stepsPerSegment * rounds), '--stop-at-step', `${stepsPerSegment * round}`]);
      const lines = readMetrics(join(runDir, 'metrics.jsonl'));
      // windows inside this segment, its first one excluded
      for (let i = before + 2; i < lines.length; i++) {
        const ds = lines[i]!.step - lines[i - 1]!.step;
        const dt = lines[i]!.elapsed - lines[i - 1]!.elapsed;
        if (ds > 0 && dt > 0) windows[kind].push(dt / ds);
      }
    }
  }
  const mlmSecondsPerStep = median(windows.mlm);
  const retromaeSecondsPerStep = median(windows.retromae);
  return { mlmSecondsPerStep, retromaeSecondsPerStep, ratio: retromaeSecondsPerStep / mlmSecondsPerStep, windows, stepsPerSegment, rounds };
}
