/**
 * Shards are checked before training, not trusted: sha256 by default, every shard present with
 * its size and header, manifest names confined to the shard folder, ids inside the vocabulary.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardDataset, encodeShard, readManifest, type ShardManifest } from '../src/shards/index.js';
import { writeShardSet } from './helpers/shard-set.js';

const root = mkdtempSync(join(tmpdir(), 'retro-shards-rel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** Three shards of 2, 2, 1 chunks ([CLS] w [SEP] each) and a manifest with vocabSize 100. */
function makeSet(options: { ids?: number[][] } = {}): { dir: string; manifest: ShardManifest } {
  const dir = join(root, `set${n++}`);
  mkdirSync(dir);
  const { manifest } = writeShardSet(dir, options.ids ?? [0, 1, 2, 3, 4].map((k) => [2, 10 + k, 3]), 6);
  return { dir, manifest };
}

function editManifest(dir: string, edit: (m: Record<string, any>) => void): void {
  const path = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

const quiet = { progress: false } as const;

describe('ShardDataset.open checks every shard before returning', () => {
  it('a flipped byte in a shard body fails by default (sha256), naming the file', () => {
    const { dir } = makeSet();
    const path = join(dir, 'p1.rshard');
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x01; // a word-start byte: decodes fine, only the hash can tell
    writeFileSync(path, bytes);
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/p1\.rshard: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}/);
    // The opt-out is explicit, and still reads what it can check cheaply.
    expect(ShardDataset.open(dir, { verify: false }).numChunks).toBe(5);
  });

  it('a wrong or missing sha256 in the manifest fails with verification on', () => {
    const { dir } = makeSet();
    editManifest(dir, (m) => (m.shards[0].sha256 = 'f'.repeat(64)));
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/p0\.rshard: sha256 .* manifest says f{64}/);
    editManifest(dir, (m) => delete m.shards[0].sha256);
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/manifest.json lists no sha256 for shard 0 '.*p0\.rshard'.*--no-verify-shards/);
    editManifest(dir, (m) => (m.shards[0].sha256 = 'not-a-hash'));
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/field 'shards\[0\]\.sha256' is "not-a-hash", expected a 64-digit hex sha256/);
  });

  it('a missing or truncated last shard fails at open, with or without verification', () => {
    const { dir } = makeSet();
    const last = join(dir, 'p2.rshard');
    const original = readFileSync(last);
    truncateSync(last, original.length - 4);
    for (const verify of [true, false]) {
      expect(() => ShardDataset.open(dir, { verify, progress: false })).toThrow(/p2\.rshard: \d+ bytes, expected \d+ for 1 chunks \/ 3 uint16 tokens .*truncated or corrupt/);
    }
    unlinkSync(last);
    for (const verify of [true, false]) {
      expect(() => ShardDataset.open(dir, { verify, progress: false })).toThrow(/shard 3 of 3 '.*p2\.rshard' listed in manifest.json is missing or unreadable/);
    }
  });

  it('a corrupt header fails at open even without verification', () => {
    const { dir } = makeSet();
    const last = join(dir, 'p2.rshard');
    const bytes = readFileSync(last);
    bytes[0] = 0x58;
    writeFileSync(last, bytes);
    expect(() => ShardDataset.open(dir, { verify: false })).toThrow(/p2\.rshard: bad magic "XMAESHD1", expected RMAESHD1/);
    bytes[0] = 0x52;
    bytes[16] = 7; // chunk count in the header
    writeFileSync(last, bytes);
    expect(() => ShardDataset.open(dir, { verify: false })).toThrow(/p2\.rshard: header says 7 chunks \/ 3 tokens, manifest says 1 \/ 3/);
  });

  it('never opens a file outside the shard folder', () => {
    const { dir } = makeSet();
    const outside = join(root, 'outside.rshard');
    writeFileSync(outside, readFileSync(join(dir, 'p0.rshard')));
    for (const name of ['../outside.rshard', '../../../etc/passwd', '/etc/passwd', '..', 'a\\b']) {
      editManifest(dir, (m) => (m.shards[0].file = name));
      expect(() => ShardDataset.open(dir, { verify: false })).toThrow(/field 'shards\[0\]\.file' is .*, expected a file name inside the shard folder/);
    }
    // prepare deletes the shards a source lists: those names are confined too.
    const other = makeSet().dir;
    editManifest(other, (m) => (m.sources[0].shards = ['../outside.rshard']));
    expect(() => readManifest(other)).toThrow(/field 'sources\[0\]\.shards\[0\]' is "..\/outside.rshard"/);
  });

  it('ids outside the vocabulary name the shard, chunk and offset', () => {
    const { dir } = makeSet({ ids: [[2, 10, 3], [2, 11, 12, 3], [2, 13, 3], [2, 250, 3]] });
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/p2\.rshard: token id 250 at token offset 4 \(chunk 1, position 1\) is outside the vocabulary \[0, 100\)/);
    // Without verification the same check runs when the shard is loaded.
    const ds = ShardDataset.open(dir, { verify: false });
    expect(() => ds.loadShard(2)).toThrow(/p2\.rshard: token id 250 at token offset 4/);
    expect(ds.loadShard(0).numChunks).toBe(1);
  });

  it('a manifest without a tokenizer, or with bad fields, is a clear error', () => {
    const { dir } = makeSet();
    editManifest(dir, (m) => delete m.tokenizer);
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/manifest.json: field 'tokenizer' is missing, expected an object/);
    editManifest(dir, (m) => (m.tokenizer = { hash: 'h', vocabSize: '100' }));
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/field 'tokenizer.vocabSize' is "100", expected an integer >= 1/);
    editManifest(dir, (m) => (m.tokenizer = { hash: 'h', vocabSize: 10, clsTokenId: 2, sepTokenId: 3, padTokenId: 0, maskTokenId: 40, specialIds: [] }));
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/field 'tokenizer.maskTokenId' is 40, expected an id in \[0, 10\)/);
    editManifest(dir, (m) => (m.shards = { a: 1 }));
    expect(() => ShardDataset.open(dir, quiet)).toThrow(/field 'shards' is \{"a":1\}, expected a list/);
  });

  it('reports progress on a slow check and keeps quiet on a fast one', () => {
    const { dir } = makeSet();
    let text = '';
    ShardDataset.open(dir, { progress: { write: (t: string) => (text += t) } });
    expect(text).toBe('');
  });

  it('an intact set opens and loads exactly what was written', () => {
    const { dir } = makeSet();
    const ds = ShardDataset.open(dir, quiet);
    expect([...ds.loadShard(2).ids]).toEqual([2, 14, 3]);
    expect(encodeShard(ds.loadShard(0)).equals(readFileSync(join(dir, 'p0.rshard')))).toBe(true);
  });
});
