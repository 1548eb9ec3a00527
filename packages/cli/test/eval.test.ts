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
import { main } from '@retro/cli';

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
    expect(stdout).toMatch(/^sts\s+spearman -?\d+\.\d\d$/m);
    expect(stdout).toMatch(/^reranking\s+map \d+\.\d\d {2}mrr10 \d+\.\d\d$/m);
    expect(stdout).toMatch(/^retrieval\s+ndcg10 \d+\.\d\d {2}recall10 \d+\.\d\d {2}recall100 \d+\.\d\d {2}mrr10 \d+\.\d\d$/m);
    expect(stderr).toMatch(/retro eval: retrieval \d+\/\d+ texts/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.retrieval).toMatchObject({ queries: 3, corpus: 40, ignoreIdenticalIds: true });
    expect(json.sts.pairs).toBe(12);
    // Recall@100 on a 40-document corpus finds every relevant document.
    expect(json.retrieval.recall100).toBe(100);
    expect(snapshot(modelDir)).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(['model', 'results.json', 'suite']);
  });

  it('writes MTEB-style per-task JSON into an --output folder', async () => {
    const out = join(root, 'per-task');
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', suiteDir, '--output', out, '--tasks', 'stsb,retrieval']);
    expect(code, stderr).toBe(0);
    const [sub] = readdirSync(out).filter((f) => statSync(join(out, f)).isDirectory());
    expect(readdirSync(join(out, sub!)).sort()).toEqual(['retrieval.json', 'sts.json', 'summary.json']);
    expect(JSON.parse(readFileSync(join(out, sub!, 'sts.json'), 'utf8'))).toMatchObject({ task: 'sts', scores: { pairs: 12 } });
    rmSync(out, { recursive: true });
  });

  it.each([
    [['--tasks', 'nosuchtask'], /option --tasks: unknown task 'nosuchtask'; valid tasks: sts, stsb, reranking, retrieval/],
    [['--tasks', 'retrival'], /unknown task 'retrival' \(did you mean 'retrieval'\?\)/],
    [['--output', join(root, 'missing', 'r.json')], /option --output: folder '.*missing' does not exist/],
  ])('%j is a usage error naming the option and the valid values', async (extra, message) => {
    const { code, stderr } = await run(['eval', '--model', modelDir, '--data', suiteDir, ...(extra as string[])]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
  });

  it('--help lists the task names', async () => {
    const { stdout } = await run(['eval', '--help']);
    expect(stdout).toMatch(/sts, stsb, reranking,\s+retrieval/);
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
