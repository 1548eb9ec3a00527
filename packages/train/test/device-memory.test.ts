/**
 * Device memory of training on gpujs mode webgpu, on a counting WebGPU device (no shader runs;
 * the backend's allocation accounting is what is measured, as in benchmarks/webgpu-memory.ts):
 * after the first update the bytes held stay flat (nothing grows with the number of updates),
 * they are the parameters, their gradients and the two AdamW moments, and disposing those leaves
 * nothing. None of it may depend on when garbage collection runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendMemory, countingGpu, Generator, getBackend, registerGpujsBackend, setBackend, setBackendAsync, type Tensor } from '@retro/tensor';
import { collateRetroMAE, RetroMAEForPretraining, RetroMAEObjective } from '@retro/enhanced-decoder';
import { AdamW, runUpdate } from '../src/index.js';

const CONFIG = { vocabSize: 512, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 128, maxPositionEmbeddings: 64, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1 };
const B = 4;
const L = 32;
const UPDATES = 5;
/** How far "steady" may sit from parameters + gradients + moments: 1 % (it is exact today). */
const STEADY_TOLERANCE = 0.01;

/** A fresh synthetic RetroMAE batch [B, L] per call, uploaded inside the update as a loader's would be. */
function batchSource(): { next: () => ReturnType<typeof collateRetroMAE> & { tokens: number }; state: () => null; restore: () => void } {
  const g = new Generator(5);
  let index = 0;
  return {
    next: () => {
      const inputIds = new Int32Array(B * L);
      const encoderInputIds = new Int32Array(B * L);
      const encoderLabels = new Int32Array(B * L).fill(-100);
      for (let i = 0; i < B * L; i++) {
        const position = i % L;
        const id = position === 0 ? 2 : position === L - 1 ? 3 : 5 + g.randint(CONFIG.vocabSize - 5);
        inputIds[i] = id;
        encoderInputIds[i] = id;
        if (position > 0 && position < L - 1 && g.random() < 0.3) {
          encoderLabels[i] = id;
          encoderInputIds[i] = 4;
        }
      }
      const data = { shape: [B, L] as [number, number], inputIds, attentionMask: new Uint8Array(B * L).fill(1), wordStarts: new Uint8Array(B * L).fill(1), lengths: new Int32Array(B).fill(L), encoderInputIds, encoderLabels, batchInEpoch: index++ };
      return { ...collateRetroMAE(data, { decoderRatio: 0.5, seed: 0 }), tokens: B * L };
    },
    state: () => null,
    restore: () => {},
  };
}

const bytesOf = (tensors: readonly Tensor[]): number => tensors.reduce((n, t) => n + Math.max(4, t.size * 4), 0);

describe('device memory of RetroMAE training on gpujs webgpu (counting device)', () => {
  let previousNavigator: PropertyDescriptor | undefined;
  beforeAll(async () => {
    const { gpu } = countingGpu();
    previousNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    registerGpujsBackend({ name: 'counting-webgpu', mode: 'webgpu' });
    await setBackendAsync('counting-webgpu');
  });
  afterAll(() => {
    setBackend('cpu');
    if (previousNavigator) Object.defineProperty(globalThis, 'navigator', previousNavigator);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  for (const accumulation of [1, 2]) {
    it(`${UPDATES} updates (accumulation ${accumulation}): flat after the first, params + grads + moments, nothing left after dispose`, async () => {
      const live = (): number => backendMemory()!.liveBytes;
      const start = live();
      const model = RetroMAEForPretraining.fromConfig(CONFIG, { seed: 1 });
      model.train();
      const namedParameters = model.namedParameters();
      const params = namedParameters.map(([, p]) => p);
      expect(live() - start).toBe(bytesOf(params));
      const optimizer = new AdamW(namedParameters, { lr: 1e-4, weightDecay: 0.01 });
      const parts = { model: new RetroMAEObjective(model), batches: batchSource(), optimizer, namedParameters, params, accumulation, clipNorm: 1.0 };

      const held: number[] = [];
      let peak = 0;
      let peakWithoutGc = 0;
      for (let update = 1; update <= UPDATES; update++) {
        getBackend().resetPeak?.();
        const { outcome } = await runUpdate(parts, 1e-4, update, (update - 1) * accumulation);
        expect(outcome).toBeDefined();
        held.push(live() - start);
        if (update === UPDATES) {
          peak = backendMemory()!.peakBytes - start;
          peakWithoutGc = backendMemory()!.peakWithoutGcBytes! - start;
        }
      }
      const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
      const moments = optimizer.stateTensors();
      const expected = bytesOf(params) + bytesOf(grads) + bytesOf(moments);
      expect(grads.length).toBeGreaterThan(0);
      expect(moments.length).toBe(2 * grads.length);
      // Flat: every update ends holding exactly what the first one did.
      expect(held).toEqual(held.map(() => held[0]));
      expect(Math.abs(held[0] - expected)).toBeLessThanOrEqual(STEADY_TOLERANCE * expected);
      // The update's temporaries were all freed by dispose, none left for GC to find.
      expect(peak).toBeGreaterThan(held[0]);
      expect(peakWithoutGc).toBe(peak);

      for (const t of [...params, ...grads, ...moments]) t.dispose();
      expect(live()).toBe(start);
    });
  }
});
