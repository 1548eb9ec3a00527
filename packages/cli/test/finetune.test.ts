/**
 * `retro finetune` and `retro mine`: usage errors before any work (exit 2, naming the option),
 * outputs never replacing inputs, and a tiny end-to-end run of each through the real wiring.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BertForMaskedLM } from '@retro/bert';
import { main, type Wiring } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-cli-ft-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CHARS = Array.from('一二三四五六七八九十天地人日月山水火木金土上下大小中国猫狗鸟鱼花草');
const modelDir = join(root, 'model');
mkdirSync(modelDir);
new BertForMaskedLM(
  { vocabSize: 5 + CHARS.length, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32 },
  { seed: 1 },
).savePretrained(modelDir);
writeFileSync(join(modelDir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...CHARS].join('\n') + '\n');

const text = (i: number, salt: number): string => Array.from({ length: 3 + (i % 4) }, (_, k) => CHARS[(i * 7 + k * salt + salt) % CHARS.length]).join('');
const triples = join(root, 'triples.jsonl');
writeFileSync(triples, Array.from({ length: 12 }, (_, i) => JSON.stringify({ query: text(i, 1), pos: [text(i, 2)], neg: [text(i, 3), text(i, 5)] })).join('\n') + '\n');
const pairs = join(root, 'pairs.jsonl');
writeFileSync(pairs, Array.from({ length: 12 }, (_, i) => JSON.stringify({ sentence1: text(i, 1), sentence2: text(i, 2), score: i % 6 })).join('\n') + '\n');

async function run(argv: string[], wiring?: Partial<Wiring>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  const { defaultWiring } = await import('../src/wiring.js');
  const code = await main(argv, { ...io, wiring: { ...defaultWiring, ...wiring } });
  return { code, stdout, stderr };
}

const never: Partial<Wiring> = {
  finetune: async () => {
    throw new Error('finetune must not start');
  },
  mine: async () => {
    throw new Error('mine must not start');
  },
};

describe('retro finetune: usage errors', () => {
  it.each([
    [['--model', modelDir, '--output', join(root, 'o1')], /exactly one of --triples, --pairs, --titles \(found none\)/],
    [['--model', modelDir, '--output', join(root, 'o2'), '--triples', triples, '--pairs', pairs], /exactly one of .* \(found --triples, --pairs\)/],
    [['--model', modelDir, '--output', join(root, 'o3'), '--pairs', pairs, '--group', '4'], /--group 4 needs --triples/],
    [['--model', join(root, 'nope'), '--output', join(root, 'o4'), '--triples', triples], /option --model: directory '.*nope' does not exist/],
    [['--model', modelDir, '--output', modelDir, '--triples', triples], /option --output: '.*model' is the same path as --model/],
    [['--model', modelDir, '--output', join(modelDir, 'ft'), '--triples', triples], /lies inside the --model folder/],
    [['--model', modelDir, '--output', join(root, 'o5'), '--triples', triples, '--temperature', '0'], /--temperature/],
    [['--model', modelDir, '--output', join(root, 'o6'), '--triples', triples, '--total-steps', '5', '--stop-at-step', '9'], /--stop-at-step \(9\) exceeds --total-steps \(5\)/],
  ])('%j', async (argv, message) => {
    const { code, stderr } = await run(['finetune', ...argv], never);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('a bad record fails before training, naming file, line and field (exit 1)', async () => {
    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, '{"query":"天地","pos":["日月"]}\n{"query":"天地","pos":"日月"}\n');
    const { code, stderr } = await run(['finetune', '--model', modelDir, '--triples', bad, '--output', join(root, 'o7'), '--no-progress']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bad\.jsonl:2: field "pos": expected an array of strings, found string "日月"/);
  });
});

describe('retro mine: usage errors', () => {
  it.each([
    [['--input', triples, '--output', join(root, 'm1.jsonl')], /exactly one of --model DIR and --bm25/],
    [['--input', triples, '--output', join(root, 'm2.jsonl'), '--bm25', '--model', modelDir], /exactly one of --model DIR and --bm25/],
    [['--input', triples, '--output', join(root, 'm3.jsonl'), '--bm25', '--range', '5-2'], /--range 5-2: TO must be larger than FROM/],
    [['--input', triples, '--output', triples, '--bm25'], /option --output: '.*triples\.jsonl' is the same path as --input/],
  ])('%j', async (argv, message) => {
    const { code, stderr } = await run(['mine', ...argv], never);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('end to end (tiny model)', () => {
  it('finetune on triples with hard negatives, gradient caching and a dev set: checkpoints, metrics, dev.jsonl, best/', async () => {
    const out = join(root, 'run-triples');
    const argv = ['finetune', '--model', modelDir, '--triples', triples, '--group', '2', '--dev', pairs, '--output', out, '--batch-size', '4', '--chunk-size', '3', '--total-steps', '4', '--eval-every', '2', '--log-every', '2', '--lr', '1e-3', '--no-progress'];
    const first = await run(argv);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    for (const f of ['checkpoint-4/model.safetensors', 'checkpoint-4/vocab.txt', 'metrics.jsonl', 'loss.svg', 'dev.jsonl', 'dev.svg', 'best/model.safetensors', 'best/best.json', 'best/vocab.txt']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'dev.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([2, 4]);
    // The saved tokenizers state the model's position table, not the 512 of the copied files.
    const positions = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8')).max_position_embeddings;
    for (const dir of ['checkpoint-4', 'best']) {
      expect(JSON.parse(readFileSync(join(out, dir, 'tokenizer_config.json'), 'utf8')).model_max_length, dir).toBe(positions);
    }
    // a second fresh run into the same folder must be asked for
    const again = await run(argv);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/pass resume to continue that run or overwriteOutputDir/);
  });

  it('finetune on scored pairs (CoSENT) with mean pooling', async () => {
    const out = join(root, 'run-pairs');
    const { code, stderr } = await run(['finetune', '--model', modelDir, '--pairs', pairs, '--pooling', 'mean', '--output', out, '--batch-size', '6', '--total-steps', '2', '--no-progress']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8'));
    expect(state.config.finetune).toMatchObject({ objective: 'cosent', pooling: 'mean', batchSize: 6 });
  });

  it('mine with BM25 writes every record with the requested negatives, none of them a positive', async () => {
    const out = join(root, 'mined.jsonl');
    const { code, stderr } = await run(['mine', '--input', triples, '--output', out, '--bm25', '--range', '1-10', '--negatives', '3']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/wrote 12 records/);
    const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(12);
    for (const r of records) {
      expect(r.neg).toHaveLength(3);
      for (const n of r.neg) expect(r.pos).not.toContain(n);
    }
    const refused = await run(['mine', '--input', triples, '--output', out, '--bm25']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/exists; pass --overwrite/);
  });

  it('mine with a model', async () => {
    const out = join(root, 'mined-model.jsonl');
    const { code } = await run(['mine', '--input', triples, '--output', out, '--model', modelDir, '--range', '2-8', '--negatives', '2']);
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(12);
  });
});
