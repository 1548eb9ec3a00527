/**
 * Model behaviour the fixtures do not cover: dropout through the model-owned generator,
 * train/eval, input validation, [B, L, L] masks and the pieces RetroMAE reuses.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { MASK_MIN, tensor } from '@retro/tensor';
import { AutoModelForMaskedLM, BertConfig, BertForMaskedLM, RobertaForMaskedLM, extendedAttentionMask, type MaskedLMModel } from '../src/index.js';
import { fixtureDir, fixtureInputs, maxErrors, readF32File, type Kind } from '../../../test-support/fixtures.js';

function bits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer));
}

describe('dropout and the model-owned generator', () => {
  const dir = fixtureDir('bert');
  const config = BertConfig.fromFile(dir).with({ hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1 });
  const inputs = fixtureInputs('bert');
  const run = (model: MaskedLMModel) => model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask }).logits.toFloat32Array();

  it('is off in eval mode and seeded, reproducible and rewindable in train mode', () => {
    const a = new BertForMaskedLM(config, { dropoutSeed: 5 });
    a.loadPretrained(dir);
    const b = new BertForMaskedLM(config, { dropoutSeed: 5 });
    b.loadPretrained(dir);
    const plain = BertForMaskedLM.fromPretrained(dir);
    plain.eval();
    a.eval();
    expect(bits(run(a))).toEqual(bits(run(plain)));
    a.train();
    b.train();
    const state = a.generator.getState();
    const first = run(a);
    expect(bits(run(b))).toEqual(bits(first)); // same seed, same masks
    const second = run(a);
    expect(bits(second)).not.toEqual(bits(first)); // the generator moved on
    a.generator.setState(state);
    expect(bits(run(a))).toEqual(bits(first)); // rewound
    const c = new BertForMaskedLM(config, { dropoutSeed: 6 });
    c.loadPretrained(dir);
    c.train();
    expect(bits(run(c))).not.toEqual(bits(first));
    // Roughly 10% of the post-LN embedding output is dropped when only hidden dropout is on.
    const embeddings = a.embeddings.forward({ inputIds: inputs.encoder_input_ids }).toFloat32Array();
    const dropped = embeddings.filter((x) => x === 0).length / embeddings.length;
    expect(dropped).toBeGreaterThan(0.06);
    expect(dropped).toBeLessThan(0.14);
  });
});

describe.each(['bert', 'roberta'] as Kind[])('%s pieces RetroMAE reuses', (kind) => {
  let model: MaskedLMModel;
  const inputs = fixtureInputs(kind);
  const expected = readF32File(`${fixtureDir(kind)}/expected.safetensors`);
  const weights = readF32File(`${fixtureDir(kind)}/model.safetensors`);
  beforeAll(() => {
    model = AutoModelForMaskedLM.fromPretrained(fixtureDir(kind));
    model.eval();
  });

  it('embeddings with explicit position ids give hidden_states.0; positions() gives raw rows', () => {
    const h0 = model.embeddings.forward({ inputIds: inputs.encoder_input_ids, positionIds: inputs.encoder_position_ids, tokenTypeIds: inputs.token_type_ids });
    const e = maxErrors(h0.toFloat32Array(), expected.get('encoder.hidden_states.0')!.data);
    expect(e.maxAbsErr).toBeLessThanOrEqual(1e-4 * e.maxAbsRef + 1e-6);
    const rows = model.embeddings.positions([[0, 1, 5]]);
    expect(rows.shape).toEqual([1, 3, 32]);
    const table = weights.get(`${kind}.embeddings.position_embeddings.weight`)!.data;
    expect(Array.from(rows.toFloat32Array())).toEqual([...table.subarray(0, 64), ...table.subarray(160, 192)].map(Math.fround));
    expect(model.positionEmbeddings.shape).toEqual([64, 32]);
  });

  it('a [B, L, L] mask equal to the [B, L] one broadcast over rows gives the same output', () => {
    const mask3 = inputs.attention_mask.map((row) => row.map(() => [...row]));
    const a = model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask });
    const b = model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: mask3 });
    expect(bits(b.lastHiddenState.toFloat32Array())).toEqual(bits(a.lastHiddenState.toFloat32Array()));
  });

  it('inputs are validated with the input named', () => {
    const ids = inputs.encoder_input_ids.map((row) => [...row]);
    ids[1][3] = 120;
    expect(() => model.forward({ inputIds: ids })).toThrow(/inputIds: entry 120 at \[1, 3\] is outside \[0, 120\) \(vocab_size\)/);
    expect(() => model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: [[1, 1]] })).toThrow(/attentionMask: shape \[1,2\], expected \[3,16\]/);
    expect(() => model.forward({ inputIds: inputs.encoder_input_ids, positionIds: inputs.encoder_input_ids.map((r) => r.map(() => 64)) })).toThrow(
      /positionIds: entry 64 at \[0, 0\] is outside \[0, 64\) \(max_position_embeddings\)/,
    );
    expect(() => model.forward({ inputIds: [[2, 5.5]] })).toThrow(/inputIds: entry 5\.5 at flat index 1 is not an integer/);
    expect(() => model.forward({ inputIds: inputs.encoder_input_ids, labels: [[1]] })).toThrow(/labels: shape \[1,1\], expected \[3,16\]/);
    expect(() => model.forward({ inputIds: inputs.encoder_input_ids, tokenTypeIds: inputs.encoder_input_ids.map((r) => r.map(() => 2)) })).toThrow(
      /tokenTypeIds: entry 2 at \[0, 0\] is outside \[0, \d\) \(type_vocab_size\)/,
    );
  });
});

describe('extendedAttentionMask', () => {
  it('is (1 - mask) * finfo(float32).min, [B,L] -> [B,1,1,L] and [B,L,L] -> [B,1,L,L]', () => {
    const m = extendedAttentionMask([[1, 0, 1]]);
    expect(m.shape).toEqual([1, 1, 1, 3]);
    // 0 * finfo.min is -0 in PyTorch as well; adding -0 leaves every score unchanged.
    expect(Array.from(m.toFloat32Array())).toEqual([-0, -3.4028234663852886e38, -0]);
    expect(MASK_MIN).toBe(-3.4028234663852886e38);
    const m3 = extendedAttentionMask(tensor([[[1, 0], [0, 0]]]));
    expect(m3.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(m3.toFloat32Array())).toEqual([-0, MASK_MIN, MASK_MIN, MASK_MIN]);
  });
});

describe('fromPretrained returns an eval-mode model (HF convention)', () => {
  it.each(['bert', 'roberta'] as Kind[])('%s: every module has dropout off until train() is called', (kind) => {
    for (const model of [AutoModelForMaskedLM.fromPretrained(fixtureDir(kind)), kind === 'bert' ? BertForMaskedLM.fromPretrained(fixtureDir(kind)) : RobertaForMaskedLM.fromPretrained(fixtureDir(kind))]) {
      const modules = model.namedModules();
      expect(modules.length).toBeGreaterThan(10);
      expect(modules.filter(([, m]) => m.training).map(([name]) => name)).toEqual([]);
      model.train();
      expect(modules.every(([, m]) => m.training)).toBe(true);
    }
  });
});
