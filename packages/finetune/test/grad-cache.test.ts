/**
 * Gradient caching must not change the gradient: the cached step's parameter gradients equal
 * those of the same loss back-propagated through the whole batch at once.
 */
import { describe, expect, it } from 'vitest';
import { concat } from '@retro/tensor';
import { AutoTokenizer } from '@retro/data';
import { ContrastiveTrainable, TextEncoder, cosent, gradCacheStep, infoNce, loadEncoderModel } from '../src/index.js';
import { texts, tinyModelDir } from '../../../test-support/tiny-bert.js';

async function setup(dropout: number, pooling: 'cls' | 'mean' = 'cls') {
  const dir = tinyModelDir({ dropout });
  const model = loadEncoderModel(dir, { seed: 1 });
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  return { model, encoder: new TextEncoder(model, tokenizer, { maxLength: 16, pooling }) };
}

function gradients(model: { namedParameters(): Array<[string, { grad: { toFloat32Array(): Float32Array } | null }]> }): Map<string, Float32Array> {
  return new Map(model.namedParameters().filter(([, p]) => p.grad).map(([name, p]) => [name, p.grad!.toFloat32Array()]));
}

/**
 * Worst per-tensor error ||a - b|| / (||b|| + 1e-2 ||all of b||). The floor matters for biases
 * feeding a LayerNorm, whose gradient is a near-cancelling sum (norm ~1e-4 of the rest): float32
 * rounding of GEMMs of different shapes is measured against the size of the summed terms there. Measured: ~2e-7; reordering the batch alone gives the same.
 */
function maxRelativeDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let total = 0;
  for (const y of b.values()) for (let i = 0; i < y.length; i++) total += y[i] ** 2;
  const floor = 1e-2 * Math.sqrt(total);
  let worst = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < x.length; i++) {
      diff += (x[i] - y[i]) ** 2;
      norm += y[i] ** 2;
    }
    worst = Math.max(worst, Math.sqrt(diff) / (Math.sqrt(norm) + floor));
  }
  return worst;
}

describe('gradient caching', () => {
  for (const pooling of ['cls', 'mean'] as const) {
    it(`InfoNCE with hard negatives: cached gradient = whole-batch gradient (no dropout, ${pooling} pooling, chunks of 3)`, async () => {
      const { model, encoder } = await setup(0, pooling);
      model.train(true);
      const B = 5;
      const G = 3;
      const queries = texts(B, 1);
      const passages = texts(B * G, 2);
      const trainable = new ContrastiveTrainable(encoder, { temperature: 0.05, symmetric: true });
      const batch = { kind: 'triples' as const, queries, passages, group: G, tokens: 0 };

      const whole = trainable.losses(batch).loss;
      whole.backward();
      const reference = gradients(model);
      model.zeroGrad();

      const cached = new ContrastiveTrainable(encoder, { temperature: 0.05, symmetric: true, chunkSize: 3 });
      const loss = cached.losses(batch).loss;
      expect(loss.item()).toBeCloseTo(whole.item(), 5);
      const ours = gradients(model);
      expect(ours.size).toBeGreaterThan(10);
      expect(maxRelativeDifference(ours, reference)).toBeLessThan(1e-5);
    });
  }

  it('CoSENT: cached = whole, and a later loop backward on the returned loss adds nothing to parameters', async () => {
    const { model, encoder } = await setup(0);
    model.train(true);
    const batch = { kind: 'pairs' as const, sentences1: texts(6, 3), sentences2: texts(6, 4), scores: [5, 1, 3, 2, 4, 0], tokens: 0 };
    new ContrastiveTrainable(encoder, { temperature: 0.05 }).losses(batch).loss.backward();
    const reference = gradients(model);
    model.zeroGrad();
    const out = new ContrastiveTrainable(encoder, { temperature: 0.05, chunkSize: 4 }).losses(batch);
    out.loss.backward(); // what @retro/train's loop does next
    expect(maxRelativeDifference(gradients(model), reference)).toBeLessThan(1e-5);
  });

  it('with dropout on, each sub-batch is re-run under the dropout masks of its first pass', async () => {
    // Reference: the same sub-batches embedded WITH a graph from the same generator state,
    // concatenated, loss, backward. Equal only if pass 3 replays pass 1's dropout draws.
    const { model, encoder } = await setup(0.3);
    model.train(true);
    const queries = texts(4, 5);
    const passages = texts(4, 6);
    const chunk = 2;
    const start = model.generator.getState();
    const pieces = (list: string[]) => [0, 2].map((s) => encoder.embed(list.slice(s, s + chunk)));
    const loss = infoNce(concat(pieces(queries), 0), concat(pieces(passages), 0), { temperature: 0.05 });
    loss.backward();
    const reference = gradients(model);
    const after = model.generator.getState();
    model.zeroGrad();
    model.generator.setState(start);
    const cached = gradCacheStep((t) => encoder.embed(t), [queries, passages], ([q, p]) => infoNce(q, p, { temperature: 0.05 }), { chunkSize: chunk, generator: model.generator });
    expect(cached.item()).toBeCloseTo(loss.item(), 5);
    expect(maxRelativeDifference(gradients(model), reference)).toBeLessThan(1e-5);
    // and the generator ends where one pass over the batch leaves it (a resumed run stays in step)
    expect(model.generator.getState()).toEqual(after);
    // without the replay the gradient would differ: the check above can fail
    model.zeroGrad();
    model.generator.setState(start);
    gradCacheStep((t) => encoder.embed(t), [queries, passages], ([q, p]) => infoNce(q, p, { temperature: 0.05 }), { chunkSize: chunk });
    expect(maxRelativeDifference(gradients(model), reference)).toBeGreaterThan(1e-3);
  });

  it('scales the cached gradient by gradScale (the loop\'s 1/accumulation)', async () => {
    const { model, encoder } = await setup(0);
    model.train(true);
    const lists = [texts(4, 7), texts(4, 8)];
    const loss = ([q, p]: import('@retro/tensor').Tensor[]) => cosent(q, p, [1, 2, 3, 4]);
    gradCacheStep((t) => encoder.embed(t), lists, loss, { chunkSize: 2 });
    const full = gradients(model);
    model.zeroGrad();
    gradCacheStep((t) => encoder.embed(t), lists, loss, { chunkSize: 2, gradScale: 0.25 });
    const quarter = gradients(model);
    for (const [name, g] of full) for (let i = 0; i < g.length; i += 7) expect(quarter.get(name)![i]).toBeCloseTo(g[i] * 0.25, 6);
  });
});
