/**
 * Exactness against the float64-exact HF fixtures (../shared/fixtures, copied into test-fixtures/retromae):
 * encoder hidden states, MLM logits and loss, on every backend that starts here.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { setBackend, tensor } from '@retro/tensor';
import { AutoModelForMaskedLM, BertForMaskedLM, RobertaForMaskedLM, type MaskedLMModel } from '../src/index.js';
import { backendsUnderTest, fixtureDir, fixtureInputs, maxErrors, readF32File, type Kind } from '../../../test-support/fixtures.js';
import { refConfig, referenceForward, refWeights } from './reference.js';

const KINDS: Kind[] = ['bert', 'roberta'];

/** The tolerance the fixture README suggests: per tensor, |got-exp| <= 1e-4 max|exp| + 1e-6. */
function expectClose(name: string, got: ArrayLike<number>, expected: ArrayLike<number>): { maxAbsErr: number; maxAbsRef: number } {
  const errors = maxErrors(got, expected);
  expect(errors.maxAbsErr, `${name}: max|err| ${errors.maxAbsErr} vs max|exp| ${errors.maxAbsRef}`).toBeLessThanOrEqual(1e-4 * errors.maxAbsRef + 1e-6);
  return errors;
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

    for (const kind of KINDS) {
      describe(kind, () => {
        let model: MaskedLMModel;
        const inputs = fixtureInputs(kind);
        const expected = readF32File(`${fixtureDir(kind)}/expected.safetensors`);
        beforeAll(() => {
          model = AutoModelForMaskedLM.fromPretrained(fixtureDir(kind));
          model.eval();
        });

        it('AutoModelForMaskedLM picks the class from model_type', () => {
          expect(model).toBeInstanceOf(kind === 'bert' ? BertForMaskedLM : RobertaForMaskedLM);
        });

        it('hidden states, logits and loss match expected.safetensors', () => {
          const out = model.forward({
            inputIds: inputs.encoder_input_ids,
            attentionMask: inputs.attention_mask,
            tokenTypeIds: inputs.token_type_ids,
            positionIds: inputs.encoder_position_ids,
            labels: inputs.encoder_labels,
            outputHiddenStates: true,
          });
          const [B, L] = [inputs.encoder_input_ids.length, inputs.encoder_input_ids[0].length];
          expect(out.logits.shape).toEqual([B, L, 120]);
          expect(out.hiddenStates).toHaveLength(3);
          const report: string[] = [];
          out.hiddenStates!.forEach((h, k) => {
            expect(h.shape).toEqual([B, L, 32]);
            const e = expectClose(`hidden_states.${k}`, h.toFloat32Array(), expected.get(`encoder.hidden_states.${k}`)!.data);
            report.push(`hidden_states.${k} ${e.maxAbsErr.toExponential(2)}`);
          });
          expectClose('last_hidden_state', out.lastHiddenState.toFloat32Array(), expected.get('encoder.last_hidden_state')!.data);
          const logits = expectClose('logits', out.logits.toFloat32Array(), expected.get('encoder.logits')!.data);
          report.push(`logits ${logits.maxAbsErr.toExponential(2)}`);
          const loss = out.loss!.item();
          const expectedLoss = expected.get('encoder.loss')!.data[0];
          expect(out.loss!.shape).toEqual([]);
          expect(Math.abs(loss - expectedLoss) / Math.abs(expectedLoss)).toBeLessThanOrEqual(1e-5);
          report.push(`loss rel ${(Math.abs(loss - expectedLoss) / expectedLoss).toExponential(2)}`);
          console.log(`[${backend}/${kind}] max|err|: ${report.join(', ')}`);
        });

        it('int32 tensor inputs give the same result as nested arrays', () => {
          const asArrays = model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask, positionIds: inputs.encoder_position_ids });
          const asTensors = model.forward({
            inputIds: tensor(inputs.encoder_input_ids, undefined, { dtype: 'int32' }),
            attentionMask: tensor(inputs.attention_mask, undefined, { dtype: 'int32' }),
            positionIds: tensor(inputs.encoder_position_ids, undefined, { dtype: 'int32' }),
          });
          expect(Array.from(asTensors.logits.toFloat32Array())).toEqual(Array.from(asArrays.logits.toFloat32Array()));
          expectClose('cls', (asTensors.lastHiddenState.toArray() as number[][][]).flatMap((row) => row[0]), expected.get('encoder.cls')!.data);
        });

        it('default position and token-type ids are HF’s (bert 0..L-1, roberta padding-aware cumsum)', () => {
          const out = model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask, labels: inputs.encoder_labels });
          expectClose('logits (default ids)', out.logits.toFloat32Array(), expected.get('encoder.logits')!.data);
          const positions = model.embeddings.defaultPositionIds(tensor(inputs.encoder_input_ids, undefined, { dtype: 'int32' }));
          expect(positions.toArray()).toEqual(inputs.encoder_position_ids);
        });

        it('the MLM head applies to any [..., H] hidden states', () => {
          const last = expected.get('encoder.last_hidden_state')!;
          const rows = tensor(Float32Array.from(last.data), [last.data.length / 32, 32]);
          expectClose('head([N, H])', model.head.forward(rows).toFloat32Array(), expected.get('encoder.logits')!.data);
        });
      });
    }
  });
}

describe('float64 reference used by the gradient tests', () => {
  // The reference is itself checked against the fixtures, so FD built on it is trustworthy.
  for (const kind of KINDS) {
    it(`${kind}: reproduces expected.safetensors`, () => {
      const inputs = fixtureInputs(kind);
      const expected = readF32File(`${fixtureDir(kind)}/expected.safetensors`);
      const ref = referenceForward(refWeights(kind), refConfig(kind), {
        ids: inputs.encoder_input_ids,
        mask: inputs.attention_mask,
        tokenTypes: inputs.token_type_ids,
        positions: inputs.encoder_position_ids,
        labels: inputs.encoder_labels,
      });
      for (let k = 0; k < ref.hidden.length; k++) {
        const e = maxErrors(ref.hidden[k], expected.get(`encoder.hidden_states.${k}`)!.data);
        expect(e.maxAbsErr).toBeLessThanOrEqual(1e-6 * e.maxAbsRef);
      }
      const e = maxErrors(ref.logits, expected.get('encoder.logits')!.data);
      expect(e.maxAbsErr).toBeLessThanOrEqual(1e-6 * e.maxAbsRef);
      expect(Math.abs(ref.loss - expected.get('encoder.loss')!.data[0])).toBeLessThanOrEqual(1e-6);
    });
  }
});
