import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PairStream, TripleStream, parseScoredPairs, parseTriples, readScoredPairs, readTitlePairs, readTriples } from '../src/index.js';
import { tempDir } from '../../../test-support/tiny-bert.js';

function file(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

describe('readers name file, line and field', () => {
  it('triples: FlagEmbedding layout, neg optional', () => {
    const path = file('t.jsonl', '{"query":"q1","pos":["p1"],"neg":["n1","n2"]}\n\n{"query":"q2","pos":["p2","p3"]}\n');
    expect(readTriples(path)).toEqual([
      { query: 'q1', pos: ['p1'], neg: ['n1', 'n2'] },
      { query: 'q2', pos: ['p2', 'p3'], neg: [] },
    ]);
  });
  it.each([
    ['{"query":"q","pos":[]}', /t\.jsonl:1: field "pos": expected at least one positive/],
    ['{"query":"q","pos":["p"],"neg":["n",3]}', /t\.jsonl:1: field "neg\[1\]": expected a string, found number 3/],
    ['{"pos":["p"]}', /t\.jsonl:1: field "query": expected a string, found nothing \(missing\)/],
    ['{"query":" ","pos":["p"]}', /field "query": expected a non-empty string/],
    ['{"query":"q","pos":["p"]', /t\.jsonl:1: invalid JSON/],
  ])('triples: %s', (line, error) => {
    expect(() => readTriples(file('t.jsonl', `${line}\n`))).toThrow(error);
  });
  it('scored pairs: score must be a finite number; the line is counted in the file', () => {
    const path = file('p.jsonl', '{"sentence1":"a","sentence2":"b","score":4.5}\n{"sentence1":"a","sentence2":"b","score":"4"}\n');
    expect(() => readScoredPairs(path)).toThrow(/p\.jsonl:2: field "score": expected a finite number, found string "4"/);
    expect(() => readScoredPairs(file('e.jsonl', '\n'))).toThrow(/e\.jsonl: no records/);
  });
  it('parse*: the same records and errors from text in memory (a browser\'s dropped file), a BOM dropped', () => {
    const triples = '\ufeff{"query":"q1","pos":["p1"],"neg":["n1"]}\n{"query":"q2","pos":["p2"]}\n';
    expect(parseTriples(triples, 'drop/t.jsonl')).toEqual(readTriples(file('t.jsonl', triples)));
    expect(() => parseTriples('{"query":"q","pos":[]}\n', 'drop/t.jsonl')).toThrow(/drop\/t\.jsonl:1: field "pos": expected at least one positive/);
    const pairs = '{"sentence1":"a","sentence2":"b","score":4.5}\n';
    expect(parseScoredPairs(pairs, 'p.jsonl')).toEqual([{ sentence1: 'a', sentence2: 'b', score: 4.5 }]);
    expect(() => parseScoredPairs('{"sentence1":"a","sentence2":"b"}\n', 'drop/p.jsonl')).toThrow(/drop\/p\.jsonl:1: field "score": expected a finite number, found nothing/);
  });
  it('title pairs: news only by default, short titles dropped, a repeated headline cut from the content', async () => {
    const records = [
      { id: 0, dataType: '新闻', title: '兰德尔说那是一台激光平地机', content: '兰德尔说那是一台激光平地机，他们就是靠它将地面找平。' },
      { id: 1, dataType: '评论', title: '水果很好吃吃吃吃', content: '还行吧。' },
      { id: 2, dataType: '新闻', title: '短标题', content: '正文。' },
      { id: 3, dataType: '新闻', title: '北京今日迎来降雪天气', content: '据气象台消息，北京今天下雪。' },
    ];
    const path = file('part-000.json', `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
    expect(await readTitlePairs([path])).toEqual([
      { query: '兰德尔说那是一台激光平地机', pos: ['他们就是靠它将地面找平。'], neg: [] },
      { query: '北京今日迎来降雪天气', pos: ['据气象台消息，北京今天下雪。'], neg: [] },
    ]);
    expect(await readTitlePairs([path], { dataTypes: [], maxPairs: 2 })).toHaveLength(2);
  });
});

describe('batch streams', () => {
  const triples = Array.from({ length: 7 }, (_, i) => ({ query: `q${i}`, pos: [`p${i}`, `P${i}`], neg: [`n${i}a`, `n${i}b`, `n${i}c`] }));

  it('groups: positive of the query first, then its own negatives; every query once per epoch; partial batch dropped', () => {
    const stream = new TripleStream(triples, { batchSize: 3, group: 3, seed: 1, queryInstruction: '问：', countTokens: (t) => t.length });
    const first = stream.next()!;
    const second = stream.next()!;
    const seen = [...first.queries, ...second.queries];
    expect(new Set(seen).size).toBe(6);
    first.queries.forEach((q, b) => {
      const i = Number(q.slice('问：q'.length));
      expect(q.startsWith('问：')).toBe(true);
      expect([`p${i}`, `P${i}`]).toContain(first.passages[b * 3]);
      const negs = first.passages.slice(b * 3 + 1, b * 3 + 3);
      expect(new Set(negs).size).toBe(2);
      for (const n of negs) expect(triples[i].neg).toContain(n);
    });
    // tokens counts every query (with its instruction) and passage
    expect(first.tokens).toBe([...first.queries, ...first.passages].reduce((n, t) => n + t.length, 0));
    expect(stream.state()).toEqual({ epoch: 0, position: 6 });
    stream.next(); // 1 left over: a new epoch starts
    expect(stream.state()).toEqual({ epoch: 1, position: 3 });
  });

  it('restore(state()) continues with the very next batch', () => {
    const a = new TripleStream(triples, { batchSize: 2, group: 2, seed: 5, countTokens: (t) => t.length });
    for (let i = 0; i < 5; i++) a.next();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const expected = [a.next(), a.next(), a.next()];
    const b = new TripleStream(triples, { batchSize: 2, group: 2, seed: 5, countTokens: (t) => t.length });
    b.restore(saved);
    expect([b.next(), b.next(), b.next()]).toEqual(expected);
    expect(() => b.restore({ epoch: 0, position: 99 })).toThrow(/0 <= position <= 7/);
  });

  it('refuses a group larger than 1 without listed negatives, and a batch the data cannot fill', () => {
    expect(() => new TripleStream([{ query: 'q', pos: ['p'], neg: [] }], { batchSize: 1, group: 2, seed: 0, countTokens: (t) => t.length })).toThrow(/lists none; use group 1 or mine/);
    expect(() => new PairStream([{ sentence1: 'a', sentence2: 'b', score: 1 }], { batchSize: 2, seed: 0, countTokens: (t) => t.length })).toThrow(/1 examples cannot fill one batch of 2/);
  });
});
