import { describe, it, expect, beforeAll } from 'vitest';
import { AutoModelForMaskedLM, type MaskedLMModel, type TokenizerLike } from '../src/index.js';
import { fixtureDir, fixtureInputs, maxErrors, readF32File, type Kind } from '../../../test-support/fixtures.js';

describe.each(['bert', 'roberta'] as Kind[])('%s encode', (kind) => {
  let model: MaskedLMModel;
  const inputs = fixtureInputs(kind);
  const expected = readF32File(`${fixtureDir(kind)}/expected.safetensors`);
  // The fixture's encoder sequences without their padding.
  const sequences = inputs.encoder_input_ids.map((row, b) => row.slice(0, inputs.lengths[b]));
  beforeAll(() => {
    model = AutoModelForMaskedLM.fromPretrained(fixtureDir(kind));
  });

  it('CLS embeddings equal the fixture’s encoder.cls, in input order, whatever the batch size', () => {
    for (const batchSize of [1, 2, 32]) {
      const got = model.encode(sequences, { batchSize });
      expect(got.shape).toEqual([3, 32]);
      const e = maxErrors(got.toFloat32Array(), expected.get('encoder.cls')!.data);
      expect(e.maxAbsErr, `batchSize ${batchSize}`).toBeLessThanOrEqual(1e-4 * e.maxAbsRef + 1e-6);
    }
  });

  it('mean pooling averages the real tokens of the last hidden state; normalize gives unit rows', () => {
    const last = expected.get('encoder.last_hidden_state')!.data;
    const L = inputs.encoder_input_ids[0].length;
    const reference = new Float64Array(3 * 32);
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < inputs.lengths[b]; i++) for (let k = 0; k < 32; k++) reference[b * 32 + k] += last[(b * L + i) * 32 + k] / inputs.lengths[b];
    }
    const mean = model.encode(sequences, { pooling: 'mean', batchSize: 2 }).toFloat32Array();
    const e = maxErrors(mean, reference);
    expect(e.maxAbsErr).toBeLessThanOrEqual(1e-4 * e.maxAbsRef + 1e-6);
    const unit = model.encode(sequences, { pooling: 'mean', normalize: true }).toFloat32Array();
    for (let b = 0; b < 3; b++) {
      const norm = Math.hypot(...reference.subarray(b * 32, b * 32 + 32));
      for (let k = 0; k < 32; k++) expect(Math.abs(unit[b * 32 + k] - reference[b * 32 + k] / norm)).toBeLessThan(1e-5);
    }
  });

  it('texts go through any encodeBatch tokenizer (arrays, {ids}, or padded {inputIds, attentionMask})', () => {
    const byText = new Map(sequences.map((ids, b) => [`text ${b}`, ids]));
    const texts = [...byText.keys()];
    const pad = kind === 'bert' ? 0 : 1;
    const tokenizers: TokenizerLike[] = [
      { encodeBatch: (batch) => batch.map((t) => byText.get(t)!) },
      { encodeBatch: (batch) => batch.map((t) => ({ ids: byText.get(t)!, attentionMask: byText.get(t)!.map(() => 1) })) },
      {
        encodeBatch: (batch) => ({
          inputIds: batch.map((t) => [...byText.get(t)!, ...new Array(16 - byText.get(t)!.length).fill(pad)]),
          attentionMask: batch.map((t) => [...byText.get(t)!.map(() => 1), ...new Array(16 - byText.get(t)!.length).fill(0)]),
        }),
      },
    ];
    for (const tokenizer of tokenizers) {
      const e = maxErrors(model.encode(texts, { tokenizer, batchSize: 2 }).toFloat32Array(), expected.get('encoder.cls')!.data);
      expect(e.maxAbsErr).toBeLessThanOrEqual(1e-4 * e.maxAbsRef + 1e-6);
    }
  });

  it('runs in eval mode without a graph and restores the training flag', () => {
    model.train();
    const out = model.encode(sequences);
    expect(out.requiresGrad).toBe(false);
    expect(model.training).toBe(true);
    expect(model.base.encoder.layer.items[0].attention.self.dropout.training).toBe(true);
  });

  it('clear errors: texts without a tokenizer, too-long and empty sequences', () => {
    expect(() => model.encode(['a b c'])).toThrow(/encode: texts need options\.tokenizer/);
    expect(() => model.encode([new Array(70).fill(5)])).toThrow(/encode: sequence 0 has 70 tokens, more than maxLength/);
    expect(() => model.encode([[5], []])).toThrow(/encode: sequence 1 is empty/);
  });
});
