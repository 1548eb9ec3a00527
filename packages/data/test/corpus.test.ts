import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CorpusError,
  Utf8EscapeDecoder,
  describeIllFormed,
  detectFormat,
  readDocuments,
  type CorpusDocument,
  type CorpusIssue,
  type ReadOptions,
} from '../src/corpus/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'retro-corpus-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(name: string, content: string | Buffer): string {
  const p = join(dir, `${fileNo++}-${name}`);
  writeFileSync(p, content);
  return p;
}

async function readAll(paths: string | string[], options: ReadOptions = {}) {
  const issues: CorpusIssue[] = [];
  const reader = readDocuments(paths, { ...options, onIssue: (i) => issues.push(i) });
  const docs: CorpusDocument[] = [];
  for await (const d of reader) docs.push(d);
  return { docs, issues, summary: reader.summary };
}

const wudaoRecord = (id: number, content: string, title = 't') => ({
  id,
  uniqueKey: 'u' + id,
  titleUkey: 'k',
  dataType: '评论',
  title,
  content,
});

describe('readDocuments: well-formed input', () => {
  it('reads a WuDao JSON array with all fields and source positions', async () => {
    const recs = [wudaoRecord(0, '还行吧，就是发货慢。'), wudaoRecord(1, '很好！', '水果'), wudaoRecord(2, 'Hello 世界')];
    const p = file('a.json', '[\n' + recs.map((r) => JSON.stringify(r)).join(',\n') + '\n]\n');
    const { docs, issues, summary } = await readAll(p);
    expect(issues).toEqual([]);
    expect(docs).toEqual([
      { text: '还行吧，就是发货慢。', title: 't', id: 0, dataType: '评论', source: { file: p, index: 0 } },
      { text: '很好！', title: '水果', id: 1, dataType: '评论', source: { file: p, index: 1 } },
      { text: 'Hello 世界', title: 't', id: 2, dataType: '评论', source: { file: p, index: 2 } },
    ]);
    expect(summary).toMatchObject({ files: 1, filesFailed: 0, records: 3, documents: 3, skipped: 0, empty: 0 });
    expect(summary.bytes).toBe(statSync(p).size);
  });

  const sample = resolve(fileURLToPath(new URL('../../../../shared/corpus/sample.json', import.meta.url)));
  // ../shared sits beside the repo in CI, not on every clone: say so instead of failing.
  it.skipIf(!existsSync(sample))(`reads the shared sample file (50 documents, WuDao format)${existsSync(sample) ? '' : ` - SKIPPED: ${sample} not found (../shared is not beside this clone)`}`, async () => {
    const { docs, summary } = await readAll(sample, { hash: true });
    expect(summary.documents).toBe(50);
    expect(docs.every((d) => typeof d.id === 'number' && d.text.length > 0)).toBe(true);
    expect(summary.byFile[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads JSONL (text or content field) and plain text, CRLF and blank lines', async () => {
    const jl = file('b.jsonl', '{"text":"一"}\r\n\n{"content":"二","title":"T","id":"x7"}\n   \n{"text":"三"}');
    const { docs } = await readAll(jl);
    expect(docs.map((d) => [d.text, d.source.index, d.title, d.id])).toEqual([
      ['一', 0, undefined, undefined],
      ['二', 2, 'T', 'x7'],
      ['三', 4, undefined, undefined],
    ]);
    const txt = file('c.txt', '\uFEFF第一行\r\n\n第二行\n');
    const t = await readAll(txt);
    expect(t.docs.map((d) => [d.text, d.source.index])).toEqual([
      ['第一行', 0],
      ['第二行', 2],
    ]);
    expect(t.summary.records).toBe(2);
  });

  it('detects formats from extension and content', async () => {
    expect(await detectFormat(file('x.json', ' \n[{"content":"a"}]'))).toBe('wudao');
    expect(await detectFormat(file('x.json', '{"content":"a"}\n{"content":"b"}\n'))).toBe('jsonl');
    expect(await detectFormat(file('x.json', '{\n "a": 1\n}\n'))).toBe('wudao'); // reported as not-array
    expect(await detectFormat(file('x.jsonl', '[1]'))).toBe('jsonl');
    expect(await detectFormat(file('x.txt', '[1]'))).toBe('text');
    expect(await detectFormat(file('x.data', '普通文本'))).toBe('text');
    expect(await detectFormat(file('x.data', '\uFEFF[{"content":"a"}]'))).toBe('wudao');
  });

  it('counts empty-content records separately and does not yield them', async () => {
    const p = file('e.json', JSON.stringify([wudaoRecord(0, ''), wudaoRecord(1, '  '), wudaoRecord(2, '好')]));
    const { docs, summary } = await readAll(p);
    expect(docs.map((d) => d.text)).toEqual(['好']);
    expect(summary).toMatchObject({ records: 3, documents: 1, empty: 2, skipped: 0 });
  });

  it('gives the same documents for any read chunk size (multi-byte chars split across chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        async (contents, chunkBytes) => {
          const kept = contents.filter((c) => c.trim().length > 0);
          const p = file('prop.json', JSON.stringify(contents.map((c, i) => wudaoRecord(i, c))));
          const { docs } = await readAll(p, { chunkBytes });
          expect(docs.map((d) => d.text)).toEqual(kept);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('readDocuments: malformed input', () => {
  const good = (i: number) => JSON.stringify(wudaoRecord(i, `内容${i}`));

  it('truncated WuDao file: keeps complete records, reports the broken one by file and index', async () => {
    const p = file('trunc.json', `[${good(0)},${good(1)},{"id":2,"content":"半截`);
    const { docs, issues, summary } = await readAll(p, { chunkBytes: 16 });
    expect(docs.map((d) => d.source.index)).toEqual([0, 1]);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'truncated', file: p, index: 2, fatalToFile: true });
    expect(summary).toMatchObject({ filesFailed: 1, documents: 2 });
    await expect(readAll(p, { onError: 'fail' })).rejects.toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record 2: truncated`));
  });

  it('syntax error mid-array: records before it survive, the error names the element', async () => {
    const p = file('syntax.json', `[${good(0)},${good(1)},{"id":2, content: "x"},${good(3)}]`);
    const { docs, issues } = await readAll(p);
    expect(docs.map((d) => d.source.index)).toEqual([0, 1]);
    expect(issues[0]).toMatchObject({ kind: 'syntax', index: 2, fatalToFile: true });
  });

  it('wrong field types and non-object elements are skipped (or fatal with onError fail)', async () => {
    const p = file(
      'types.json',
      `[${good(0)},{"id":1,"content":42},{"id":2,"title":["x"],"content":"a"},7,{"id":{"a":1},"content":"b"},{"title":"no content"},${good(6)}]`,
    );
    const { docs, issues, summary } = await readAll(p);
    expect(docs.map((d) => d.source.index)).toEqual([0, 6]);
    expect(issues.map((i) => [i.kind, i.index])).toEqual([
      ['schema', 1],
      ['schema', 2],
      ['schema', 3],
      ['schema', 4],
      ['schema', 5],
    ]);
    expect(issues[0].message).toMatch(/content: expected string, found number/);
    expect(issues[1].message).toMatch(/title: expected string, found array/);
    expect(issues[2].message).toMatch(/expected an object, found number/);
    expect(issues[4].message).toMatch(/missing field content/);
    expect(summary).toMatchObject({ records: 7, documents: 2, skipped: 5, filesFailed: 0 });
    const err = await readAll(p, { onError: 'fail' }).catch((e) => e);
    expect(err).toBeInstanceOf(CorpusError);
    expect(err).toMatchObject({ kind: 'schema', file: p, index: 1 });
  });

  it('invalid UTF-8 inside one record: that record is reported, the others are read', async () => {
    const head = Buffer.from(`[${good(0)},{"id":1,"content":"坏`);
    const bad = Buffer.from([0xe5, 0x28, 0xff]); // broken 3-byte sequence + an impossible byte
    const tail = Buffer.from(`字"},${good(2)}]`);
    const p = file('utf8.json', Buffer.concat([head, bad, tail]));
    for (const chunkBytes of [1, 3, 1 << 20]) {
      const { docs, issues } = await readAll(p, { chunkBytes });
      expect(docs.map((d) => d.source.index)).toEqual([0, 2]);
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ kind: 'invalid-utf8', file: p, index: 1, fatalToFile: false });
      expect(issues[0].message).toMatch(/invalid UTF-8 byte 0xE5/);
    }
  });

  it('invalid UTF-8 in JSONL and text lines; a truncated last JSONL line; broken JSONL lines', async () => {
    const jl = file(
      'bad.jsonl',
      Buffer.concat([
        Buffer.from('{"text":"好"}\n{"text":"'),
        Buffer.from([0xc3]),
        Buffer.from('"}\n{bad json}\n{"text":"末"}\n{"text":"截'),
      ]),
    );
    const r = await readAll(jl);
    expect(r.docs.map((d) => d.text)).toEqual(['好', '末']);
    expect(r.issues.map((i) => [i.kind, i.index])).toEqual([
      ['invalid-utf8', 1],
      ['syntax', 2],
      ['truncated', 4],
    ]);
    const txt = file('bad.txt', Buffer.concat([Buffer.from('一\n二'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('\n三\n')]));
    const t = await readAll(txt);
    expect(t.docs.map((d) => d.text)).toEqual(['一', '三']);
    expect(t.issues[0]).toMatchObject({ kind: 'invalid-utf8', index: 1 });
  });

  it('a JSON object file (e.g. manifest.json) is not a WuDao array; missing files are io errors', async () => {
    const obj = file('manifest.json', '{\n "format": "x"\n}\n');
    const missing = join(dir, 'does-not-exist.json');
    const ok = file('ok.json', `[${good(0)}]`);
    const { docs, issues, summary } = await readAll([obj, missing, ok]);
    expect(docs).toHaveLength(1);
    expect(issues.map((i) => [i.kind, i.file])).toEqual([
      ['not-array', obj],
      ['io', missing],
    ]);
    expect(summary).toMatchObject({ files: 3, filesFailed: 2, documents: 1 });
    await expect(readAll([missing], { onError: 'fail' })).rejects.toBeInstanceOf(CorpusError);
  });

  it('an empty file and trailing garbage are reported', async () => {
    const empty = file('empty.json', '');
    const r1 = await readAll(empty, { format: 'wudao' });
    expect(r1.issues[0]).toMatchObject({ kind: 'truncated', index: 0 });
    const trailing = file('trail.json', `[${good(0)}] x`);
    const r2 = await readAll(trailing);
    expect(r2.docs).toHaveLength(1);
    expect(r2.issues[0]).toMatchObject({ kind: 'syntax', index: 1 });
  });

  it('rejects bad options', () => {
    expect(() => readDocuments('x', { onError: 'ignore' as never })).toThrow(/onError/);
    expect(() => readDocuments('x', { format: 'csv' as never })).toThrow(/format/);
  });
});

describe('Utf8EscapeDecoder', () => {
  it('decodes valid UTF-8 exactly for any chunking', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }), (s, cuts) => {
        const bytes = Buffer.from(s, 'utf8');
        const d = new Utf8EscapeDecoder(false);
        let out = '';
        let pos = 0;
        let k = 0;
        while (pos < bytes.length) {
          const n = cuts[k++ % cuts.length];
          out += d.write(bytes.subarray(pos, pos + n));
          pos += n;
        }
        out += d.end();
        expect(out).toBe(Buffer.from(s, 'utf8').toString('utf8'));
        expect(d.invalidBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('escapes each invalid byte as U+DC80+byte and agrees with TextDecoder on what is invalid', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const d = new Utf8EscapeDecoder(false);
        const out = d.write(bytes) + d.end();
        let valid = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          valid = false;
        }
        expect(describeIllFormed(out) === null).toBe(valid);
        // Replacing each escape by U+FFFD gives a string whose valid parts match the lenient decoder's.
        const stripped = out.replace(/[\uDC80-\uDCFF]/g, '');
        const lenient = new TextDecoder('utf-8').decode(bytes).replace(/\uFFFD/g, '');
        expect(stripped.replace(/\uFFFD/g, '')).toBe(lenient);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Utf8EscapeDecoder, any bytes', () => {
  it('gives the same text and invalid count for any split of any bytes', () => {
    // Bytes drawn mostly from UTF-8's lead and continuation ranges, so splits land inside sequences.
    const byte = fc.oneof(fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xf7 }), fc.integer({ min: 0x20, max: 0x7f }), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 6 }), (values, cuts) => {
        const bytes = Uint8Array.from(values);
        const whole = new Utf8EscapeDecoder(false);
        const expected = whole.write(bytes) + whole.end();
        const d = new Utf8EscapeDecoder(false);
        let out = '';
        let from = 0;
        for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
          out += d.write(bytes.subarray(from, cut));
          from = cut;
        }
        out += d.write(bytes.subarray(from)) + d.end();
        expect(out).toBe(expected);
        expect(d.invalidBytes).toBe(whole.invalidBytes);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readDocuments: streaming memory', () => {
  it('reads a ~24 MB WuDao file with a live heap that does not grow with the file', () => {
    // Measured in a child process with --expose-gc so the heap can be sampled after collection.
    const big = join(dir, 'big.json');
    const reader = resolve(fileURLToPath(new URL('../src/corpus/index.ts', import.meta.url)));
    const script = join(dir, 'measure.mts');
    writeFileSync(
      script,
      `
import { writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { readDocuments } from ${JSON.stringify(reader)};
const fd = openSync(${JSON.stringify(big)}, 'w');
writeSync(fd, '[\\n');
const body = '这是一个用于测试流式读取的中文句子，内容会重复很多次。'.repeat(20);
for (let i = 0; i < 15000; i++) writeSync(fd, (i ? ',\\n' : '') + JSON.stringify({ id: i, title: 't', content: i + body }));
writeSync(fd, '\\n]\\n');
closeSync(fd);
const size = statSync(${JSON.stringify(big)}).size;
globalThis.gc();
const base = process.memoryUsage().heapUsed;
let peak = 0, n = 0, chars = 0;
for await (const d of readDocuments(${JSON.stringify(big)})) {
  n++; chars += d.text.length;
  if (n % 1000 === 0) { globalThis.gc(); peak = Math.max(peak, process.memoryUsage().heapUsed - base); }
}
console.log(JSON.stringify({ size, n, chars, peak }));
`,
    );
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.n).toBe(15000);
    expect(r.size).toBeGreaterThan(20e6);
    // Live data after GC: one read chunk (1 MiB) and a few records, not the file.
    expect(r.peak).toBeLessThan(8e6);
    console.log(`streaming: ${(r.size / 1e6).toFixed(1)} MB file, peak live heap growth ${(r.peak / 1e6).toFixed(2)} MB`);
  });
});
