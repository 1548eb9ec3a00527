import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRerankingTask, loadRetrievalTask, loadStsTask, loadSuite, planRetrieval } from '../src/index.js';
import { jsonl, makeTree, removeTrees, tsv } from './helpers.js';

afterAll(removeTrees);

const beir = (extra: Record<string, string> = {}) => ({
  'retrieval/corpus.jsonl': jsonl([
    { _id: 'd1', title: '', text: '一只猫' },
    { _id: 'd2', title: 'T', text: '一只狗' },
    { _id: 3, text: '没有标题' },
  ]),
  'retrieval/queries.jsonl': jsonl([
    { _id: 'd1', text: '一只猫' },
    { _id: 'q2', text: '狗' },
    { _id: 'q3', text: '无人问津' },
  ]),
  'retrieval/qrels/test.tsv': tsv([
    ['d1', 'd2', 1],
    ['q2', 'd2', 2],
    ['q2', '3', 0],
  ]),
  ...extra,
});

describe('loaders', () => {
  it('STS JSONL: pairs, float scores, BOM and blank lines tolerated', () => {
    const root = makeTree({ 's.jsonl': '\ufeff' + jsonl([{ sentence1: 'a', sentence2: 'b', score: 2 }, { sentence1: 'c', sentence2: 'd', score: 4.5 }]) + '\n\n' });
    const t = loadStsTask(join(root, 's.jsonl'));
    expect(t.sentences1).toEqual(['a', 'c']);
    expect(t.sentences2).toEqual(['b', 'd']);
    expect(Array.from(t.gold)).toEqual([2, 4.5]);
  });

  it('STS errors name file, line and field', () => {
    const root = makeTree({
      'missing.jsonl': jsonl([{ sentence1: 'a', sentence2: 'b', score: 1 }, { sentence1: 'a', sentence2: 'b' }]),
      'bad.jsonl': '{"sentence1": "a", "sentence2": "b", "score": 1}\n{oops\n',
      'str.jsonl': jsonl([{ sentence1: 'a', sentence2: 'b', score: '3' }, { sentence1: 'a', sentence2: 'b', score: 1 }]),
      'arr.jsonl': '[1, 2]\n',
    });
    expect(() => loadStsTask(join(root, 'missing.jsonl'))).toThrow(/loadStsTask: .*missing\.jsonl:2: field "score": expected a finite number, found nothing \(missing\)/);
    expect(() => loadStsTask(join(root, 'bad.jsonl'))).toThrow(/bad\.jsonl:2: invalid JSON/);
    expect(() => loadStsTask(join(root, 'str.jsonl'))).toThrow(/str\.jsonl:1: field "score": expected a finite number, found string "3"/);
    expect(() => loadStsTask(join(root, 'arr.jsonl'))).toThrow(/arr\.jsonl:1: expected a JSON object, found array/);
    expect(() => loadStsTask(join(root, 'nope.jsonl'))).toThrow(/loadStsTask: cannot read .*nope\.jsonl/);
  });

  it('reranking JSONL: lists kept in order; a bad list entry is named by index', () => {
    const root = makeTree({
      'r.jsonl': jsonl([{ query: 'q', positive: ['p1', 'p2'], negative: ['n1'] }]),
      'bad.jsonl': jsonl([{ query: 'q', positive: ['p1', 7], negative: [] }]),
      'nolist.jsonl': jsonl([{ query: 'q', positive: 'p1', negative: [] }]),
    });
    expect(loadRerankingTask(join(root, 'r.jsonl')).instances).toEqual([{ query: 'q', positive: ['p1', 'p2'], negative: ['n1'] }]);
    expect(() => loadRerankingTask(join(root, 'bad.jsonl'))).toThrow(/bad\.jsonl:1: field "positive\[1\]": expected a string, found number 7/);
    expect(() => loadRerankingTask(join(root, 'nolist.jsonl'))).toThrow(/field "positive": expected an array of strings, found string/);
  });

  it('BEIR retrieval: corpus, queries, qrels with header; numeric ids become strings', () => {
    const root = makeTree(beir());
    const t = loadRetrievalTask(join(root, 'retrieval'));
    expect(t.corpus.map((d) => d.id)).toEqual(['d1', 'd2', '3']);
    expect(t.corpus[2]!.title).toBe('');
    expect(t.queries.map((q) => q.id)).toEqual(['d1', 'q2', 'q3']);
    expect([...t.qrels.get('q2')!]).toEqual([['d2', 2], ['3', 0]]);
    const plan = planRetrieval(t, true);
    // q3 has no qrels; nothing else is skipped. d1's own doc (index 0) is excluded only for d1.
    expect(plan.queries).toEqual([0, 1]);
    expect(plan.skipped).toBe(1);
    expect(Array.from(plan.exclude)).toEqual([0, -1]);
    expect(Array.from(planRetrieval(t, false).exclude)).toEqual([-1, -1]);
  });

  it('BEIR errors: missing file, unknown ids, bad score, wrong columns, duplicate ids', () => {
    const bad = (path: string, content: string) => join(makeTree(beir({ [path]: content })), 'retrieval');
    expect(() => loadRetrievalTask(join(makeTree({ 'x/corpus.jsonl': '' }), 'x'))).toThrow(/not a BEIR folder: missing .*queries\.jsonl/);
    expect(() => loadRetrievalTask(bad('retrieval/qrels/test.tsv', tsv([['q2', 'zz', 1]])))).toThrow(/test\.tsv:2: corpus-id "zz" is not in .*corpus\.jsonl \(pass strict: false/);
    expect(() => loadRetrievalTask(bad('retrieval/qrels/test.tsv', tsv([['qq', 'd1', 1]])))).toThrow(/test\.tsv:2: query-id "qq" is not in/);
    expect(() => loadRetrievalTask(bad('retrieval/qrels/test.tsv', tsv([['q2', 'd1', 'high']])))).toThrow(/test\.tsv:2: column "score": expected a number, found "high"/);
    expect(() => loadRetrievalTask(bad('retrieval/qrels/test.tsv', tsv([['q2', 'd1']])))).toThrow(/test\.tsv:2: expected 3 tab-separated columns/);
    expect(() => loadRetrievalTask(bad('retrieval/corpus.jsonl', jsonl([{ _id: 'd1', text: 'a' }, { _id: 'd1', text: 'b' }])))).toThrow(
      /corpus\.jsonl:2: field "_id": duplicate id "d1" \(first at line 1\)/,
    );
    expect(() => loadRetrievalTask(bad('retrieval/queries.jsonl', jsonl([{ _id: 'q2' }])))).toThrow(/queries\.jsonl:1: field "text": expected a string/);
    const lenient = loadRetrievalTask(bad('retrieval/qrels/test.tsv', tsv([['q2', 'zz', 1], ['q2', 'd2', 1]])), { strict: false });
    expect(lenient.droppedQrels).toBe(1);
    expect([...lenient.qrels.get('q2')!.keys()]).toEqual(['d2']);
  });

  it('qrels without a header line are read from line 1; other splits by name', () => {
    const root = makeTree(beir({ 'retrieval/qrels/dev.tsv': 'q2\td1\t1\n' }));
    const t = loadRetrievalTask(join(root, 'retrieval'), { split: 'dev' });
    expect([...t.qrels.keys()]).toEqual(['q2']);
    expect(t.split).toBe('dev');
  });

  it('suite: stsb/, reranking/, retrieval/ like cmteb-lite; clear errors otherwise', () => {
    const root = makeTree({
      ...beir(),
      'stsb/test.jsonl': jsonl([{ sentence1: 'a', sentence2: 'b', score: 1 }, { sentence1: 'c', sentence2: 'd', score: 2 }]),
      'stsb/train.jsonl': jsonl([{ sentence1: 'x', sentence2: 'y', score: 1 }]),
      'reranking/t2-like.jsonl': jsonl([{ query: 'q', positive: ['p'], negative: ['n'] }]),
    });
    const s = loadSuite(root);
    expect(s.sts!.sentences1).toEqual(['a', 'c']); // test.jsonl preferred over train.jsonl
    expect(s.reranking!.name).toBe('reranking/t2-like');
    expect(s.retrieval!.corpus.length).toBe(3);
    expect(Object.keys(loadSuite(root, { tasks: ['sts'] })).filter((k) => ['sts', 'reranking', 'retrieval'].includes(k))).toEqual(['sts']);

    expect(() => loadSuite(makeTree({ 'other/x.txt': '' }))).toThrow(/holds no task folder; expected one of stsb\|sts\/, reranking\/, retrieval\//);
    expect(() => loadSuite(makeTree({ 'reranking/a.jsonl': '', 'reranking/b.jsonl': '' }))).toThrow(/several \.jsonl files \(a\.jsonl, b\.jsonl\)/);
    expect(() => loadSuite(makeTree({ 'reranking/a.jsonl': jsonl([{ query: 'q', positive: [], negative: [] }]) }), { tasks: ['reranking', 'sts'] })).toThrow(
      /requested sts but found no folder stsb\|sts\//,
    );
    expect(() => loadSuite('/definitely/not/here')).toThrow(/is not a folder/);
  });
});
