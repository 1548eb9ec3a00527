/**
 * RetroMAE as a training objective: the batch source collates what a data stream yields and
 * counts its tokens; the objective's step returns exactly the model's scalar losses.
 */
import { describe, expect, it } from 'vitest';
import { RetroMAEBatches, RetroMAEForPretraining, RetroMAEObjective, type MaskedDataBatch } from '../src/index.js';

const B = 2;
const L = 6;
/** Two rows of lengths 6 and 4 ([CLS] ... [SEP] + padding), 2 masked positions in the first. */
function dataBatch(batchInEpoch: number): MaskedDataBatch {
  const inputIds = Int32Array.from([2, 7, 8, 9, 10, 3, 2, 11, 12, 3, 0, 0]);
  const encoderInputIds = Int32Array.from(inputIds);
  const encoderLabels = new Int32Array(B * L).fill(-100);
  for (const i of [2, 4]) {
    encoderLabels[i] = inputIds[i];
    encoderInputIds[i] = 4;
  }
  const attentionMask = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  return { shape: [B, L], inputIds, attentionMask, lengths: Int32Array.from([6, 4]), encoderInputIds, encoderLabels, epoch: 0, batchInEpoch };
}

/** A resumable stream of `count` batches, its state the next batch number. */
function stream(count: number) {
  let position = 0;
  return {
    next: () => (position < count ? dataBatch(position++) : null),
    state: () => position,
    restore: (state: number) => { position = state; },
  };
}

const model = () => RetroMAEForPretraining.fromConfig({ vocabSize: 16, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16 }, { seed: 3 });

describe('RetroMAEBatches', () => {
  it('collates each data batch, counts its real tokens and resumes through the stream', () => {
    const source = new RetroMAEBatches(stream(3), { decoderRatio: 0.5, seed: 1 });
    const first = source.next()!;
    expect(first.tokens).toBe(10);
    expect(first.shape).toEqual([B, L]);
    expect(first.decoderAttentionMask).toBeDefined();
    const saved = JSON.parse(JSON.stringify(source.state()));
    const second = source.next()!;
    const resumed = new RetroMAEBatches(stream(3), { decoderRatio: 0.5, seed: 1 });
    resumed.restore(saved);
    expect(resumed.next()).toEqual(second);
    source.next();
    expect(source.next()).toBeUndefined();
  });

  it('MLM-only batches carry the encoder fields alone', () => {
    const batch = new RetroMAEBatches(stream(1), { mlmOnly: true, decoderRatio: 0.5, seed: 1 }).next()!;
    expect(Object.keys(batch).sort()).toEqual(['encoderAttentionMask', 'encoderInputIds', 'encoderLabels', 'shape', 'tokens']);
    expect(batch.tokens).toBe(10);
  });
});

describe('RetroMAEObjective', () => {
  it('returns the scalar losses of the model forward: loss = encoderLoss + decoderLoss', () => {
    const m = model().eval(); // no dropout, so two forwards agree
    const batch = new RetroMAEBatches(stream(1), { decoderRatio: 0.5, seed: 1 }).next()!;
    const losses = new RetroMAEObjective(m).losses(batch);
    expect(Object.keys(losses)).toEqual(['loss', 'encoderLoss', 'decoderLoss']);
    const out = m.forward(batch);
    expect(losses.encoderLoss.item()).toBe(out.encoderLoss.item());
    expect(losses.decoderLoss.item()).toBe(out.decoderLoss!.item());
    expect(losses.loss.item()).toBeCloseTo(losses.encoderLoss.item() + losses.decoderLoss.item(), 6);
  });

  it('in MLM-only mode returns loss = encoderLoss and no decoder loss', () => {
    const m = RetroMAEForPretraining.fromConfig({ vocabSize: 16, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16 }, { seed: 3, mlmOnly: true });
    const batch = new RetroMAEBatches(stream(1), { mlmOnly: true, decoderRatio: 0.5, seed: 1 }).next()!;
    const losses = new RetroMAEObjective(m).losses(batch);
    expect(Object.keys(losses)).toEqual(['loss', 'encoderLoss']);
    expect(losses.loss.item()).toBe(losses.encoderLoss.item());
    expect(losses.loss.item()).toBeGreaterThan(0);
  });
});
