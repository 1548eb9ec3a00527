import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainerRng, train, type StepInfo, type TrainOptions, type TrainResult } from '../../src/index.js';
import { TinyBatches, TinyRetroModel, type TinyBatch } from './tiny-model.js';

const made: string[] = [];

/** A fresh directory under the OS temp dir; `removeTempDirs` (call it in afterAll) deletes them. */
export function tempDir(prefix = 'retro-train-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface TinyRun {
  result: TrainResult;
  steps: StepInfo[];
  model: TinyRetroModel;
  /** name -> parameter values after the run. */
  params: Map<string, Float32Array>;
}

export interface TinyRunOptions extends Partial<Omit<TrainOptions<TinyBatch>, 'model' | 'batches'>> {
  outputDir: string;
  data?: ConstructorParameters<typeof TinyBatches>[1];
  modelOptions?: ConstructorParameters<typeof TinyRetroModel>[1];
}

/** Builds fresh rng/model/batches from the seed (as a new process would) and trains. */
export async function runTiny(options: TinyRunOptions): Promise<TinyRun> {
  const seed = options.seed ?? 7;
  const rng = new TrainerRng(seed);
  const model = new TinyRetroModel(rng, options.modelOptions);
  const batches = new TinyBatches(rng, options.data);
  const steps: StepInfo[] = [];
  const { data: _data, modelOptions: _modelOptions, ...rest } = options;
  const result = await train<TinyBatch>({
    optimizer: { lr: 0.05, weightDecay: 0.01 },
    schedule: { kind: 'linear', warmupSteps: 2 },
    totalSteps: 8,
    accumulation: 2,
    clipNorm: 1.0,
    checkpointEvery: 2,
    keepCheckpoints: 2,
    logEvery: 3,
    progress: false,
    ...rest,
    seed,
    rng,
    model,
    batches,
    onStep: (info) => {
      steps.push(info);
      return options.onStep?.(info);
    },
  });
  const params = new Map(model.namedParameters().map(([name, t]) => [name, t.toFloat32Array()]));
  return { result, steps, model, params };
}
