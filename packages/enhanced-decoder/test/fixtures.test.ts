import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { setBackend, type Tensor } from '@retro/tensor';
import { RetroMAEForPretraining } from '../src/index.js';
import { backendsUnderTest, fixtureDir, readF32File, retroMAEFixtureBatch, type Kind } from '../../../test-support/fixtures.js';

/** max |got - expected| over the tensor, and max |expected|. */
function compare(got: Tensor, expected: { shape: number[]; data: Float64Array }): { err: number; scale: number } {
  expect([...got.shape]).toEqual(expected.shape);
  const values = got.toFloat32Array();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < values.length; i++) {
    err = Math.max(err, Math.abs(values[i] - expected.data[i]));
    scale = Math.max(scale, Math.abs(expected.data[i]));
  }
  return { err, scale };
}

function expectClose(name: string, got: Tensor, expected: { shape: number[]; data: Float64Array } | undefined, relative: number, floor: number): void {
  if (!expected) throw new Error(`fixture has no tensor '${name}'`);
  const { err, scale } = compare(got, expected);
  if (process.env.RETRO_PRINT_ERRORS) console.log(name, err.toExponential(2), scale.toExponential(2));
  expect(err, `${name}: max error ${err} vs max |expected| ${scale}`).toBeLessThanOrEqual(relative * scale + floor);
}

for (const backend of backendsUnderTest()) {
  describe.skipIf(backend.reason !== null)(`RetroMAE fixtures on ${backend.name}${backend.reason ? ` (skipped: ${backend.reason})` : ''}`, () => {
    beforeAll(() => setBackend(backend.name));
    afterAll(() => setBackend('cpu'));

    for (const kind of ['bert', 'roberta'] as Kind[]) {
      it(`${kind}: streams, decoder outputs, both losses and every gradient match the float64 reference`, () => {
        const dir = fixtureDir(kind);
        const expected = readF32File(`${dir}/expected.safetensors`);
        const parameters = readF32File(`${dir}/model.safetensors`);
        const model = RetroMAEForPretraining.fromPretrained(dir);
        model.eval();
        const out = model.forward(
          retroMAEFixtureBatch(kind),
          { outputLogits: true },
        );
        expectClose('encoder.last_hidden_state', out.lastHiddenState, expected.get('encoder.last_hidden_state'), 1e-4, 1e-6);
        expectClose('encoder.logits', out.encoderLogits!, expected.get('encoder.logits'), 1e-4, 1e-6);
        expectClose('encoder.cls', out.cls, expected.get('encoder.cls'), 1e-4, 1e-6);
        expectClose('decoder.h1', out.h1!, expected.get('decoder.h1'), 1e-4, 1e-6);
        expectClose('decoder.h2', out.h2!, expected.get('decoder.h2'), 1e-4, 1e-6);
        expectClose('decoder.attention_output', out.decoderAttentionOutput!, expected.get('decoder.attention_output'), 1e-4, 1e-6);
        expectClose('decoder.hidden', out.decoderHidden!, expected.get('decoder.hidden'), 1e-4, 1e-6);
        expectClose('decoder.logits', out.decoderLogits!, expected.get('decoder.logits'), 1e-4, 1e-6);
        for (const [name, got] of [['encoder.loss', out.encoderLoss], ['decoder.loss', out.decoderLoss!], ['loss', out.loss]] as const) {
          const want = expected.get(name)!.data[0];
          expect(Math.abs(got.item() - want) / Math.abs(want), name).toBeLessThan(1e-5);
        }

        out.loss.backward();
        const names = new Map(model.namedParameters());
        expect([...names.keys()].sort()).toEqual([...parameters.keys()].sort());
        for (const [name, parameter] of names) {
          expect(parameter.grad, `no gradient for ${name}`).not.toBeNull();
          // Key biases have a mathematically zero gradient (softmax ignores a per-row constant).
          expectClose(`grad.${name}`, parameter.grad!, expected.get(`grad.${name}`), 1e-3, 1e-6);
        }
      });
    }
  });
}

describe('RetroMAEForPretraining.fromPretrained', () => {
  it('returns an eval-mode model (encoder and decoder), as HF from_pretrained; train() switches every module on', () => {
    const model = RetroMAEForPretraining.fromPretrained(fixtureDir('bert'));
    expect(model.namedModules().filter(([, m]) => m.training).map(([name]) => name)).toEqual([]);
    model.train();
    expect(model.namedModules().every(([, m]) => m.training)).toBe(true);
  });
});
