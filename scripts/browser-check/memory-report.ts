/**
 * Device memory of RetroMAE training on the active backend (gpujs mode webgpu in the page): for each
 * model config and batch size, the bytes the backend's allocation accounting holds
 *   - after the model is built (parameters),
 *   - after the first update (+ AdamW moments and gradients),
 *   - at its peak during a second, steady-state update (forward, backward, clip, AdamW), and that
 *     peak had garbage collection freed nothing (the update frees its temporaries through tensor
 *     scopes, so the two agree).
 * The numbers are the backend's own buffer bookkeeping (every WebGPU buffer it creates and frees),
 * so they are the same on SwiftShader as on a GPU; only the time it takes differs. Each config's
 * tensors are disposed before the next, and the report says what stayed alive.
 */
import { backendMemory, getBackend, Generator, gpujsInfo, registerGpujsBackend, setBackendAsync, type Tensor } from '@retro/tensor';
import { collateRetroMAE, RetroMAEForPretraining, RetroMAEObjective } from '@retro/enhanced-decoder';
import { AdamW } from '../../packages/train/src/optim/adamw.js';
import { runUpdate } from '../../packages/train/src/loop/step.js';

export interface MemoryConfig {
  name: string;
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
}

/** The configs of the GPU issue: tiny and base as benchmarks/train-step.ts defines them, small between. */
export const MEMORY_CONFIGS: Record<string, MemoryConfig> = {
  tiny: { name: 'tiny', vocab: 8000, hidden: 256, layers: 4, heads: 4, intermediate: 1024 },
  small: { name: 'small', vocab: 21128, hidden: 512, layers: 4, heads: 8, intermediate: 2048 },
  base: { name: 'base', vocab: 21128, hidden: 768, layers: 12, heads: 12, intermediate: 3072 },
};

export interface MemoryRow {
  config: string;
  objective: 'retromae' | 'mlm';
  batch: number;
  length: number;
  parameters: number;
  /** Bytes held after building the model: the parameters. */
  modelBytes: number;
  /** Bytes held between updates: parameters, gradients, AdamW moments. */
  steadyBytes: number;
  /** Most bytes held at once during the second update. */
  peakBytes: number;
  /**
   * Most bytes the second update would have held at once had garbage collection freed nothing
   * (only disposes and tensor scopes count): a bound no GC timing can exceed. Equal to
   * `peakBytes` when the update frees all it makes deterministically.
   */
  peakWithoutGcBytes: number;
  /**
   * Bytes of all buffers created during the second update (nothing freed counted back): the
   * update's allocation traffic. Only where the device counts creations (@retro/tensor's countingGpu).
   */
  createdInUpdateBytes: number | null;
  /** Bytes still held after disposing everything this row created (0 unless something leaks). */
  leftBytes: number;
  loss: number;
  seconds: number;
}

/** A synthetic batch [B, L]: random ids, 30 % encoder masking, half the tokens word starts, M at 50 %. */
function syntheticBatch(vocab: number, B: number, L: number) {
  const g = new Generator(17);
  const inputIds = new Int32Array(B * L);
  const wordStarts = new Uint8Array(B * L);
  const encoderInputIds = new Int32Array(B * L);
  const encoderLabels = new Int32Array(B * L).fill(-100);
  for (let i = 0; i < B * L; i++) {
    const position = i % L;
    const id = position === 0 ? 2 : position === L - 1 ? 3 : 5 + g.randint(vocab - 5);
    inputIds[i] = id;
    wordStarts[i] = position === 0 || position === L - 1 || g.random() < 0.5 ? 1 : 0;
    encoderInputIds[i] = id;
    if (position > 0 && position < L - 1 && g.random() < 0.3) {
      encoderLabels[i] = id;
      encoderInputIds[i] = 4;
    }
  }
  const data = { shape: [B, L] as [number, number], inputIds, attentionMask: new Uint8Array(B * L).fill(1), wordStarts, lengths: new Int32Array(B).fill(L), encoderInputIds, encoderLabels };
  return collateRetroMAE(data, { decoderRatio: 0.5, seed: 0 });
}

/**
 * Selects gpujs mode webgpu on whatever navigator.gpu this runtime has, through this module's own
 * @retro/tensor (a caller that may load another copy of the engine, e.g. CommonJS beside ESM, calls
 * this instead of registering itself); returns the device's description.
 */
export async function activateWebgpu(): Promise<string> {
  registerGpujsBackend({ mode: 'webgpu' });
  await setBackendAsync('gpujs');
  return String(gpujsInfo('gpujs').device);
}

const live = (): number => backendMemory()?.liveBytes ?? Number.NaN;

/** One row: build, two updates, measure, dispose. */
export async function measureMemory(config: MemoryConfig, objective: 'retromae' | 'mlm', B: number, L = 128, createdBytes?: () => number): Promise<MemoryRow> {
  const start = performance.now();
  const before = live();
  const model = RetroMAEForPretraining.fromConfig(
    {
      vocabSize: config.vocab,
      hiddenSize: config.hidden,
      numHiddenLayers: config.layers,
      numAttentionHeads: config.heads,
      intermediateSize: config.intermediate,
      maxPositionEmbeddings: 512,
      hiddenDropoutProb: 0.1,
      attentionProbsDropoutProb: 0.1,
    },
    { seed: 1, mlmOnly: objective === 'mlm' },
  );
  model.train();
  const namedParameters = model.namedParameters();
  const params = namedParameters.map(([, p]) => p);
  const modelBytes = live() - before;
  const parameters = params.reduce((n, p) => n + p.size, 0);

  const collated = syntheticBatch(config.vocab, B, L);
  // The batch is uploaded once and kept, as a training loop's prefetched batch would be.
  const batch = { ...collated, tokens: B * L };
  const batches = { next: () => batch, state: () => null, restore: () => {} };
  const optimizer = new AdamW(namedParameters, { lr: 1e-4, weightDecay: 0.01 });
  const parts = { model: new RetroMAEObjective(model), batches, optimizer, namedParameters, params, accumulation: 1, clipNorm: 1.0 };
  await runUpdate(parts, 1e-4, 1, 0);
  const steadyBytes = live() - before;
  getBackend().resetPeak?.();
  const createdBefore = createdBytes?.();
  const { outcome } = await runUpdate(parts, 1e-4, 2, 1);
  const peakBytes = (backendMemory()?.peakBytes ?? Number.NaN) - before;
  const peakWithoutGcBytes = (backendMemory()?.peakWithoutGcBytes ?? Number.NaN) - before;
  const createdInUpdateBytes = createdBytes && createdBefore !== undefined ? createdBytes() - createdBefore : null;

  const owned: Tensor[] = [...params, ...optimizer.stateTensors()];
  for (const p of params) if (p.grad) owned.push(p.grad);
  for (const value of Object.values(collated)) if (value && typeof value === 'object' && 'dispose' in value) owned.push(value as Tensor);
  for (const t of owned) t.dispose();
  return {
    config: config.name,
    objective,
    batch: B,
    length: L,
    parameters,
    modelBytes,
    steadyBytes,
    peakBytes,
    peakWithoutGcBytes,
    createdInUpdateBytes,
    leftBytes: live() - before,
    loss: outcome?.losses.loss ?? Number.NaN,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Parses `tiny:8,base:1` (config:batch pairs) against MEMORY_CONFIGS. */
export function parseMemoryPlan(text: string): Array<{ config: MemoryConfig; batch: number }> {
  return text
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const [name, batchText] = item.split(':');
      const config = MEMORY_CONFIGS[name!];
      const batch = Number(batchText);
      if (!config || !Number.isInteger(batch) || batch < 1) {
        throw new Error(`memory plan '${item}': expected CONFIG:BATCH with CONFIG one of ${Object.keys(MEMORY_CONFIGS).join(', ')} and BATCH a positive integer`);
      }
      return { config, batch };
    });
}

