import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertConfig, RobertaConfig, loadConfig } from '../src/index.js';
import { fixtureConfig, fixtureDir } from '../../../test-support/fixtures.js';

const created: string[] = [];
afterAll(() => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'retro-cfg-'));
  created.push(dir);
  return dir;
}

describe('BertConfig / RobertaConfig', () => {
  it('reads the fixture config.json files', () => {
    const bert = BertConfig.fromFile(fixtureDir('bert'));
    expect(bert).toMatchObject({
      modelType: 'bert',
      vocabSize: 120,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 64,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: 64,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      padTokenId: 0,
      hiddenDropoutProb: 0,
      attentionProbsDropoutProb: 0,
      tieWordEmbeddings: true,
      architectures: ['BertForMaskedLM'],
    });
    expect(bert.headDim).toBe(8);
    const roberta = loadConfig(fixtureDir('roberta'));
    expect(roberta).toBeInstanceOf(RobertaConfig);
    expect(roberta).toMatchObject({ modelType: 'roberta', typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, bosTokenId: 0, eosTokenId: 2 });
  });

  it('fills missing fields with HF class defaults', () => {
    expect(new BertConfig()).toMatchObject({ vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, padTokenId: 0, hiddenDropoutProb: 0.1, bosTokenId: null });
    expect(RobertaConfig.fromJson({ model_type: 'roberta', vocab_size: 100 })).toMatchObject({ vocabSize: 100, padTokenId: 1, bosTokenId: 0, eosTokenId: 2 });
  });

  it('writes HF config.json: snake_case, sorted keys, unknown fields kept', () => {
    const json = { ...fixtureConfig('roberta'), transformers_version: '4.40.0', classifier_dropout: null, gradient_checkpointing: false };
    const config = RobertaConfig.fromJson(json, 'in.json');
    const out = config.toJson();
    expect(Object.keys(out)).toEqual([...Object.keys(out)].sort());
    const { transformers_version: _dropped, ...rest } = json;
    expect(out).toEqual(rest);
    const dir = tempDir();
    config.save(dir);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(rest);
    // BERT has no bos/eos unless given, like HF's BertConfig.
    expect(BertConfig.fromJson(fixtureConfig('bert')).toJson()).toEqual(fixtureConfig('bert'));
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a string size', { hidden_size: '32' }, /cfg\.json: field 'hidden_size' must be a positive integer, found "32" \(string\)/],
    ['a zero layer count', { num_hidden_layers: 0 }, /field 'num_hidden_layers' must be a positive integer, found 0 \(number\)/],
    ['heads not dividing hidden', { num_attention_heads: 5 }, /field 'hidden_size' must be a multiple of num_attention_heads=5, found 32/],
    ['an unknown activation', { hidden_act: 'gelu_new' }, /field 'hidden_act' must be one of "gelu" \(exact erf\), "relu".*found "gelu_new"/],
    ['dropout of 1', { hidden_dropout_prob: 1 }, /field 'hidden_dropout_prob' must be a number in \[0, 1\), found 1/],
    ['pad id outside the vocabulary', { pad_token_id: 120 }, /field 'pad_token_id' must be an integer in \[0, vocab_size=120\), found 120/],
    ['relative positions', { position_embedding_type: 'relative_key' }, /field 'position_embedding_type' must be "absolute".*found "relative_key"/],
    ['a negative eps', { layer_norm_eps: -1 }, /field 'layer_norm_eps' must be a positive finite number, found -1/],
    ['a decoder flag', { is_decoder: true }, /field 'is_decoder' must be false/],
    ['the wrong model_type', { model_type: 'roberta' }, /cfg\.json: field 'model_type' must be "bert" for BertConfig, found "roberta" \(string\)/],
    ['architectures not a list', { architectures: 'BertForMaskedLM' }, /field 'architectures' must be a list of strings/],
  ];
  for (const [what, change, message] of invalid) {
    it(`rejects ${what}, naming file, field, expected and found`, () => {
      expect(() => BertConfig.fromJson({ ...fixtureConfig('bert'), ...change }, 'cfg.json')).toThrow(message);
    });
  }

  it('loadConfig refuses a model_type other than bert/roberta and a broken file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...fixtureConfig('bert'), model_type: 'gpt2' }));
    expect(() => loadConfig(dir)).toThrow(/config\.json: field 'model_type' must be one of "bert", "roberta", found "gpt2"/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": ');
    expect(() => loadConfig(dir)).toThrow(/config\.json: not valid JSON/);
    expect(() => loadConfig(join(dir, 'missing'))).toThrow(/missing\/config\.json: config file not found/);
  });

  it('with() validates the changed copy', () => {
    const config = BertConfig.fromFile(fixtureDir('bert'));
    expect(config.with({ hiddenDropoutProb: 0.1 }).hiddenDropoutProb).toBe(0.1);
    expect(config.hiddenDropoutProb).toBe(0);
    expect(() => config.with({ hiddenSize: 30 })).toThrow(/hidden_size' must be a multiple of num_attention_heads=4, found 30/);
  });
});
