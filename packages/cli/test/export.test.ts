/**
 * `retro export` on a RetroMAE-style checkpoint (the RetroMAE fixture: BERT + MLM head + c_head.*,
 * with a tokenizer added): an encoder-only HF folder, sentence-transformers files, a tokenizer
 * whose model_max_length is the position table, F16/BF16 weights, a model card.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoModel, BertForMaskedLM, readCheckpoint, readSafetensors } from '@retro/bert';
import { main } from '../src/index.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../src/pipelines/export.js';

const root = mkdtempSync(join(tmpdir(), 'retro-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = fileURLToPath(new URL('../../../test-fixtures/retromae/bert', import.meta.url));
const checkpoint = join(root, 'checkpoint-6');
mkdirSync(checkpoint);
for (const f of ['config.json', 'model.safetensors']) writeFileSync(join(checkpoint, f), readFileSync(join(fixture, f)));
// A tokenizer for the fixture's 120 ids: specials then CJK characters; saved as retro pretrain does (512).
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 115 }, (_, i) => String.fromCodePoint(0x4e00 + i))];
writeFileSync(join(checkpoint, 'vocab.txt'), `${vocab.join('\n')}\n`);
writeFileSync(join(checkpoint, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 512, do_lower_case: true }));
writeFileSync(join(checkpoint, 'trainer_state.json'), JSON.stringify({ step: 6, config: { encoderMaskRatio: 0.3, decoderMaskRatio: 0.5, totalSteps: 6, lr: 0.001, mlmOnly: false } }));

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(argv, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stderr };
}

const ids = [[2, 17, 40, 99, 5, 3], [2, 8, 3]];

describe('retro export', () => {
  it('writes an encoder-only HF folder (no c_head.*, no MLM head) with the sentence-transformers files', async () => {
    const out = join(root, 'exported');
    const { code, stderr } = await run(['export', '--model', checkpoint, '--output', out]);
    expect(code, stderr).toBe(0);
    const names = [...readCheckpoint(out).keys()];
    expect(names.filter((n) => /^(c_head|cls|bert)\./.test(n))).toEqual([]);
    expect(names).toContain('embeddings.word_embeddings.weight');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['BertModel'], model_type: 'bert', num_hidden_layers: 2, torch_dtype: 'float32' });
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(64);
    expect(JSON.parse(readFileSync(join(out, 'modules.json'), 'utf8')).map((m: { type: string }) => m.type.split('.').pop())).toEqual(['Transformer', 'Pooling', 'Normalize']);
    expect(JSON.parse(readFileSync(join(out, '1_Pooling', 'config.json'), 'utf8'))).toMatchObject({ word_embedding_dimension: 32, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false });
    expect(JSON.parse(readFileSync(join(out, 'sentence_bert_config.json'), 'utf8'))).toEqual({ max_seq_length: 64, do_lower_case: false });
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    expect(card).toMatch(/RetroMAE pretraining \(encoder MLM \+ enhanced decoder\), 6 steps/);
    expect(card).toMatch(/\| encoderMaskRatio \| 0\.3 \|/);
    expect(existsSync(join(out, 'trainer_state.json'))).toBe(false);
    // The exported encoder is the checkpoint's encoder: same hidden states, bit for bit.
    const source = BertForMaskedLM.fromPretrained(checkpoint);
    const exported = AutoModel.fromPretrained(out);
    expect(exported.forward({ inputIds: [ids[0]!] }).lastHiddenState.toFloat32Array()).toEqual(source.forward({ inputIds: [ids[0]!] }).lastHiddenState.toFloat32Array());
  });

  it('--with-mlm-head keeps the head (BertForMaskedLM) and still drops c_head.*', async () => {
    const out = join(root, 'with-head');
    expect((await run(['export', '--model', checkpoint, '--output', out, '--with-mlm-head'])).code).toBe(0);
    const names = [...readCheckpoint(out).keys()];
    expect(names).toContain('cls.predictions.bias');
    expect(names.filter((n) => n.startsWith('c_head.'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures).toEqual(['BertForMaskedLM']);
  });

  it.each([
    ['f16', 'F16', 'float16', 2e-3],
    ['bf16', 'BF16', 'bfloat16', 1.6e-2],
  ])('--dtype %s writes %s weights that load back within half precision', async (flag, dtype, torchDtype, tolerance) => {
    const out = join(root, `half-${flag}`);
    expect((await run(['export', '--model', checkpoint, '--output', out, '--dtype', flag])).code).toBe(0);
    const file = readSafetensors(join(out, 'model.safetensors'));
    expect(new Set([...file.tensors.values()].map((t) => t.dtype))).toEqual(new Set([dtype]));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).torch_dtype).toBe(torchDtype);
    const full = readCheckpoint(join(root, 'exported'));
    for (const [name, t] of readCheckpoint(out)) {
      const ref = full.get(name)!.data;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(t.data[i]! - ref[i]!)).toBeLessThanOrEqual(tolerance * Math.abs(ref[i]!) + 1e-7);
    }
  });

  it('half-precision conversions round to nearest even (hand-checked bit patterns)', () => {
    expect([1, -2, 65504, 65520, 1e-8, 2 ** -24, 0.1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Infinity].map(float32ToFloat16Bits)).toEqual([
      0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x2e66, 0x3c00, 0x3c02, 0x7c00,
    ]);
    expect(Number.isNaN(NaN) && (float32ToFloat16Bits(NaN) & 0x7c00) === 0x7c00 && (float32ToFloat16Bits(NaN) & 0x3ff) !== 0).toBe(true);
    expect([1, -2, 0.1, 1 + 2 ** -8, 1 + 3 * 2 ** -8].map(float32ToBfloat16Bits)).toEqual([0x3f80, 0xc000, 0x3dcd, 0x3f80, 0x3f82]);
  });

  it('refuses an output inside the model folder and a non-empty folder without --overwrite', async () => {
    const inside = await run(['export', '--model', checkpoint, '--output', join(checkpoint, 'export')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/lies inside the --model folder/);
    const again = await run(['export', '--model', checkpoint, '--output', join(root, 'exported')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty.*--overwrite|model folder/);
    expect(readdirSync(checkpoint).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer_config.json', 'trainer_state.json', 'vocab.txt']);
  });
});
