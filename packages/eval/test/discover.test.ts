/**
 * Any folder of tasks: discovery and type detection from tiny generated folders, clear errors, and
 * MTEB-style per-task results scored with an embedder whose answers are known by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectJsonlTaskKind, discoverTasks, evaluateTasks, taskRevision, writeMtebResults, type TaskEntry } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-discover-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
/** A fresh folder holding `files` (path -> contents; objects become JSONL lines). */
function folder(files: Record<string, string | object[]>): string {
  const dir = join(root, `tasks-${folders++}`);
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), typeof contents === 'string' ? contents : contents.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Texts name their vector: 'v:x,y' embeds to [x, y], so every similarity is known by hand. */
const embed = (texts: string[]) => texts.map((t) => t.slice(2).split(',').map(Number));
const at = (degrees: number) => `v:${Math.cos((degrees * Math.PI) / 180)},${Math.sin((degrees * Math.PI) / 180)}`;

// STS: the angle between the two sentences shrinks as the gold score grows -> Spearman exactly 100.
const sts = [0, 1, 2, 3, 4].map((score) => ({ sentence1: at(0), sentence2: at(80 - score * 15), score }));
// Reranking: the positive sits next to the query, the negatives far away -> MAP 100, MRR@10 100.
const reranking = [0, 30].map((q) => ({ query: at(q), positive: [at(q + 5)], negative: [at(q + 90), at(q + 120)] }));
// Retrieval: each query points at one document; d1 is the closest to q0, d3 to q1 -> nDCG@10 100.
const corpus = [0, 40, 80, 120].map((deg, i) => ({ _id: `d${i}`, text: at(deg) }));
const queries = [{ _id: 'q0', text: at(42) }, { _id: 'q1', text: at(118) }];
const qrels = 'query-id\tcorpus-id\tscore\nq0\td1\t1\nq1\td3\t1\n';

describe('discoverTasks', () => {
  it('finds sub-folder tasks, BEIR folders and loose .jsonl files, with types read from the fields', () => {
    const dir = folder({
      'ATEC/test.jsonl': sts,
      'ATEC/dev.jsonl': sts.slice(0, 3),
      'T2Reranking/test.jsonl': reranking,
      'SciFact/corpus.jsonl': corpus,
      'SciFact/queries.jsonl': queries,
      'SciFact/qrels/test.tsv': qrels,
      'LooseSTS.jsonl': sts,
      'README.md': 'not a task',
      '.cache/whatever.jsonl': 'hidden entries are skipped',
    });
    const found = discoverTasks(dir);
    expect(found.map((t) => [t.name, t.kind, t.split, t.kindFrom])).toEqual([
      ['ATEC', 'sts', 'test', 'detected'],
      ['LooseSTS', 'sts', 'test', 'detected'],
      ['SciFact', 'retrieval', 'test', 'detected'],
      ['T2Reranking', 'reranking', 'test', 'detected'],
    ]);
    expect(found[2]!.files.map((f) => f.slice(dir.length))).toEqual(['/SciFact/corpus.jsonl', '/SciFact/queries.jsonl', '/SciFact/qrels/test.tsv']);
    const loaded = found[0]!.load();
    expect(loaded.kind === 'sts' && loaded.gold.length).toBe(5);
    // The split picks <split>.jsonl; a BEIR folder without that split says which qrels exist.
    expect(() => discoverTasks(dir, { split: 'dev' })).toThrow(/SciFact: BEIR folder without qrels\/dev\.tsv \(qrels\/ holds test\.tsv/);
    const dev = discoverTasks(folder({ 'ATEC/test.jsonl': sts, 'ATEC/dev.jsonl': sts.slice(0, 3) }), { split: 'dev' });
    expect(dev.map((t) => [t.name, t.split, t.files[0]!.endsWith('dev.jsonl')])).toEqual([['ATEC', 'dev', true]]);
  });

  it('takes a BEIR folder or a JSONL task folder given directly as one task named after it', () => {
    const dir = join(folder({ 'NFCorpus/corpus.jsonl': corpus, 'NFCorpus/queries.jsonl': queries, 'NFCorpus/qrels/test.tsv': qrels }), 'NFCorpus');
    expect(discoverTasks(dir).map((t) => [t.name, t.kind])).toEqual([['NFCorpus', 'retrieval']]);
    const atec = join(folder({ 'ATEC/test.jsonl': sts, 'ATEC/dev.jsonl': sts.slice(0, 3) }), 'ATEC');
    expect(discoverTasks(atec).map((t) => [t.name, t.kind, t.split])).toEqual([['ATEC', 'sts', 'test']]);
    expect(discoverTasks(atec, { split: 'dev' }).map((t) => [t.name, t.kind, t.split])).toEqual([['ATEC', 'sts', 'dev']]);
  });

  it('a given type skips detection: the loader of that type names the field the file lacks', () => {
    const dir = folder({ 'mine/test.jsonl': sts });
    const [entry] = discoverTasks(dir, { taskType: 'reranking' });
    expect([entry!.kind, entry!.kindFrom]).toEqual(['reranking', 'given']);
    expect(() => entry!.load()).toThrow(/mine\/test\.jsonl:1: field "query"/);
    expect(() => discoverTasks(dir, { taskType: 'retrieval' })).toThrow(/mine is no BEIR folder: missing corpus\.jsonl, queries\.jsonl/);
    // BEIR folders are retrieval whatever type is given for the JSONL tasks beside them.
    const mixed = folder({ 'a/test.jsonl': sts, 'b/corpus.jsonl': corpus, 'b/queries.jsonl': queries, 'b/qrels/test.tsv': qrels });
    expect(discoverTasks(mixed, { taskType: 'sts' }).map((t) => [t.name, t.kind, t.kindFrom])).toEqual([['a', 'sts', 'given'], ['b', 'retrieval', 'detected']]);
    expect(() => discoverTasks(dir, { taskType: 'bogus' as never })).toThrow(/unknown task type 'bogus'; valid types: sts, reranking, retrieval/);
  });

  it.each([
    [{ 'x/test.jsonl': [{ text1: 'a', text2: 'b', label: 1 }] }, /x\/test\.jsonl: cannot tell the task type from the fields "text1", "text2", "label"; expected one of: sts: .*sentence1.*reranking: .*query.*retrieval: a BEIR folder/],
    [{ 'x/corpus.jsonl': corpus }, /x\/corpus\.jsonl looks like a BEIR corpus or queries file; a retrieval task is the folder holding corpus\.jsonl, queries\.jsonl and qrels/],
    [{ 'x/a.jsonl': sts, 'x/b.jsonl': sts }, /x holds several \.jsonl files \(a\.jsonl, b\.jsonl\) and no test\.jsonl; name the split/],
    [{ 'x/notes.txt': 'hello' }, /x holds no \.jsonl file and is no BEIR folder; expected one of: sts:/],
    [{ 'notes.txt': 'hello' }, /holds no task; expected sub-folders or \.jsonl files, one per task: sts:/],
    [{ 'x/test.jsonl': '' }, /x\/test\.jsonl is empty/],
    [{ 'dup/test.jsonl': sts, 'dup.jsonl': sts }, /two tasks are named 'dup'/],
  ])('refuses a folder that fits no layout, naming it and the layouts (%#)', (files, message) => {
    expect(() => discoverTasks(folder(files as Record<string, string | object[]>))).toThrow(message);
  });

  it('detectJsonlTaskKind reads the first record only', () => {
    const dir = folder({ 'a.jsonl': [...reranking, { anything: 1 }] });
    expect(detectJsonlTaskKind(join(dir, 'a.jsonl'))).toBe('reranking');
  });
});

describe('evaluateTasks and MTEB-style results', () => {
  const dir = folder({
    'ATEC/test.jsonl': sts,
    'Reversed.jsonl': sts.map((p) => ({ ...p, score: 4 - p.score })),
    'T2Reranking/test.jsonl': reranking,
    'SciFact/corpus.jsonl': corpus,
    'SciFact/queries.jsonl': queries,
    'SciFact/qrels/test.tsv': qrels,
  });

  it('scores every task with the hand-known values and writes one MTEB file per task', async () => {
    const progress = new Set<string>();
    const seen: string[] = [];
    const run = await evaluateTasks(discoverTasks(dir), { name: 'angles', embed }, { data: dir, onProgress: (p) => progress.add(p.task), onTask: (t) => seen.push(t.task) });
    const byName = Object.fromEntries(run.tasks.map((t) => [t.task, t]));
    expect(byName.ATEC).toMatchObject({ kind: 'sts', split: 'test', mainMetric: 'spearman', scores: { pairs: 5 } });
    expect(byName.ATEC!.mainScore).toBeCloseTo(100, 10);
    expect(byName.Reversed!.mainScore).toBeCloseTo(-100, 10);
    expect(byName.T2Reranking!.scores).toMatchObject({ map: 100, mrr10: 100, queries: 2 });
    expect(byName.SciFact!.scores).toMatchObject({ ndcg10: 100, mrr10: 100, recall10: 100, queries: 2, corpus: 4 });
    expect(seen).toEqual(['ATEC', 'Reversed', 'SciFact', 'T2Reranking']);
    expect([...progress].sort()).toEqual(seen);

    const out = join(root, 'mteb');
    const written = writeMtebResults(out, run, { name: 'angles-model', revision: 'sha256:abc', pooling: 'cls' });
    expect(readdirSync(out).sort()).toEqual(['ATEC.json', 'Reversed.json', 'SciFact.json', 'T2Reranking.json', 'model_meta.json']);
    expect(written).toHaveLength(5);
    const atec = JSON.parse(readFileSync(join(out, 'ATEC.json'), 'utf8'));
    expect(atec).toMatchObject({ task_name: 'ATEC', task_type: 'STS', model_name: 'angles-model', model_revision: 'sha256:abc', retro: { pairs: 5, main_metric: 'spearman' } });
    expect(atec.dataset_revision).toBe(taskRevision(discoverTasks(dir)[0]!));
    expect(atec.dataset_revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    // MTEB reports fractions.
    expect(atec.scores.test[0].main_score).toBeCloseTo(1, 10);
    expect(atec.scores.test[0].cosine_spearman).toBeCloseTo(1, 10);
    const sci = JSON.parse(readFileSync(join(out, 'SciFact.json'), 'utf8'));
    expect(sci).toMatchObject({ task_type: 'Retrieval', scores: { test: [{ main_score: 1, ndcg_at_10: 1, recall_at_100: 1, mrr_at_10: 1, hf_subset: 'default' }] }, retro: { queries: 2, corpus: 4 } });
    const rerank = JSON.parse(readFileSync(join(out, 'T2Reranking.json'), 'utf8'));
    expect(rerank.scores.test[0]).toMatchObject({ main_score: 1, map: 1, mrr_at_10: 1 });
    const meta = JSON.parse(readFileSync(join(out, 'model_meta.json'), 'utf8'));
    expect(meta).toMatchObject({ name: 'angles-model', revision: 'sha256:abc', pooling: 'cls', embedder: 'angles' });
    expect(meta.tasks.map((t: { task: string }) => t.task)).toEqual(seen);
  });

  it('the dataset revision changes with the data and not otherwise', () => {
    const entry = (): TaskEntry => discoverTasks(dir).find((t) => t.name === 'SciFact')!;
    const before = taskRevision(entry());
    expect(taskRevision(entry())).toBe(before);
    writeFileSync(join(dir, 'SciFact', 'qrels', 'test.tsv'), qrels.replace('q1\td3', 'q1\td2'));
    expect(taskRevision(entry())).not.toBe(before);
    writeFileSync(join(dir, 'SciFact', 'qrels', 'test.tsv'), qrels);
    expect(taskRevision(entry())).toBe(before);
  });

  it('refuses a task whose file name would replace model_meta.json', async () => {
    const clash = folder({ 'model_meta.jsonl': sts });
    const run = await evaluateTasks(discoverTasks(clash), embed);
    expect(() => writeMtebResults(join(root, 'clash-out'), run, { name: 'm', revision: null })).toThrow(/a task named 'model_meta' would overwrite model_meta\.json/);
  });
});
