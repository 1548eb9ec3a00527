/**
 * `retro eval` through the real entry point on a tiny random model and a suite with all three task
 * kinds: no crash on retrieval (issue #14 item 1), results only where --output says, never in the
 * model folder, and clear errors for unknown task names.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertForMaskedLM } from '@retro/bert';
import { buildWordPieceVocab, writeWordPieceVocab } from '@retro/data';
import { main } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const modelDir = join(root, 'model');
const suiteDir = join(root, 'suite');

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

/** Every file under dir with its size and mtime, to show a folder was left untouched. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.size} ${s.mtimeMs}`;
    });
}

const words = '天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈'.split('');
const sentence = (i: number) => Array.from({ length: 4 + (i % 5) }, (_, k) => words[(i * 7 + k * 3) % words.length]).join('');

beforeAll(async () => {
  const texts = Array.from({ length: 40 }, (_, i) => sentence(i));
  await writeWordPieceVocab(await buildWordPieceVocab(texts, { minCharFrequency: 1 }), modelDir);
  const vocab = readFileSync(join(modelDir, 'vocab.txt'), 'utf8').trim().split('\n').length;
  new BertForMaskedLM({ vocabSize: vocab, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32 }, { seed: 3 }).savePretrained(modelDir);

  mkdirSync(join(suiteDir, 'stsb'), { recursive: true });
  writeFileSync(join(suiteDir, 'stsb', 'test.jsonl'), texts.slice(0, 12).map((t, i) => JSON.stringify({ sentence1: t, sentence2: texts[i + 3], score: i % 5 })).join('\n'));
  mkdirSync(join(suiteDir, 'reranking'));
  writeFileSync(join(suiteDir, 'reranking', 'test.jsonl'), [0, 1, 2, 3].map((i) => JSON.stringify({ query: texts[i], positive: [texts[i + 10]], negative: [texts[i + 20], texts[i + 30]] })).join('\n'));
  mkdirSync(join(suiteDir, 'retrieval', 'qrels'), { recursive: true });
  writeFileSync(join(suiteDir, 'retrieval', 'corpus.jsonl'), texts.map((t, i) => JSON.stringify({ _id: `d${i}`, text: t })).join('\n'));
  writeFileSync(join(suiteDir, 'retrieval', 'queries.jsonl'), [0, 1, 2].map((i) => JSON.stringify({ _id: `q${i}`, text: sentence(i + 100) })).join('\n'));
  writeFileSync(join(suiteDir, 'retrieval', 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq0\td1\t1\nq1\td5\t1\nq2\td9\t1\n');
});

describe('retro eval', () => {
  it('runs all three task kinds (retrieval included), prints only metrics, writes only the --output file', async () => {
    const before = snapshot(modelDir);
    const out = join(root, 'results.json');
    const { code, stdout, stderr } = await run(['eval', '--model', modelDir, '--data', suiteDir, '--output', out, '--batch-size', '8']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^stsb\s+sts\s+test\s+spearman -?\d+\.\d\d$/m);
    expect(stdout).toMatch(/^reranking\s+reranking\s+test\s+map \d+\.\d\d {2}mrr10 \d+\.\d\d$/m);
    expect(stdout).toMatch(/^retrieval\s+retrieval\s+test\s+ndcg10 \d+\.\d\d {2}recall10 \d+\.\d\d {2}recall100 \d+\.\d\d {2}mrr10 \d+\.\d\d$/m);
    expect(stderr).toMatch(/retro eval: retrieval \d+\/\d+ texts/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const scores = (name: string) => json.tasks.find((t: { task: string }) => t.task === name).scores;
    expect(scores('retrieval')).toMatchObject({ queries: 3, corpus: 40, ignoreIdenticalIds: true });
    expect(scores('stsb').pairs).toBe(12);
    expect(json.model).toMatchObject({ name: modelDir, pooling: 'cls', maxLength: 32 });
    expect(json.model.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Recall@100 on a 40-document corpus finds every relevant document.
    expect(scores('retrieval').recall100).toBe(100);
    expect(snapshot(modelDir)).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(['model', 'results.json', 'suite']);
  });

  it('writes MTEB-style per-task JSON into an --output folder', async () => {
    const out = join(root, 'per-task');
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', suiteDir, '--output', out, '--tasks', 'stsb,retrieval']);
    expect(code, stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model_meta.json', 'retrieval.json', 'stsb.json']);
    const sts = JSON.parse(readFileSync(join(out, 'stsb.json'), 'utf8'));
    expect(sts).toMatchObject({ task_name: 'stsb', task_type: 'STS', model_name: modelDir, retro: { pairs: 12 } });
    expect(sts.dataset_revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(typeof sts.scores.test[0].main_score).toBe('number');
    rmSync(out, { recursive: true });
  });

  it.each([
    [['--tasks', 'nosuchtask'], /option --tasks: unknown task 'nosuchtask'; valid tasks: reranking, retrieval, stsb, sts$/m],
    [['--tasks', 'retrival'], /unknown task 'retrival' \(did you mean 'retrieval'\?\)/],
    [['--output', join(root, 'missing', 'r.json')], /option --output: folder '.*missing' does not exist/],
  ])('%j is a usage error naming the option and the valid values', async (extra, message) => {
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', suiteDir, ...(extra as string[])]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
  });

  it('--help lists the task types and their layouts', async () => {
    const { stdout } = await run(['eval', '--help']);
    expect(stdout).toMatch(/--task-type/);
    expect(stdout).toMatch(/sts, reranking,\s+retrieval/);
    expect(stdout).toMatch(/BEIR/);
  });

  it('a model whose vectors are all equal fails with a clear STS message instead of a null Spearman', async () => {
    const constant = join(root, 'constant-model');
    mkdirSync(constant);
    for (const f of readdirSync(modelDir)) writeFileSync(join(constant, f), readFileSync(join(modelDir, f)));
    const model = BertForMaskedLM.fromPretrained(constant);
    // Zero every weight but the LayerNorm biases: every position's output is the same vector.
    for (const [name, p] of model.namedParameters()) if (!/LayerNorm\.bias$/.test(name)) p.assign(new Float32Array(p.size));
    model.savePretrained(constant);
    const out = join(root, 'constant.json');
    const { code, stderr } = await run(['eval', '--model', constant, '--data', suiteDir, '--tasks', 'sts', '--output', out]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/scoreSts\(stsb\): all 12 pair similarities are .*Spearman is undefined/);
    expect(existsSync(out)).toBe(false);
    rmSync(constant, { recursive: true });
  });
});

describe('retro eval on a folder of the user\'s own tasks', () => {
  const mine = join(root, 'my-tasks');
  beforeAll(() => {
    const texts = Array.from({ length: 40 }, (_, i) => sentence(i));
    const pairs = (offset: number) => texts.slice(0, 8).map((t, i) => JSON.stringify({ sentence1: t, sentence2: texts[i + offset], score: i % 4 })).join('\n');
    mkdirSync(join(mine, 'ATEC'), { recursive: true });
    writeFileSync(join(mine, 'ATEC', 'test.jsonl'), pairs(2));
    writeFileSync(join(mine, 'ATEC', 'dev.jsonl'), pairs(5));
    writeFileSync(join(mine, 'LCQMC.jsonl'), pairs(7));
    mkdirSync(join(mine, 'T2Reranking'));
    writeFileSync(join(mine, 'T2Reranking', 'test.jsonl'), [0, 1, 2].map((i) => JSON.stringify({ query: texts[i], positive: [texts[i + 10]], negative: [texts[i + 20]] })).join('\n'));
    mkdirSync(join(mine, 'SciFact', 'qrels'), { recursive: true });
    writeFileSync(join(mine, 'SciFact', 'corpus.jsonl'), texts.map((t, i) => JSON.stringify({ _id: `d${i}`, title: '', text: t })).join('\n'));
    writeFileSync(join(mine, 'SciFact', 'queries.jsonl'), [0, 1].map((i) => JSON.stringify({ _id: `q${i}`, text: sentence(i + 50) })).join('\n'));
    writeFileSync(join(mine, 'SciFact', 'qrels', 'test.tsv'), 'q0\td3\t1\nq1\td4\t1\n');
  });

  it('detects each task\'s type, prints a line per task and writes one MTEB file per task', async () => {
    const out = join(root, 'mine-results');
    const { code, stdout, stderr } = await run(['eval', '--model', modelDir, '--data', mine, '--output', out, '--batch-size', '16']);
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'ATEC sts test',
      'LCQMC sts test',
      'SciFact retrieval test',
      'T2Reranking reranking test',
    ]);
    expect(readdirSync(out).sort()).toEqual(['ATEC.json', 'LCQMC.json', 'SciFact.json', 'T2Reranking.json', 'model_meta.json']);
    const sci = JSON.parse(readFileSync(join(out, 'SciFact.json'), 'utf8'));
    expect(sci).toMatchObject({ task_name: 'SciFact', task_type: 'Retrieval', retro: { queries: 2, corpus: 40 } });
    expect(Object.keys(sci.scores)).toEqual(['test']);
    expect(sci.scores.test[0].main_score).toBe(sci.scores.test[0].ndcg_at_10);
    const stdoutScore = Number(/^SciFact\s+retrieval\s+test\s+ndcg10 (-?\d+\.\d\d)/m.exec(stdout)![1]);
    expect(sci.scores.test[0].main_score * 100).toBeCloseTo(stdoutScore, 2);
  });

  it('--split, --tasks by name or type, and --task-type', async () => {
    // A task folder given directly is one task; --split picks its file.
    const dev = await run(['eval', '--model', modelDir, '--data', join(mine, 'ATEC'), '--task-type', 'sts', '--split', 'dev']);
    expect(dev.code, dev.stderr).toBe(0);
    expect(dev.stdout).toMatch(/^ATEC\s+sts\s+dev\s+spearman -?\d+\.\d\d$/m);
    expect(dev.stdout.trim().split('\n')).toHaveLength(1);
    const picked = await run(['eval', '--model', modelDir, '--data', mine, '--tasks', 'reranking,LCQMC']);
    expect(picked.code, picked.stderr).toBe(0);
    expect(picked.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['LCQMC', 'T2Reranking']);
    // A given type applies to the JSONL tasks (BEIR folders stay retrieval); a file of another layout fails on its fields.
    const wrongType = await run(['eval', '--model', modelDir, '--data', mine, '--task-type', 'reranking', '--tasks', 'LCQMC']);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toMatch(/LCQMC\.jsonl:1: field "query"/);
    const beirOnly = await run(['eval', '--model', modelDir, '--data', mine, '--task-type', 'retrieval']);
    expect(beirOnly.code).toBe(2);
    expect(beirOnly.stderr).toMatch(/option --data: .*ATEC is no BEIR folder: missing corpus\.jsonl, queries\.jsonl/);
  });

  it.each([
    [['--tasks', 'SciFakt'], 2, /option --tasks: unknown task 'SciFakt' \(did you mean 'SciFact'\?\); valid tasks: ATEC, LCQMC, SciFact, T2Reranking, sts, reranking, retrieval/],
    [['--split', 'dev'], 2, /option --data: .*SciFact: BEIR folder without qrels\/dev\.tsv/],
    [['--task-type', 'bogus'], 2, /--task-type/],
  ])('%j fails clearly', async (extra, exitCode, message) => {
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', mine, ...(extra as string[])]);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message as RegExp);
  });

  it('a folder that fits no layout is a usage error listing the layouts', async () => {
    const odd = join(root, 'odd-tasks');
    mkdirSync(join(odd, 'pairs'), { recursive: true });
    writeFileSync(join(odd, 'pairs', 'test.jsonl'), JSON.stringify({ text_a: 'x', text_b: 'y', label: 1 }));
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', odd]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/option --data: .*pairs\/test\.jsonl: cannot tell the task type from the fields "text_a", "text_b", "label"; expected one of: sts: .*reranking: .*retrieval: a BEIR folder/);
  });
});

describe('retro embed on an HF encoder-only folder (no MLM head)', () => {
  it('embeds with the bare BertModel fixture and matches its float64 CLS reference', async () => {
    const fixture = join(__dirname, '..', '..', '..', 'test-fixtures', 'hf-encoder', 'bert-model');
    const { texts } = JSON.parse(readFileSync(join(fixture, 'inputs.json'), 'utf8')) as { texts: string[] };
    const input = join(root, 'hf-texts.txt');
    writeFileSync(input, `${texts.join('\n')}\n`);
    const out = join(root, 'hf-vectors.jsonl');
    const { code, stderr } = await run(['embed', '--model', fixture, '--input', input, '--output', out]);
    expect(code, stderr).toBe(0);
    const got = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).embedding as number[]);
    // expected.safetensors: 8-byte header length, JSON header, F32 data
    const bytes = readFileSync(join(fixture, 'expected.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const entry = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')).sentence_embedding_cls_normalized as { data_offsets: [number, number] };
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + entry.data_offsets[0], bytes.byteOffset + 8 + n + entry.data_offsets[1]));
    got.forEach((row, r) => row.forEach((v, c) => expect(Math.abs(v - data[r * 32 + c]!)).toBeLessThan(1e-5)));
    rmSync(out);
    rmSync(input);
  });
});
