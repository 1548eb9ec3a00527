/** documentsFromText: corpus text held in memory (browser uploads) read like files. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentsFromText, formatFromHead, readDocuments } from '../src/index.js';

const wudao = `[\n{"id": 1, "title": "静夜思", "content": "床前明月光", "dataType": "诗词"},\n{"id": 2, "content": "   "},\n{"id": 3, "content": 7},\n{"id": 4, "title": null, "content": "疑是地上霜"}\n]`;

describe('documentsFromText', () => {
  it('reads WuDao arrays: documents in order, empty and malformed records counted', () => {
    const out = documentsFromText(wudao, 'part-000.json');
    expect(out.format).toBe('wudao');
    expect(out.documents.map((d) => [d.id, d.title, d.text, d.source.index])).toEqual([
      [1, '静夜思', '床前明月光', 0],
      [4, undefined, '疑是地上霜', 3],
    ]);
    expect(out.records).toBe(4);
    expect(out.empty).toBe(1);
    expect(out.issues).toEqual([{ kind: 'schema', file: 'part-000.json', index: 2, message: 'field content: expected string, found number', fatalToFile: false }]);
  });

  it('agrees with the streaming reader on the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retro-corpus-memory-'));
    try {
      writeFileSync(join(dir, 'a.json'), wudao);
      const streamed = [];
      for await (const doc of readDocuments([join(dir, 'a.json')])) streamed.push([doc.id, doc.text, doc.source.index]);
      expect(documentsFromText(wudao, 'a.json').documents.map((d) => [d.id, d.text, d.source.index])).toEqual(streamed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads JSONL (text or content) and plain text line by line', () => {
    const jsonl = documentsFromText('{"text": "一"}\n\n{"content": "二"}\n{"oops"\n{"text": "三"}\n{"text": "cut', 'c.jsonl');
    expect(jsonl.documents.map((d) => [d.text, d.source.index])).toEqual([['一', 0], ['二', 2], ['三', 4]]);
    expect(jsonl.issues.map((i) => [i.kind, i.index, i.fatalToFile])).toEqual([['syntax', 3, false], ['truncated', 5, false]]);
    const text = documentsFromText('\uFEFFfirst line\n\n  \nsecond line\r\n', 'notes.txt');
    expect(text.format).toBe('text');
    expect(text.documents.map((d) => d.text)).toEqual(['first line', 'second line']);
  });

  it('says why a file cannot be read at all', () => {
    expect(documentsFromText('[{"content": "a"},', 'broken.json').issues[0]).toMatchObject({ kind: 'syntax', file: 'broken.json', fatalToFile: true });
    expect(documentsFromText('{\n "content": "a"\n}', 'obj.json').issues[0]).toMatchObject({ kind: 'not-array', fatalToFile: true });
  });

  it('detects formats from names and heads as detectFormat does', () => {
    expect(formatFromHead('x.jsonl', '[')).toBe('jsonl');
    expect(formatFromHead('dir.v2/x', '[{"a":1}')).toBe('wudao');
    expect(formatFromHead('x', '{"a": 1}\n{"a": 2}')).toBe('jsonl');
    expect(formatFromHead('x.json', '{\n"a": 1}')).toBe('wudao');
    expect(formatFromHead('x.md', '# hi')).toBe('text');
  });
});
