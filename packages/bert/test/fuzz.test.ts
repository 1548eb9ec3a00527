/**
 * Fuzz suite for the model files @retro/bert reads: model.safetensors (bytes and header JSON) and
 * config.json. Each damaged file must give a clear error naming it, or a correct result, within a
 * time bound; never a raw TypeError/RangeError (rule and counts: test-support/fuzz.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BertConfig, loadConfig, parseSafetensors, serializeSafetensors, toFloat32, toInt32, type SafetensorsFile } from '../src/index.js';
import { Tally, applyJsonMutation, applyMutation, byteMutation, classify, jsonMutation, runs } from '../../../test-support/fuzz.js';

const root = mkdtempSync(join(tmpdir(), 'retro-fuzz-bert-'));
const tally = new Tally();
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  console.log(`fuzz outcomes (@retro/bert):\n${tally.table()}`);
});
let caseNo = 0;

function expectClean(format: string): void {
  expect(tally.failures.filter((f) => f.startsWith(`${format}:`)), format).toEqual([]);
  const row = tally.counts.get(format)!;
  expect(row['result'] + row['clear-error']).toBeGreaterThan(0);
}

const FILE = 'model.safetensors';
const image = serializeSafetensors({
  'embeddings.word_embeddings.weight': { shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
  'encoder.layer.0.output.bias': { shape: [3], data: Float32Array.of(1, -2, 3) },
  position_ids: { shape: [1, 4], data: Int32Array.of(0, 1, 2, 3) },
});

/** Parses and converts every tensor, as a loader does. */
function readAll(bytes: Uint8Array): SafetensorsFile {
  const file = parseSafetensors(bytes, FILE);
  for (const [name, t] of file.tensors) (t.dtype === 'I32' || t.dtype === 'I64' ? toInt32 : toFloat32)(t, FILE, name);
  return file;
}

/** Correct: every tensor's bytes are exactly what its dtype and shape need. */
function consistent(file: SafetensorsFile): boolean | string {
  const width: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, I16: 2, I8: 1, U8: 1, BOOL: 1 };
  for (const [name, t] of file.tensors) {
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `${name}: shape ${t.shape}`;
    if (width[t.dtype] !== undefined && t.bytes.byteLength !== count * width[t.dtype]) return `${name}: ${t.bytes.byteLength} bytes for ${t.dtype} [${t.shape}]`;
  }
  return true;
}

/** The image with its header JSON replaced (length prefix recomputed). */
function withHeader(header: unknown): Uint8Array {
  const headerLength = Number(new DataView(image.buffer, image.byteOffset).getBigUint64(0, true));
  const data = image.subarray(8 + headerLength);
  const text = new TextEncoder().encode(JSON.stringify(header) ?? '');
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe('model.safetensors', () => {
  it('bytes: truncations, flips, inserted bytes', async () => {
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        await classify(tally, FILE, [FILE], () => readAll(applyMutation(image, m)), consistent);
      }),
      { numRuns: runs(120) },
    );
    expectClean(FILE);
  });

  it('header JSON: wrong types, missing fields, huge shapes and offsets', async () => {
    const headerLength = Number(new DataView(image.buffer, image.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(image.subarray(8, 8 + headerLength)));
    const huge = fc.record({ pick: fc.nat(), op: fc.constant('replace' as const), value: fc.constantFrom(1e12, 2 ** 53, 2 ** 31, -8, [1e9, 1e9], [0, 2 ** 40], ['F32'], 'F64', 'Q4') });
    await fc.assert(
      fc.asyncProperty(fc.oneof(jsonMutation, huge), async (m) => {
        await classify(tally, `${FILE} header`, [FILE], () => readAll(withHeader(applyJsonMutation(header, m))), consistent);
      }),
      { numRuns: runs(120) },
    );
    expectClean(`${FILE} header`);
  });

  it('the intact image reads back exactly', () => {
    const file = readAll(image);
    expect([...toInt32(file.tensors.get('position_ids')!, FILE, 'position_ids')]).toEqual([0, 1, 2, 3]);
  });
});

describe('config.json', () => {
  const json = new BertConfig({ vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16 }).toJson();
  const fields = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'pad_token_id'];

  /** Correct: every size field the file gives is taken as given, and is a usable positive integer. */
  const takesFile = (doc: Record<string, unknown>) => (config: BertConfig) => {
    for (const key of fields) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof BertConfig;
      const value = config[camel] as number;
      if (!Number.isSafeInteger(value) || value < (key === 'pad_token_id' ? 0 : 1)) return `${key} = ${value}`;
      if (key in doc && doc[key] !== value) return `${key}: file says ${JSON.stringify(doc[key])}, config has ${value}`;
    }
    return true;
  };

  it('wrong types, missing fields, absurd values', async () => {
    await fc.assert(
      fc.asyncProperty(jsonMutation, async (m) => {
        const dir = join(root, `c${caseNo++}`);
        mkdirSync(dir);
        const doc = applyJsonMutation(json, m);
        writeFileSync(join(dir, 'config.json'), JSON.stringify(doc) ?? '');
        await classify(tally, 'config.json', ['config.json'], () => loadConfig(dir), takesFile((doc ?? {}) as Record<string, unknown>));
      }),
      { numRuns: runs(120) },
    );
    expectClean('config.json');
  });

  it('truncated and byte-flipped text', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(json, null, 2));
    await fc.assert(
      fc.asyncProperty(byteMutation, async (m) => {
        const dir = join(root, `c${caseNo++}`);
        mkdirSync(dir);
        const mutated = applyMutation(bytes, m);
        writeFileSync(join(dir, 'config.json'), mutated);
        let doc: Record<string, unknown> = {};
        try {
          doc = JSON.parse(new TextDecoder().decode(mutated));
        } catch {
          // unparsable: the loader must fail, and takesFile is never called
        }
        await classify(tally, 'config.json bytes', ['config.json'], () => loadConfig(dir), takesFile(doc ?? {}));
      }),
      { numRuns: runs(80) },
    );
    expectClean('config.json bytes');
  });
});
