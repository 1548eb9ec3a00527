/**
 * Encoder-only HF folders (test-fixtures/hf-encoder, see its README): a bare BertModel in the
 * sentence-transformers layout (unprefixed names, pooler, old position_ids buffer) and a
 * BertForMaskedLM, both with dropout 0.1 in config.json and loaded WITHOUT calling eval():
 * fromPretrained must give HF's eval-mode outputs. Expected values are float64 references.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoModel, AutoModelForMaskedLM, BertForMaskedLM, BertModel, RobertaModel, readCheckpoint, writeSafetensors } from '../src/index.js';
import { fixtureDir, fixtureInputs, maxErrors, readF32File } from '../../../test-support/fixtures.js';

const HF = fileURLToPath(new URL('../../../test-fixtures/hf-encoder/', import.meta.url));
const bareDir = join(HF, 'bert-model');
const mlmDir = join(HF, 'bert-for-masked-lm');
const tmp = mkdtempSync(join(tmpdir(), 'retro-hf-encoder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Inputs {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
}
const inputs = JSON.parse(readFileSync(join(bareDir, 'inputs.json'), 'utf8')) as Inputs;
const bareExpected = readF32File(join(bareDir, 'expected.safetensors'));
const mlmExpected = readF32File(join(mlmDir, 'expected.safetensors'));

/** |got - expected| <= 1e-4 max|expected| + 1e-6, the fixtures' float32 tolerance. */
function expectClose(name: string, got: ArrayLike<number>, expected: ArrayLike<number>): void {
  const { maxAbsErr, maxAbsRef } = maxErrors(got, expected);
  expect(maxAbsRef, name).toBeGreaterThan(0.1);
  expect(maxAbsErr, `${name}: max|err| ${maxAbsErr} vs max|exp| ${maxAbsRef}`).toBeLessThanOrEqual(1e-4 * maxAbsRef + 1e-6);
}

/** config.json + model.safetensors of a fixture in a scratch folder, config edited by `edit`. */
function scratch(dir: string, name: string, edit: (config: Record<string, unknown>) => void = () => {}): string {
  const out = join(tmp, name);
  mkdirSync(out, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  edit(config);
  writeFileSync(join(out, 'config.json'), JSON.stringify(config));
  writeFileSync(join(out, 'model.safetensors'), readFileSync(join(dir, 'model.safetensors')));
  return out;
}

const forward = { inputIds: inputs.input_ids, attentionMask: inputs.attention_mask };

describe('a bare HF BertModel folder (bge / sentence-transformers layout)', () => {
  it('BertModel.fromPretrained loads it in eval mode: hidden states and pooler output match without eval()', () => {
    const model = BertModel.fromPretrained(bareDir);
    expect(model.config.hiddenDropoutProb).toBe(0.1);
    expect(model.training).toBe(false);
    expect(model.pooler).not.toBeNull();
    expect(model.loadReport!.skipped).toEqual(['embeddings.position_ids']);
    expect([...model.loadReport!.unused.keys()]).toEqual([]);
    const out = model.forward(forward);
    expectClose('last_hidden_state', out.lastHiddenState.toFloat32Array(), bareExpected.get('last_hidden_state')!.data);
    expectClose('pooler_output', out.poolerOutput!.toFloat32Array(), bareExpected.get('pooler_output')!.data);
    // Dropout really is configured: in train mode the output changes.
    model.train();
    const noisy = maxErrors(model.forward(forward).lastHiddenState.toFloat32Array(), bareExpected.get('last_hidden_state')!.data);
    expect(noisy.maxAbsErr).toBeGreaterThan(1e-2);
  });

  it('AutoModel picks BertModel; encode gives the CLS (normalised) and mean sentence embeddings', () => {
    const model = AutoModel.fromPretrained(bareDir);
    expect(model).toBeInstanceOf(BertModel);
    const ids = inputs.input_ids.map((row, b) => row.filter((_, i) => inputs.attention_mask[b]![i] === 1));
    expectClose('cls', model.encode(ids, { pooling: 'cls', normalize: true }).toFloat32Array(), bareExpected.get('sentence_embedding_cls_normalized')!.data);
    expectClose('mean', model.encode(ids, { pooling: 'mean', batchSize: 3 }).toFloat32Array(), bareExpected.get('sentence_embedding_mean')!.data);
  });

  it('savePretrained writes HF BertModel names (no prefix) and loads back bit-exactly', () => {
    const model = BertModel.fromPretrained(bareDir);
    const out = join(tmp, 'resaved');
    model.savePretrained(out);
    const names = [...readCheckpoint(out).keys()];
    expect(names).toContain('embeddings.word_embeddings.weight');
    expect(names).toContain('pooler.dense.weight');
    expect(names.filter((n) => n.startsWith('bert.'))).toEqual([]);
    const again = BertModel.fromPretrained(out);
    expect(again.forward(forward).lastHiddenState.toFloat32Array()).toEqual(model.forward(forward).lastHiddenState.toFloat32Array());
  });

  it('AutoModelForMaskedLM refuses it, naming the missing head tensors', () => {
    expect(() => AutoModelForMaskedLM.fromPretrained(bareDir)).toThrow(/missing tensors 'cls\.predictions\.bias'.*BertForMaskedLM/);
  });
});

describe('an HF BertForMaskedLM folder', () => {
  it('BertForMaskedLM.fromPretrained: logits and hidden states match without eval()', () => {
    const model = BertForMaskedLM.fromPretrained(mlmDir);
    expect(model.training).toBe(false);
    const out = model.forward(forward);
    expectClose('last_hidden_state', out.lastHiddenState.toFloat32Array(), mlmExpected.get('last_hidden_state')!.data);
    expectClose('logits', out.logits.toFloat32Array(), mlmExpected.get('logits')!.data);
  });

  it('BertModel.fromPretrained reads its `bert.`-prefixed body, no pooler, the head left unused (as HF)', () => {
    const model = AutoModel.fromPretrained(mlmDir);
    expect(model.pooler).toBeNull();
    expect([...model.loadReport!.unused.keys()].sort()).toEqual([
      'cls.predictions.bias',
      'cls.predictions.transform.LayerNorm.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.dense.weight',
    ]);
    const out = model.forward(forward);
    expect(out.poolerOutput).toBeUndefined();
    expectClose('last_hidden_state', out.lastHiddenState.toFloat32Array(), mlmExpected.get('last_hidden_state')!.data);
  });
});

describe('RoBERTa encoder alone', () => {
  it('AutoModel on a RobertaForMaskedLM (+ c_head) checkpoint gives RobertaModel with the reference hidden states', () => {
    const model = AutoModel.fromPretrained(fixtureDir('roberta'));
    expect(model).toBeInstanceOf(RobertaModel);
    expect(model.training).toBe(false);
    const x = fixtureInputs('roberta');
    const expected = readF32File(join(fixtureDir('roberta'), 'expected.safetensors')).get('encoder.last_hidden_state')!;
    const out = model.forward({ inputIds: x.encoder_input_ids, attentionMask: x.attention_mask });
    expectClose('roberta last_hidden_state', out.lastHiddenState.toFloat32Array(), expected.data);
    expect([...model.loadReport!.unused.keys()].some((n) => n.startsWith('c_head.'))).toBe(true);
  });

  it('RobertaModel refuses a BERT config, naming model_type', () => {
    expect(() => RobertaModel.fromPretrained(bareDir)).toThrow(/model_type.*"roberta"/);
  });
});

describe('a config.json that does not describe the weights', () => {
  it.each([
    ['bare', bareDir],
    ['masked-lm', mlmDir],
  ])('%s: fewer layers than the checkpoint is an error naming the extra tensors', (_, dir) => {
    const small = scratch(dir, `one-layer-${_}`, (c) => (c.num_hidden_layers = 1));
    const load = () => (dir === bareDir ? BertModel.fromPretrained(small) : BertForMaskedLM.fromPretrained(small));
    expect(load).toThrow(/16 encoder tensors would be dropped: '(bert\.)?encoder\.layer\.1\.attention\.output\.LayerNorm\.bias'.*and 10 more; config\.json says num_hidden_layers=1 but the checkpoint also holds layer 1/);
  });
});

describe('non-finite values', () => {
  it('NaN or Inf in a weight is an error naming the file and the tensor', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const dir = scratch(bareDir, `nan-${bad}`);
      const tensors = readCheckpoint(dir);
      const target = tensors.get('encoder.layer.1.output.dense.weight')!;
      const data = Float32Array.from(target.data);
      data[7] = bad;
      data[9] = bad;
      const out = new Map([...tensors].filter(([n]) => n !== 'embeddings.position_ids').map(([n, t]) => [n, { shape: t.shape, data: n === 'encoder.layer.1.output.dense.weight' ? data : t.data }]));
      writeSafetensors(join(dir, 'model.safetensors'), out, { format: 'pt' });
      expect(() => AutoModel.fromPretrained(dir)).toThrow(new RegExp(`model\\.safetensors: tensor 'encoder\\.layer\\.1\\.output\\.dense\\.weight' holds 2 non-finite values \\(first: ${bad} at flat index 7\\)`));
    }
  });

  it('encode refuses to return a non-finite embedding, naming the input', () => {
    const model = BertModel.fromPretrained(bareDir);
    const weight = model.embeddings.wordEmbeddings.weight;
    const values = weight.toFloat32Array().slice();
    const token = inputs.input_ids[3]![1]!; // the one character of text 3, in no other text
    values.fill(Number.NaN, token * model.config.hiddenSize, (token + 1) * model.config.hiddenSize);
    weight.assign(values);
    const ids = inputs.input_ids.map((row, b) => row.filter((_, i) => inputs.attention_mask[b]![i] === 1));
    expect(() => model.encode(ids)).toThrow(/encode: the embedding of input 3 holds NaN at dimension 0; the model produced non-finite values/);
  });
});
