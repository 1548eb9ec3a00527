/**
 * save/load: HF names, bit-exact round trips, HF's tolerated variants (F16/BF16, shards, tied
 * copies, prefix-less and gamma/beta names) and clear errors for every broken checkpoint.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutoModelForMaskedLM,
  BertForMaskedLM,
  RobertaForMaskedLM,
  serializeSafetensors,
  readSafetensors,
  type MaskedLMModel,
  type TensorToWrite,
} from '../src/index.js';
import { fixtureConfig, fixtureDir, fixtureInputs, readF32File, type Kind } from '../../../test-support/fixtures.js';

const created: string[] = [];
afterAll(() => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'retro-ckpt-'));
  created.push(dir);
  return dir;
}

function bits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

/** A folder with the fixture config and a model.safetensors built from edited fixture tensors. */
function editedCheckpoint(
  kind: Kind,
  edit: (tensors: Map<string, TensorToWrite>) => void,
  config: Record<string, unknown> = fixtureConfig(kind),
): string {
  const dir = tempDir();
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, { shape, data }] of readF32File(`${fixtureDir(kind)}/model.safetensors`)) tensors.set(name, { shape, data: Float32Array.from(data) });
  edit(tensors);
  writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function expectSameParameters(a: MaskedLMModel, b: MaskedLMModel): void {
  const left = a.namedParameters();
  const right = new Map(b.namedParameters());
  expect(left.map(([n]) => n)).toEqual([...right.keys()]);
  for (const [name, p] of left) expect(bits(right.get(name)!.toFloat32Array()), name).toEqual(bits(p.toFloat32Array()));
}

describe.each(['bert', 'roberta'] as Kind[])('%s checkpoints', (kind) => {
  const load = (dir: string) => (kind === 'bert' ? BertForMaskedLM.fromPretrained(dir) : RobertaForMaskedLM.fromPretrained(dir));
  const fixtureTensors = readF32File(`${fixtureDir(kind)}/model.safetensors`);
  const modelNames = [...fixtureTensors.keys()].filter((n) => !n.startsWith('c_head.'));

  it('namedParameters() are exactly the HF names of the checkpoint (tied decoder not listed)', () => {
    const fresh = kind === 'bert' ? new BertForMaskedLM(BertForMaskedLMConfig(kind)) : new RobertaForMaskedLM(BertForMaskedLMConfig(kind));
    expect(fresh.namedParameters().map(([n]) => n).sort()).toEqual(modelNames.sort());
    expect(fresh.head.decoderWeight).toBe(fresh.wordEmbeddings);
  });

  it('loads every parameter bit-exactly and exposes c_head.* as unused tensors', () => {
    const model = load(fixtureDir(kind));
    for (const [name, p] of model.namedParameters()) expect(bits(p.toFloat32Array()), name).toEqual(bits(Float32Array.from(fixtureTensors.get(name)!.data)));
    const unused = model.unusedTensors();
    expect([...unused.keys()].sort()).toEqual([...fixtureTensors.keys()].filter((n) => n.startsWith('c_head.')).sort());
    const query = unused.get('c_head.query.weight')!;
    expect(query.shape).toEqual([32, 32]);
    expect(Array.from(query.data)).toEqual(Array.from(fixtureTensors.get('c_head.query.weight')!.data));
    expect(model.head.decoderWeight).toBe(model.wordEmbeddings);
  });

  it('savePretrained -> fromPretrained is bit-exact, writes HF files, and is deterministic', () => {
    const model = load(fixtureDir(kind));
    const dir = tempDir();
    model.savePretrained(dir, { extraTensors: new Map([...model.unusedTensors()].map(([n, t]) => [n, t])) });
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    const saved = readF32File(join(dir, 'model.safetensors'));
    // Same names as HF save_pretrained wrote (tied decoder omitted, c_head kept), same bits.
    expect([...saved.keys()].sort()).toEqual([...fixtureTensors.keys()].sort());
    for (const [name, { shape, data }] of saved) {
      expect(shape, name).toEqual(fixtureTensors.get(name)!.shape);
      expect(bits(Float32Array.from(data)), name).toEqual(bits(Float32Array.from(fixtureTensors.get(name)!.data)));
    }
    expect(readSafetensors(join(dir, 'model.safetensors')).metadata).toEqual({ format: 'pt' });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(fixtureConfig(kind));
    const again = load(dir);
    expectSameParameters(model, again);
    expect(again.unusedTensors().size).toBe(16);
    const inputs = fixtureInputs(kind);
    const a = model.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask });
    const b = again.forward({ inputIds: inputs.encoder_input_ids, attentionMask: inputs.attention_mask });
    expect(bits(b.logits.toFloat32Array())).toEqual(bits(a.logits.toFloat32Array()));
    const dir2 = tempDir();
    again.savePretrained(dir2, { extraTensors: again.unusedTensors() });
    expect(readFileSync(join(dir2, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors')))).toBe(true);
  });

  it('a freshly initialised model round-trips bit-exactly too (HF init: pad row 0, LN 1/0, biases 0)', () => {
    const config = BertForMaskedLMConfig(kind);
    const model = kind === 'bert' ? new BertForMaskedLM(config, { seed: 7 }) : new RobertaForMaskedLM(config, { seed: 7 });
    const params = new Map(model.namedParameters().map(([n, p]) => [n, p.toFloat32Array()]));
    const pad = kind === 'bert' ? 0 : 1;
    expect(Array.from(params.get(`${kind}.embeddings.word_embeddings.weight`)!.subarray(pad * 32, pad * 32 + 32))).toEqual(new Array(32).fill(0));
    expect(Array.from(params.get(`${kind}.embeddings.LayerNorm.weight`)!)).toEqual(new Array(32).fill(1));
    expect(Array.from(params.get(`${kind}.encoder.layer.0.attention.self.query.bias`)!)).toEqual(new Array(32).fill(0));
    const w = params.get(`${kind}.encoder.layer.0.intermediate.dense.weight`)!;
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(Math.abs(std - 0.02)).toBeLessThan(0.003);
    const dir = tempDir();
    model.savePretrained(dir);
    expectSameParameters(model, load(dir));
    // Different seeds give different parameters.
    const other = kind === 'bert' ? new BertForMaskedLM(config, { seed: 8 }) : new RobertaForMaskedLM(config, { seed: 8 });
    expect(bits(other.namedParameters()[0][1].toFloat32Array())).not.toEqual(bits(model.namedParameters()[0][1].toFloat32Array()));
  });

  it('reads BF16 and F16 checkpoints, widening to float32', () => {
    // BF16: keep the top 16 bits of each float32 (truncation, a valid bf16 checkpoint).
    const bf16 = editedCheckpoint(kind, (tensors) => {
      for (const [name, t] of tensors) {
        const words = new Uint32Array(Float32Array.from((t as { data: Float32Array }).data).buffer);
        const halves = new Uint16Array(words.length);
        words.forEach((word, i) => (halves[i] = word >>> 16));
        tensors.set(name, { dtype: 'BF16', shape: t.shape, bytes: new Uint8Array(halves.buffer) });
      }
    });
    const model = load(bf16);
    for (const [name, p] of model.namedParameters()) {
      const expected = new Uint32Array(Float32Array.from(fixtureTensors.get(name)!.data).buffer).map((word) => word & 0xffff0000);
      expect(bits(p.toFloat32Array()), name).toEqual(Array.from(expected));
    }
    // F16: values k/1024 (exact in float16), encoded by hand.
    const encodeHalf = (v: number): number => {
      if (v === 0) return 0;
      const sign = v < 0 ? 0x8000 : 0;
      const exponent = Math.floor(Math.log2(Math.abs(v)));
      const mantissa = Math.round((Math.abs(v) / 2 ** exponent - 1) * 1024);
      return sign | ((exponent + 15) << 10) | mantissa;
    };
    const quantised = new Map<string, Float32Array>();
    const f16 = editedCheckpoint(kind, (tensors) => {
      for (const [name, t] of tensors) {
        const values = Float32Array.from((t as { data: Float32Array }).data, (x) => Math.max(-1024, Math.min(1024, Math.round(x * 1024))) / 1024 + 0); // + 0: no -0
        quantised.set(name, values);
        tensors.set(name, { dtype: 'F16', shape: t.shape, bytes: new Uint8Array(Uint16Array.from(values, encodeHalf).buffer) });
      }
    });
    for (const [name, p] of load(f16).namedParameters()) expect(Array.from(p.toFloat32Array()), name).toEqual(Array.from(quantised.get(name)!));
  });

  it('loads sharded checkpoints (model.safetensors.index.json)', () => {
    const dir = tempDir();
    const shards: Array<Map<string, TensorToWrite>> = [new Map(), new Map()];
    const weightMap: Record<string, string> = {};
    [...fixtureTensors].forEach(([name, { shape, data }], i) => {
      shards[i % 2].set(name, { shape, data: Float32Array.from(data) });
      weightMap[name] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
    });
    shards.forEach((tensors, i) => writeFileSync(join(dir, `model-0000${i + 1}-of-00002.safetensors`), serializeSafetensors(tensors)));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(fixtureConfig(kind)));
    const model = load(dir);
    expectSameParameters(model, load(fixtureDir(kind)));
    expect(model.loadReport!.files).toHaveLength(2);
  });

  it('accepts what HF accepts: stored tied copies, position_ids buffers, gamma/beta names, no body prefix, extra heads', () => {
    const headPrefix = kind === 'bert' ? 'cls.predictions' : 'lm_head';
    const dir = editedCheckpoint(kind, (tensors) => {
      const word = tensors.get(`${kind}.embeddings.word_embeddings.weight`)!;
      tensors.set(`${headPrefix}.decoder.weight`, word);
      tensors.set(`${headPrefix}.decoder.bias`, tensors.get(`${headPrefix}.bias`)!);
      tensors.set(`${kind}.embeddings.position_ids`, { dtype: 'I64', shape: [1, 64], bytes: new Uint8Array(64 * 8) });
      tensors.set(`${kind}.pooler.dense.weight`, { shape: [32, 32], data: new Float32Array(32 * 32).fill(0.5) });
      // Bare-encoder names (HF BertModel checkpoint) and TF-era LayerNorm names.
      for (const name of [...tensors.keys()]) {
        if (!name.startsWith(`${kind}.`)) continue;
        let renamed = name.slice(kind.length + 1);
        renamed = renamed.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
        tensors.set(renamed, tensors.get(name)!);
        tensors.delete(name);
      }
    });
    const model = load(dir);
    expectSameParameters(model, load(fixtureDir(kind)));
    const report = model.loadReport!;
    expect(report.skipped.sort()).toEqual(['embeddings.position_ids', `${headPrefix}.decoder.bias`, `${headPrefix}.decoder.weight`].sort());
    expect([...report.unused.keys()].filter((n) => !n.startsWith('c_head.'))).toEqual(['pooler.dense.weight']);
  });

  it('missing tensor: error names the file, the tensor and its expected shape', () => {
    const dir = editedCheckpoint(kind, (tensors) => tensors.delete(`${kind}.encoder.layer.1.output.dense.weight`));
    expect(() => load(dir)).toThrow(
      new RegExp(`${dir}/model\\.safetensors: missing tensor '${kind}\\.encoder\\.layer\\.1\\.output\\.dense\\.weight' \\[32,64\\].*intermediate_size=64`),
    );
    const partial = kind === 'bert' ? BertForMaskedLM.fromPretrained(dir, { allowMissing: true }) : RobertaForMaskedLM.fromPretrained(dir, { allowMissing: true });
    expect(partial.loadReport!.missing).toEqual([`${kind}.encoder.layer.1.output.dense.weight`]);
  });

  it('shape mismatch: error names the file, the tensor, found vs expected shape and the config', () => {
    const config = { ...fixtureConfig(kind), intermediate_size: 48 };
    const dir = editedCheckpoint(kind, () => {}, config);
    expect(() => load(dir)).toThrow(
      new RegExp(`model\\.safetensors: tensor '${kind}\\.encoder\\.layer\\.0\\.intermediate\\.dense\\.weight' has shape \\[64,32\\], expected \\[48,32\\] \\(from config\\.json: .*intermediate_size=48`),
    );
  });

  it('a non-float parameter dtype is refused with file and tensor', () => {
    const dir = editedCheckpoint(kind, (tensors) => {
      const name = `${kind}.embeddings.LayerNorm.bias`;
      tensors.set(name, { dtype: 'I32', shape: [32], bytes: new Uint8Array(128) });
    });
    expect(() => load(dir)).toThrow(new RegExp(`model\\.safetensors: tensor '${kind}\\.embeddings\\.LayerNorm\\.bias' has dtype I32, expected a float dtype`));
  });

  it('corrupt and truncated files: error names the file and the tensor', () => {
    const dir = tempDir();
    copyFileSync(join(fixtureDir(kind), 'config.json'), join(dir, 'config.json'));
    const bytes = readFileSync(join(fixtureDir(kind), 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    expect(() => load(dir)).toThrow(new RegExp(`${dir}/model\\.safetensors: tensor '[^']+': data_offsets \\[\\d+, \\d+\\] run past the end of the data section.*truncated`));
    const corrupt = Buffer.from(bytes);
    corrupt[8] = 0x2c; // ',' where the header's '{' was
    writeFileSync(join(dir, 'model.safetensors'), corrupt);
    expect(() => load(dir)).toThrow(new RegExp(`${dir}/model\\.safetensors: header \\(\\d+ bytes\\) is not valid UTF-8 JSON`));
    writeFileSync(join(dir, 'model.safetensors'), bytes.subarray(0, 5));
    expect(() => load(dir)).toThrow(/model\.safetensors: file is 5 bytes/);
  });

  it('wrong model_type: the other class and AutoModel both refuse with file, field, expected and found', () => {
    const other = kind === 'bert' ? 'roberta' : 'bert';
    expect(() => (kind === 'bert' ? RobertaForMaskedLM.fromPretrained(fixtureDir(kind)) : BertForMaskedLM.fromPretrained(fixtureDir(kind)))).toThrow(
      new RegExp(`config\\.json: field 'model_type' must be "${other}" for \\w+Config, found "${kind}"`),
    );
    const dir = editedCheckpoint(kind, () => {}, { ...fixtureConfig(kind), model_type: 'electra' });
    expect(() => AutoModelForMaskedLM.fromPretrained(dir)).toThrow(/config\.json: field 'model_type' must be one of "bert", "roberta", found "electra"/);
  });
});

describe('folders without safetensors', () => {
  it('refuses pytorch_model.bin with a message saying to convert to safetensors', () => {
    const dir = tempDir();
    copyFileSync(join(fixtureDir('bert'), 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), 'PK');
    expect(() => BertForMaskedLM.fromPretrained(dir)).toThrow(/pytorch_model\.bin: only safetensors checkpoints are read; convert it first.*save_pretrained\(.*safe_serialization=True\)/);
  });

  it('names the folder when there is no weight file at all', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    copyFileSync(join(fixtureDir('bert'), 'config.json'), join(dir, 'config.json'));
    expect(() => BertForMaskedLM.fromPretrained(dir)).toThrow(new RegExp(`${dir}: no model\\.safetensors`));
  });
});

function BertForMaskedLMConfig(kind: Kind): Record<string, unknown> {
  const json = fixtureConfig(kind);
  return {
    vocabSize: json.vocab_size,
    hiddenSize: json.hidden_size,
    numHiddenLayers: json.num_hidden_layers,
    numAttentionHeads: json.num_attention_heads,
    intermediateSize: json.intermediate_size,
    maxPositionEmbeddings: json.max_position_embeddings,
    typeVocabSize: json.type_vocab_size,
    layerNormEps: json.layer_norm_eps,
    padTokenId: json.pad_token_id,
  };
}
