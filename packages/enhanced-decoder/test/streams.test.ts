/**
 * The decoder's two input streams (paper section 3.2), checked against their definitions computed
 * here in float64 from the encoder's parameters:
 *   H1 (query stream)     = position_embeddings(0..L-1) + h_cls              (no LayerNorm)
 *   H2 (key/value stream) = [h_cls ; LayerNorm(word(x) + position + type 0)[1..L-1]] on the unmasked ids
 * and the gradient each sends back to h_cls. The fixtures test checks both against PyTorch too.
 */
import { describe, expect, it } from 'vitest';
import { BertForMaskedLM } from '@retro/bert';
import { Tensor, tensor, mul, sum } from '@retro/tensor';
import { keyValueStreamH2, queryStreamH1 } from '../src/streams.js';

const H = 8;
const encoder = new BertForMaskedLM(
  { vocabSize: 30, hiddenSize: H, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 },
  { seed: 3 },
).eval();
const parameter = (name: string): Float32Array => encoder.stateDict().get(`bert.embeddings.${name}`)!.toFloat32Array();

const B = 2;
const L = 5;
const ids = [
  [2, 7, 9, 11, 3],
  [2, 12, 3, 0, 0],
];
const hClsValues = Float32Array.from({ length: B * H }, (_, i) => Math.sin(i + 1));
const hClsTensor = (): Tensor => tensor(hClsValues, [B, 1, H], { requiresGrad: true });
const at = (values: Float32Array, b: number, i: number, h: number): number => values[(b * L + i) * H + h];

describe('H1, the query stream', () => {
  it('is the position embedding of each position plus h_cls, [B, 1, H] -> [B, L, H]', () => {
    const h1 = queryStreamH1(encoder, hClsTensor(), L);
    expect(h1.shape).toEqual([B, L, H]);
    const got = h1.toFloat32Array();
    const positions = parameter('position_embeddings.weight');
    for (let b = 0; b < B; b++)
      for (let i = 0; i < L; i++)
        for (let h = 0; h < H; h++) expect(at(got, b, i, h)).toBeCloseTo(positions[i * H + h] + hClsValues[b * H + h], 6);
  });

  it('sends h_cls the sum over positions of its gradient', () => {
    const hCls = hClsTensor();
    const weights = Float32Array.from({ length: B * L * H }, (_, i) => Math.cos(i));
    sum(mul(queryStreamH1(encoder, hCls, L), tensor(weights, [B, L, H]))).backward();
    const grad = hCls.grad!.toFloat32Array();
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        let expected = 0;
        for (let i = 0; i < L; i++) expected += weights[(b * L + i) * H + h];
        expect(grad[b * H + h]).toBeCloseTo(expected, 5);
      }
  });
});

describe('H2, the key/value stream', () => {
  it('is h_cls at position 0, then the encoder embeddings (LayerNorm included) of the unmasked ids', () => {
    const { h2 } = keyValueStreamH2(encoder, hClsTensor(), tensor(Int32Array.from(ids.flat()), [B, L], { dtype: 'int32' }));
    expect(h2.shape).toEqual([B, L, H]);
    const got = h2.toFloat32Array();
    const word = parameter('word_embeddings.weight');
    const position = parameter('position_embeddings.weight');
    const type = parameter('token_type_embeddings.weight');
    const gamma = parameter('LayerNorm.weight');
    const beta = parameter('LayerNorm.bias');
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) expect(at(got, b, 0, h)).toBe(hClsValues[b * H + h]);
      for (let i = 1; i < L; i++) {
        const summed = Array.from({ length: H }, (_, h) => word[ids[b][i] * H + h] + position[i * H + h] + type[h]);
        const mean = summed.reduce((a, x) => a + x, 0) / H;
        const variance = summed.reduce((a, x) => a + (x - mean) ** 2, 0) / H;
        for (let h = 0; h < H; h++) {
          const expected = ((summed[h] - mean) / Math.sqrt(variance + encoder.config.layerNormEps)) * gamma[h] + beta[h];
          expect(at(got, b, i, h)).toBeCloseTo(expected, 5);
        }
      }
    }
  });

  it('sends h_cls only the gradient of position 0', () => {
    const hCls = hClsTensor();
    const weights = Float32Array.from({ length: B * L * H }, (_, i) => Math.cos(i));
    const { h2 } = keyValueStreamH2(encoder, hCls, tensor(Int32Array.from(ids.flat()), [B, L], { dtype: 'int32' }));
    sum(mul(h2, tensor(weights, [B, L, H]))).backward();
    const grad = hCls.grad!.toFloat32Array();
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) expect(grad[b * H + h]).toBeCloseTo(weights[b * L * H + h], 6);
  });
});
