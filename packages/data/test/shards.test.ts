import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeShardSet } from './helpers/shard-set.js';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ShardDataset,
  ShardWriter,
  decodeShard,
  encodeShard,
  readManifest,
  readShardFile,
  shardByteLength,
  writeManifest,
  type IdType,
  type ShardManifest,
} from '../src/shards/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'retro-shards-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let sub = 0;
const freshDir = () => {
  const d = join(dir, `d${sub++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const chunkArb = (maxId: number) =>
  fc.array(
    fc.integer({ min: 1, max: 20 }).chain((n) =>
      fc.record({
        ids: fc.array(fc.integer({ min: 0, max: maxId }), { minLength: n, maxLength: n }),
        starts: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      }),
    ),
    { maxLength: 30 },
  );

function build(idType: IdType, chunks: Array<{ ids: number[]; starts: number[] }>) {
  const offsets = [0];
  for (const c of chunks) offsets.push(offsets[offsets.length - 1] + c.ids.length);
  const flat = chunks.flatMap((c) => c.ids);
  return {
    idType,
    numChunks: chunks.length,
    numTokens: flat.length,
    offsets: Uint32Array.from(offsets),
    ids: idType === 'uint16' ? Uint16Array.from(flat) : Int32Array.from(flat),
    wordStarts: Uint8Array.from(chunks.flatMap((c) => c.starts)),
  };
}

describe('shard format', () => {
  for (const [idType, maxId] of [
    ['uint16', 0xffff],
    ['int32', 0x7fffffff],
  ] as const) {
    it(`round-trips chunks exactly (${idType})`, () => {
      fc.assert(
        fc.property(chunkArb(maxId), (chunks) => {
          const bytes = encodeShard(build(idType, chunks));
          expect(bytes.byteLength).toBe(shardByteLength(idType, chunks.length, chunks.reduce((a, c) => a + c.ids.length, 0)));
          // Decode from an unaligned copy too: the reader must not assume alignment.
          const unaligned = new Uint8Array(bytes.byteLength + 1).subarray(1);
          unaligned.set(bytes);
          for (const src of [bytes, unaligned]) {
            const d = decodeShard(src);
            expect(d.idType).toBe(idType);
            expect(d.numChunks).toBe(chunks.length);
            chunks.forEach((c, k) => {
              const a = d.offsets[k];
              const b = d.offsets[k + 1];
              expect([...d.ids.subarray(a, b)]).toEqual(c.ids);
              expect([...d.wordStarts.subarray(a, b)]).toEqual(c.starts);
            });
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it('writes the documented header (magic, version, id width, counts)', () => {
    const bytes = encodeShard(build('uint16', [{ ids: [2, 7, 3], starts: [1, 1, 1] }]));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('RMAESHD1');
    expect([bytes.readUInt32LE(8), bytes.readUInt32LE(12), bytes.readUInt32LE(16), bytes.readUInt32LE(20)]).toEqual([1, 2, 1, 3]);
    // offsets [0, 3] then ids 2 7 3 (uint16), pad to 4, then flags.
    expect([bytes.readUInt32LE(32), bytes.readUInt32LE(36)]).toEqual([0, 3]);
    expect([bytes.readUInt16LE(40), bytes.readUInt16LE(42), bytes.readUInt16LE(44)]).toEqual([2, 7, 3]);
    expect([...bytes.subarray(48, 51)]).toEqual([1, 1, 1]);
    expect(bytes.byteLength).toBe(52);
  });

  it('rejects truncated, foreign and inconsistent files with the reason', () => {
    const bytes = encodeShard(build('int32', [{ ids: [1, 2, 3], starts: [1, 0, 1] }]));
    expect(() => decodeShard(bytes.subarray(0, bytes.length - 4), 'x.rshard')).toThrow(/x\.rshard: size 52 bytes, expected 56 .*truncated/);
    const foreign = Buffer.from(bytes);
    foreign.write('NOTSHARD', 0, 'latin1');
    expect(() => decodeShard(foreign)).toThrow(/bad magic/);
    const v2 = Buffer.from(bytes);
    v2.writeUInt32LE(2, 8);
    expect(() => decodeShard(v2)).toThrow(/version 2/);
    expect(() => decodeShard(new Uint8Array(5))).toThrow(/header/);
    expect(() => encodeShard({ ...build('uint16', [{ ids: [1], starts: [1] }]), numTokens: 2 })).toThrow(/offsets/);
  });
});

describe('ShardWriter', () => {
  it('closes shards before they exceed maxTokensPerShard; a chunk never spans two shards', () => {
    const d = freshDir();
    const w = new ShardWriter({ dir: d, idType: 'uint16', maxTokensPerShard: 10, name: (p) => `s${p}.rshard` });
    const sizes = [4, 4, 4, 3, 10, 1];
    sizes.forEach((n, k) => w.add(Array.from({ length: n }, (_, i) => k * 100 + i), Array.from({ length: n }, () => 1)));
    const shards = w.close();
    expect(shards.map((s) => [s.file, s.chunks, s.tokens])).toEqual([
      ['s0.rshard', 2, 8],
      ['s1.rshard', 2, 7],
      ['s2.rshard', 1, 10],
      ['s3.rshard', 1, 1],
    ]);
    expect(readdirSync(d).sort()).toEqual(['s0.rshard', 's1.rshard', 's2.rshard', 's3.rshard']);
    for (const s of shards) {
      const bytes = readFileSync(join(d, s.file));
      expect(s.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(s.bytes).toBe(bytes.byteLength);
    }
    const s1 = readShardFile(join(d, 's1.rshard'));
    expect([...s1.ids]).toEqual([200, 201, 202, 203, 300, 301, 302]);
  });

  it('grows its buffers past the initial size and rejects ids that do not fit', () => {
    const d = freshDir();
    const w = new ShardWriter({ dir: d, idType: 'int32', name: (p) => `g${p}.rshard` });
    const n = 70_000;
    w.add(Array.from({ length: n }, (_, i) => i * 3), new Array(n).fill(0));
    w.add([70000, 1], [1, 0]);
    const [s] = w.close();
    const data = readShardFile(join(d, s.file));
    expect(data.numTokens).toBe(n + 2);
    expect(data.ids[n - 1]).toBe((n - 1) * 3);
    expect(data.ids[n]).toBe(70000);
    const w16 = new ShardWriter({ dir: d, idType: 'uint16', name: () => 'x.rshard' });
    expect(() => w16.add([65536], [1])).toThrow(/does not fit uint16/);
    expect(() => w16.add([1, 2], [1])).toThrow(/differ/);
  });
});

describe('ShardDataset', () => {
  function makeSet(d: string) {
    return writeShardSet(d, [0, 1, 2, 3, 4].map((k) => [2, 10 + k, 3]), 6).shards;
  }

  it('opens a manifest, counts chunks and loads shards checked against it', () => {
    const d = freshDir();
    makeSet(d);
    const ds = ShardDataset.open(d, { verify: true });
    expect(ds.chunkCounts).toEqual([2, 2, 1]);
    expect(ds.numChunks).toBe(5);
    expect(ds.numTokens).toBe(15);
    expect([...ds.loadShard(1).ids]).toEqual([2, 12, 3, 2, 13, 3]);
    expect(readManifest(d)!.totals).toMatchObject({ chunks: 5, tokens: 15, documents: 5 });
    expect(() => ds.loadShard(3)).toThrow(/out of range/);
  });

  it('detects a shard changed behind the manifest; the fingerprint follows the shard set', () => {
    const d = freshDir();
    const shards = makeSet(d);
    const before = ShardDataset.open(d).fingerprint;
    writeFileSync(join(d, shards[2].file), encodeShard(build('uint16', [{ ids: [2, 99, 3], starts: [1, 1, 1] }])));
    expect(() => ShardDataset.open(d, { verify: true }).loadShard(2)).toThrow(/sha256/);
    const m = readManifest(d)!;
    m.shards.pop();
    writeManifest(d, m);
    expect(ShardDataset.open(d).fingerprint).not.toBe(before);
    expect(() => ShardDataset.open(join(dir, 'nowhere'))).toThrow(/no manifest/);
  });
});
