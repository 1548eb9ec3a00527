/**
 * `retro embed` as a user runs it: outputs never replace the model or the input (#14 item 2),
 * --overwrite for existing outputs, a clear error for a missing folder, ids beside .npy, stdin,
 * streaming in groups (order and ids kept across groups), broken weights fail with exit 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Wiring } from '../src/index.js';
import { readCheckpoint, writeSafetensors } from '@retro/bert';

const root = mkdtempSync(join(tmpdir(), 'retro-embed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = fileURLToPath(new URL('../../../test-fixtures/hf-encoder/bert-model', import.meta.url));
// A model folder of our own to attack (a copy of the fixture).
const modelDir = join(root, 'model');
mkdirSync(modelDir);
for (const f of readdirSync(fixture)) if (statSync(join(fixture, f)).isFile()) writeFileSync(join(modelDir, f), readFileSync(join(fixture, f)));

// A fake encoder: vector = [length, position in the call].
const fake: Partial<Wiring> = { embed: async (texts) => ({ vectors: Float32Array.from(texts.flatMap((t, i) => [t.length, i])), dim: 2 }) };

async function run(argv: string[], wiring?: Partial<Wiring>, stdin?: Readable): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const { defaultWiring } = await import('../src/wiring.js');
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin, wiring: { ...defaultWiring, ...wiring } });
  return { code, stdout, stderr };
}

const input = join(root, 'texts.jsonl');
writeFileSync(input, '{"id": "a", "text": "床前明月光"}\n\n{"text": "疑是地上霜"}\n');

describe('retro embed never destroys what it reads', () => {
  it.each([
    ['model.safetensors', /lies inside the --model folder/],
    ['config.json', /lies inside the --model folder/],
  ])('--output <model>/%s is refused and the model is untouched', async (file, message) => {
    const before = readFileSync(join(modelDir, file));
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', input, '--output', join(modelDir, file), '--format', 'jsonl', '--overwrite'], fake);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(readFileSync(join(modelDir, file))).toEqual(before);
  });

  it('--output equal to --input is refused and the input is untouched', async () => {
    const before = readFileSync(input, 'utf8');
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', input, '--output', input, '--overwrite'], fake);
    expect(code).toBe(2);
    expect(stderr).toMatch(/is the same path as --input/);
    expect(readFileSync(input, 'utf8')).toBe(before);
  });

  it('an existing output needs --overwrite; a missing folder is a clear error', async () => {
    const out = join(root, 'exists.jsonl');
    writeFileSync(out, 'keep me\n');
    const refused = await run(['embed', '--model', modelDir, '--input', input, '--output', out], fake);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/file '.*exists.jsonl' exists; pass --overwrite to replace it/);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    expect((await run(['embed', '--model', modelDir, '--input', input, '--output', out, '--overwrite'], fake)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('"id":"a"');
    const missing = await run(['embed', '--model', modelDir, '--input', input, '--output', join(root, 'no', 'such', 'v.npy')], fake);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/option --output: folder '.*no\/such' does not exist \(create it first\)/);
  });
});

describe('retro embed output', () => {
  it('.npy gets its ids beside it, one JSON id per line in row order', async () => {
    const out = join(root, 'v.npy');
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', input, '--output', out], fake);
    expect(code, stderr).toBe(0);
    expect(readFileSync(join(root, 'v.ids.jsonl'), 'utf8')).toBe('"a"\n3\n');
    const bytes = readFileSync(out);
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/);
    expect(bytes.length).toBe(10 + headerLength + 16);
    expect(stderr).toMatch(/wrote 2 vectors of dimension 2 to .*v\.npy and .*v\.ids\.jsonl/);
  });

  it('streams a large input in groups: every text once, in order, ids kept; progress is shown', async () => {
    const many = join(root, 'many.txt');
    const texts = Array.from({ length: 700 }, (_, i) => 'x'.repeat(1 + (i % 13)));
    writeFileSync(many, texts.join('\r\n'));
    const calls: number[] = [];
    const counting: Partial<Wiring> = {
      embed: async (batch) => {
        calls.push(batch.length);
        return { vectors: Float32Array.from(batch.flatMap((t) => [t.length, 0])), dim: 2 };
      },
    };
    const out = join(root, 'many.jsonl');
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', many, '--output', out, '--batch-size', '4'], counting);
    expect(code, stderr).toBe(0);
    expect(calls).toEqual([256, 256, 188]);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(texts.map((_, i) => i + 1));
    expect(rows.map((r) => r.embedding[0])).toEqual(texts.map((t) => t.length));
    expect(stderr).toMatch(/retro embed: many\.txt 700\/700 texts/);
  });

  it('reads stdin with --input -', async () => {
    const out = join(root, 'stdin.jsonl');
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', '-', '--input-format', 'jsonl', '--output', out], fake, Readable.from(['{"id": 7, "text": "一二"}\n', '{"id": 8, "text": "三"}\n']));
    expect(code, stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 7, embedding: [2, 0] },
      { id: 8, embedding: [1, 1] },
    ]);
  });

  it('a model with NaN weights fails (exit 1) naming the tensor, and writes nothing', async () => {
    const broken = join(root, 'broken-model');
    mkdirSync(broken);
    for (const f of readdirSync(modelDir)) if (statSync(join(modelDir, f)).isFile()) writeFileSync(join(broken, f), readFileSync(join(modelDir, f)));
    const tensors = readCheckpoint(broken);
    const weights = new Map([...tensors].filter(([n]) => n !== 'embeddings.position_ids').map(([n, t]) => [n, { shape: t.shape, data: Float32Array.from(t.data) }]));
    weights.get('embeddings.LayerNorm.weight')!.data[3] = Number.NaN;
    writeSafetensors(join(broken, 'model.safetensors'), weights, { format: 'pt' });
    const out = join(root, 'nan.jsonl');
    const { code, stderr } = await run(['embed', '--model', broken, '--input', input, '--output', out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/tensor 'embeddings\.LayerNorm\.weight' holds 1 non-finite value/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
