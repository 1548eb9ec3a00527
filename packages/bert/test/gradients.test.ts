/**
 * Encoder-loss gradients. The fixtures' grad.* are of the TOTAL RetroMAE loss (encoder + decoder),
 * so here autograd (float32) is checked against central finite differences of an independent
 * float64 re-implementation (test/reference.ts, itself checked against the fixtures) on sampled
 * entries of every parameter, plus HF's zero-gradient rows and padding_idx semantics.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { setBackend, tensor } from '@retro/tensor';
import { AutoModelForMaskedLM, type MaskedLMModel } from '../src/index.js';
import { backendsUnderTest, fixtureDir, fixtureInputs, type Kind } from '../../../test-support/fixtures.js';
import { refConfig, referenceForward, refWeights, sampler, type RefInputs, type RefWeights } from './reference.js';

const STEP = 1e-4;

/** d loss / d w[name][index] by central differences of the float64 reference. */
function finiteDifference(weights: RefWeights, kind: Kind, inputs: RefInputs, name: string, index: number, outputCopyOnly = false): number {
  const config = refConfig(kind);
  const w: RefWeights = new Map(weights);
  let target: Float64Array;
  if (outputCopyOnly) {
    // Perturb only the tied decoder use of the word-embedding matrix (padding_idx lookups excluded).
    w.outputWord = Float64Array.from(weights.get(name)!);
    target = w.outputWord;
  } else {
    target = Float64Array.from(weights.get(name)!);
    w.set(name, target);
  }
  const original = target[index];
  target[index] = original + STEP;
  const plus = referenceForward(w, config, inputs).loss;
  target[index] = original - STEP;
  const minus = referenceForward(w, config, inputs).loss;
  return (plus - minus) / (2 * STEP);
}

function gradientsOf(model: MaskedLMModel, input: Parameters<MaskedLMModel['forward']>[0]): Map<string, Float32Array> {
  model.zeroGrad();
  model.forward(input).loss!.backward();
  return new Map(model.namedParameters().map(([name, p]) => [name, p.grad ? p.grad.toFloat32Array() : new Float32Array(p.size)]));
}

function fixtureRefInputs(kind: Kind): RefInputs {
  const inputs = fixtureInputs(kind);
  return {
    ids: inputs.encoder_input_ids,
    mask: inputs.attention_mask,
    tokenTypes: inputs.token_type_ids,
    positions: inputs.encoder_position_ids,
    labels: inputs.encoder_labels,
  };
}

for (const { name: backend, reason } of backendsUnderTest()) {
  if (reason) {
    describe(`backend ${backend}`, () => {
      it.skip(`skipped: ${reason}`, () => {});
    });
    continue;
  }
  describe(`backend ${backend}`, () => {
    beforeAll(() => setBackend(backend));
    afterAll(() => setBackend('cpu'));

    for (const kind of ['bert', 'roberta'] as Kind[]) {
      describe(kind, () => {
        let model: MaskedLMModel;
        const refInputs = fixtureRefInputs(kind);
        const weights = refWeights(kind);
        beforeAll(() => {
          model = AutoModelForMaskedLM.fromPretrained(fixtureDir(kind));
          model.eval();
        });

        it('autograd matches float64 finite differences on sampled entries of every parameter', () => {
          const grads = gradientsOf(model, {
            inputIds: refInputs.ids,
            attentionMask: refInputs.mask,
            tokenTypeIds: refInputs.tokenTypes,
            positionIds: refInputs.positions,
            labels: refInputs.labels,
          });
          expect([...grads.keys()].sort()).toEqual([...weights.keys()].sort());
          const pick = sampler(kind === 'bert' ? 11 : 12);
          const hidden = refConfig(kind).hidden;
          let worst = { name: '', ratio: 0 };
          for (const [name, grad] of grads) {
            const indices = [pick(grad.length), pick(grad.length), pick(grad.length)];
            // Word rows reached by lookups (not only by the tied output projection).
            if (name.endsWith('word_embeddings.weight')) indices.push(refInputs.ids[0][1] * hidden + pick(hidden), refInputs.ids[2][5] * hidden + pick(hidden));
            if (name.endsWith('position_embeddings.weight')) indices.push(refInputs.positions[1][3] * hidden + pick(hidden));
            const fd = indices.map((index) => finiteDifference(weights, kind, refInputs, name, index));
            const scale = Math.max(...fd.map(Math.abs));
            indices.forEach((index, k) => {
              const error = Math.abs(grad[index] - fd[k]);
              const bound = 1e-4 * scale + 1e-6;
              expect(error, `${name}[${index}]: autograd ${grad[index]} vs FD ${fd[k]}`).toBeLessThanOrEqual(bound);
              if (error / bound > worst.ratio) worst = { name: `${name}[${index}]`, ratio: error / bound };
            });
          }
          console.log(`[${backend}/${kind}] worst |autograd - FD| / tolerance = ${worst.ratio.toFixed(3)} at ${worst.name}`);
        });

        it('rows no token uses get exactly zero gradient (HF)', () => {
          const grads = gradientsOf(model, {
            inputIds: refInputs.ids,
            attentionMask: refInputs.mask,
            tokenTypeIds: refInputs.tokenTypes,
            positionIds: refInputs.positions,
            labels: refInputs.labels,
          });
          const prefix = kind;
          const position = grads.get(`${prefix}.embeddings.position_embeddings.weight`)!;
          const row = (data: Float32Array, r: number) => Array.from(data.subarray(r * 32, (r + 1) * 32));
          const zeros = new Array(32).fill(0);
          const L = refInputs.ids[0].length;
          if (kind === 'bert') {
            expect(row(grads.get('bert.embeddings.token_type_embeddings.weight')!, 1)).toEqual(zeros);
            for (let r = L; r < 64; r++) expect(row(position, r)).toEqual(zeros);
          } else {
            // Row 0 is unused; row 1 (padding_idx) is used by every pad but gets no gradient.
            expect(row(position, 0)).toEqual(zeros);
            expect(row(position, 1)).toEqual(zeros);
            const maxReal = Math.max(...fixtureInputs(kind).lengths);
            for (let r = maxReal + 2; r < 64; r++) expect(row(position, r)).toEqual(zeros);
            expect(row(position, 2).some((x) => x !== 0)).toBe(true);
          }
        });

        it('padding_idx: a pad id inside the attended text gets no lookup gradient, only the tied projection’s', () => {
          const pad = kind === 'bert' ? 0 : 1;
          const ids = refInputs.ids.map((row) => [...row]);
          ids[0][2] = pad; // attended (mask 1), unlabelled: its lookup changes the loss through attention
          const labels = refInputs.labels.map((row) => [...row]);
          labels[0][2] = -100;
          const inputs: RefInputs = { ...refInputs, ids, labels };
          // RoBERTa: let HF derive positions, which gives this pad position padding_idx too.
          const positions = kind === 'roberta' ? model.embeddings.defaultPositionIds(tensor(ids, undefined, { dtype: 'int32' })).toArray() as number[][] : refInputs.positions;
          if (kind === 'roberta') expect(positions[0][2]).toBe(pad);
          inputs.positions = positions;
          const grads = gradientsOf(model, { inputIds: ids, attentionMask: inputs.mask, tokenTypeIds: inputs.tokenTypes, positionIds: positions, labels });
          const wordName = `${kind}.embeddings.word_embeddings.weight`;
          const word = grads.get(wordName)!;
          for (const column of [0, 7, 19]) {
            const index = pad * 32 + column;
            const projectionOnly = finiteDifference(weights, kind, inputs, wordName, index, true);
            const trueDerivative = finiteDifference(weights, kind, inputs, wordName, index);
            expect(Math.abs(word[index] - projectionOnly)).toBeLessThanOrEqual(1e-4 * Math.abs(projectionOnly) + 1e-6);
            // Shows the check can fail: the lookup's own contribution is far from negligible.
            expect(Math.abs(trueDerivative - projectionOnly)).toBeGreaterThan(1e-3);
          }
          if (kind === 'roberta') {
            const positionName = 'roberta.embeddings.position_embeddings.weight';
            const position = grads.get(positionName)!;
            for (const column of [0, 7, 19]) {
              expect(position[pad * 32 + column]).toBe(0);
              expect(Math.abs(finiteDifference(weights, kind, inputs, positionName, pad * 32 + column))).toBeGreaterThan(1e-3);
            }
          }
        });
      });
    }
  });
}
