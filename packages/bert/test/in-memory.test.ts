/**
 * A model folder held in memory (what a browser gets from dropped files) loads to the same
 * outputs as the float64 fixtures, and saves to bytes that hold exactly its parameters.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertForMaskedLM, RobertaForMaskedLM, encoderFromMemory, maskedLMFromMemory, pretrainedToMemory } from '../src/index.js';
import { fixtureConfig, fixtureDir, fixtureInputs, maxErrors, readF32File, type Kind } from '../../../test-support/fixtures.js';

for (const kind of ['bert', 'roberta'] as Kind[]) {
  describe(`maskedLMFromMemory / pretrainedToMemory (${kind})`, () => {
    const dir = fixtureDir(kind);
    const weights = new Uint8Array(readFileSync(`${dir}/model.safetensors`));

    it('loads config text + safetensors bytes to the fixture logits', () => {
      const model = maskedLMFromMemory({ config: readFileSync(`${dir}/config.json`, 'utf8'), weights, source: 'dropped' });
      expect(model).toBeInstanceOf(kind === 'bert' ? BertForMaskedLM : RobertaForMaskedLM);
      expect(model.training).toBe(false);
      const inputs = fixtureInputs(kind);
      const out = model.forward({
        inputIds: inputs.encoder_input_ids,
        attentionMask: inputs.attention_mask,
        tokenTypeIds: inputs.token_type_ids,
        positionIds: inputs.encoder_position_ids,
      });
      const expected = readF32File(`${dir}/expected.safetensors`).get('encoder.logits')!;
      const { maxAbsErr, maxAbsRef } = maxErrors(out.logits.toFloat32Array(), expected.data);
      expect(maxAbsErr).toBeLessThanOrEqual(1e-4 * maxAbsRef + 1e-6);
      // c_head.* is no parameter of the encoder: kept for the caller.
      expect([...model.unusedTensors().keys()].some((name) => name.startsWith('c_head.'))).toBe(true);
    });

    it('serialises every parameter bit-exactly, readable by an independent reader', () => {
      const model = maskedLMFromMemory({ config: fixtureConfig(kind), weights });
      const files = pretrainedToMemory(model);
      expect(JSON.parse(files['config.json'])).toMatchObject({ model_type: kind, hidden_size: fixtureConfig(kind).hidden_size, vocab_size: fixtureConfig(kind).vocab_size });
      const tmp = mkdtempSync(join(tmpdir(), 'retro-in-memory-'));
      try {
        writeFileSync(join(tmp, 'model.safetensors'), files['model.safetensors']);
        const saved = readF32File(join(tmp, 'model.safetensors'));
        const original = readF32File(`${dir}/model.safetensors`);
        for (const [name] of model.namedParameters()) {
          expect(saved.get(name)?.data, name).toEqual(original.get(name)!.data);
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('names the file and the problem for bad input', () => {
      expect(() => maskedLMFromMemory({ config: '{"model_type": "bert",', weights, source: 'up' })).toThrow(/up\/config\.json: not valid JSON/);
      expect(() => maskedLMFromMemory({ config: { model_type: 'gpt2' }, weights, source: 'up' })).toThrow(/up\/config\.json: field 'model_type' must be one of "bert", "roberta", found "gpt2"/);
      expect(() => maskedLMFromMemory({ config: fixtureConfig(kind), weights: weights.subarray(0, 100), source: 'up' })).toThrow(/up\/model\.safetensors/);
      const wrongSize = { ...fixtureConfig(kind), hidden_size: 64, num_attention_heads: 2 };
      expect(() => maskedLMFromMemory({ config: wrongSize, weights, source: 'up' })).toThrow(/up\/model\.safetensors: tensor '.*' has shape \[.*\], expected \[.*64.*\]/);
    });
  });
}

describe('encoderFromMemory', () => {
  it('loads the HF BertModel fixture folder from bytes, in eval mode, pooler included, matching the float64 reference', () => {
    const dir = join(__dirname, '..', '..', '..', 'test-fixtures', 'hf-encoder', 'bert-model');
    const model = encoderFromMemory({ config: readFileSync(join(dir, 'config.json')), weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), source: 'bert-model' });
    expect(model.training).toBe(false);
    expect(model.pooler).not.toBeNull();
    const { input_ids, attention_mask } = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][] };
    const out = model.forward({ inputIds: input_ids, attentionMask: attention_mask });
    const bytes = readFileSync(join(dir, 'expected.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const entry = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')).last_hidden_state as { data_offsets: [number, number] };
    const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + entry.data_offsets[0], bytes.byteOffset + 8 + n + entry.data_offsets[1]));
    const got = out.lastHiddenState.toFloat32Array();
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[i]!))));
    expect(worst).toBeLessThan(1e-4);
    expect(() => encoderFromMemory({ config: '{"model_type":"bert","hidden_size":30}', weights: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), source: 'mine' })).toThrow(/mine\/config\.json: field 'hidden_size' must be a multiple of num_attention_heads/);
  });
});
