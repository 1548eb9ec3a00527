import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchLoader, collateChunks, maskBatch, type Batch, type LoaderOptions, type ShardSource } from '../src/batching/index.js';
import { IGNORE_INDEX, wholeWordMask } from '../src/masking/index.js';
import { Generator } from '@retro/random';
import { ShardDataset, ShardWriter, writeManifest, type ShardData, type ShardManifest } from '../src/shards/index.js';

const PAD = 0;
const CLS = 2;
const SEP = 3;
const MASK = 4;
const V = 300;
const SPECIALS = [0, 1, 2, 3, 4];

/** Chunk with global number g: [CLS] (g's digits as ids 10+...) [SEP], length 3 + g % 6. */
function chunkOf(g: number): { ids: number[]; starts: number[] } {
  const n = 1 + (g % 6);
  const ids = [CLS, ...Array.from({ length: n }, (_, i) => 10 + ((g * 7 + i) % 250)), SEP];
  const starts = [1, ...Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)), 1];
  return { ids, starts };
}

/** In-memory shard set with the given chunk counts; counts loads. */
class MemorySource implements ShardSource {
  readonly shards: ShardData[] = [];
  loads = 0;
  readonly fingerprint: string;
  constructor(readonly chunkCounts: number[]) {
    let g = 0;
    for (const c of chunkCounts) {
      const chunks = Array.from({ length: c }, () => chunkOf(g++));
      const offsets = [0];
      for (const ch of chunks) offsets.push(offsets[offsets.length - 1] + ch.ids.length);
      this.shards.push({
        idType: 'int32',
        numChunks: c,
        numTokens: offsets[offsets.length - 1],
        offsets: Uint32Array.from(offsets),
        ids: Int32Array.from(chunks.flatMap((x) => x.ids)),
        wordStarts: Uint8Array.from(chunks.flatMap((x) => x.starts)),
      });
    }
    this.fingerprint = 'mem-' + chunkCounts.join('-');
  }
  get numShards() {
    return this.shards.length;
  }
  loadShard(i: number) {
    this.loads++;
    return this.shards[i];
  }
}

const baseOptions = (o: Partial<LoaderOptions> = {}): LoaderOptions => ({
  batchSize: 4,
  seed: 11,
  padTokenId: PAD,
  shardsPerWindow: 2,
  encoderMasking: { ratio: 0.3, maskTokenId: MASK, vocabSize: V, specialIds: SPECIALS },
  ...o,
});

const drain = (l: BatchLoader) => {
  const out: Batch[] = [];
  for (const b of l) out.push(b);
  return out;
};

describe('collateChunks', () => {
  it('pads to the longest chunk with masks and lengths (hand-computed)', () => {
    const b = collateChunks(
      [
        { ids: [2, 7, 3], wordStarts: [1, 1, 1] },
        { ids: [2, 8, 9, 10, 3], wordStarts: [1, 1, 0, 1, 1] },
      ],
      { padTokenId: 0 },
    );
    expect(b.shape).toEqual([2, 5]);
    expect([...b.inputIds]).toEqual([2, 7, 3, 0, 0, 2, 8, 9, 10, 3]);
    expect([...b.attentionMask]).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect([...b.wordStarts]).toEqual([1, 1, 1, 0, 0, 1, 1, 0, 1, 1]);
    expect([...b.lengths]).toEqual([3, 5]);
  });

  it('pads to a fixed length / multiple, and rejects a too short padTo', () => {
    const c = [{ ids: [2, 5, 3], wordStarts: [1, 1, 1] }];
    expect(collateChunks(c, { padTokenId: 1, padTo: 6 }).shape).toEqual([1, 6]);
    expect(collateChunks(c, { padTokenId: 1, padToMultipleOf: 4 }).shape).toEqual([1, 4]);
    expect([...collateChunks(c, { padTokenId: 1, padTo: 5 }).inputIds]).toEqual([2, 5, 3, 1, 1]);
    expect(() => collateChunks(c, { padTokenId: 0, padTo: 2 })).toThrow(/shorter than the longest/);
    expect(() => collateChunks([], { padTokenId: 0 })).toThrow(/at least one/);
  });
});

describe('maskBatch', () => {
  it('equals row-by-row wholeWordMask with the same generator, and leaves padding unlabelled', () => {
    const rows = [chunkOf(5), chunkOf(3), chunkOf(0)];
    const batch = collateChunks(
      rows.map((r) => ({ ids: r.ids, wordStarts: r.starts })),
      { padTokenId: PAD },
    );
    const options = { ratio: 0.3, maskTokenId: MASK, vocabSize: V, specialIds: SPECIALS };
    const m = maskBatch(batch, new Generator(9), options);
    const ref = new Generator(9);
    const [, L] = batch.shape;
    rows.forEach((r, b) => {
      const one = wholeWordMask(r.ids, r.starts, ref, options);
      expect([...m.encoderInputIds.subarray(b * L, b * L + r.ids.length)]).toEqual([...one.inputIds]);
      expect([...m.encoderLabels.subarray(b * L, b * L + r.ids.length)]).toEqual([...one.labels]);
      for (let i = r.ids.length; i < L; i++) {
        expect(m.encoderLabels[b * L + i]).toBe(IGNORE_INDEX);
        expect(m.encoderInputIds[b * L + i]).toBe(PAD);
      }
    });
  });
});

describe('BatchLoader', () => {
  const counts = [7, 0, 13, 5, 9];
  const total = counts.reduce((a, b) => a + b, 0);

  it('serves every chunk exactly once per epoch, with its own ids', () => {
    const src = new MemorySource(counts);
    const l = new BatchLoader(src, baseOptions({ epochs: 2 }));
    const batches = drain(l);
    expect(l.batchesPerEpoch).toBe(Math.ceil(total / 4));
    expect(batches).toHaveLength(2 * Math.ceil(total / 4));
    for (const epoch of [0, 1]) {
      const eb = batches.filter((b) => b.epoch === epoch);
      const ids = eb.flatMap((b) => [...b.chunkIds]);
      expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(eb.map((b) => b.batchInEpoch)).toEqual(eb.map((_, i) => i));
      expect(eb.slice(0, -1).every((b) => b.shape[0] === 4)).toBe(true);
      expect(eb[eb.length - 1].shape[0]).toBe(total % 4 || 4);
      for (const b of eb) {
        const [B, L] = b.shape;
        for (let r = 0; r < B; r++) {
          const c = chunkOf(b.chunkIds[r]);
          expect(b.lengths[r]).toBe(c.ids.length);
          expect([...b.inputIds.subarray(r * L, r * L + c.ids.length)]).toEqual(c.ids);
          expect([...b.wordStarts.subarray(r * L, r * L + c.ids.length)]).toEqual(c.starts);
        }
      }
    }
    // The two epochs are shuffled differently.
    expect(batches[0].chunkIds).not.toEqual(batches[l.batchesPerEpoch].chunkIds);
  });

  it('seeded shuffle: same seed same order, other seed other order, no shuffle = manifest order', () => {
    const order = (o: Partial<LoaderOptions>) => drain(new BatchLoader(new MemorySource(counts), baseOptions(o))).flatMap((b) => [...b.chunkIds]);
    expect(order({ seed: 5 })).toEqual(order({ seed: 5 }));
    expect(order({ seed: 5 })).not.toEqual(order({ seed: 6 }));
    expect(order({ shuffle: false })).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('mixes chunks only within windows of shardsPerWindow shards, loading one window at a time', () => {
    const src = new MemorySource([10, 10, 10, 10]);
    const l = new BatchLoader(src, baseOptions({ shardsPerWindow: 2, batchSize: 5 }));
    const batches = drain(l);
    const ids = batches.flatMap((b) => [...b.chunkIds]);
    const shardOf = (g: number) => Math.floor(g / 10);
    // First 20 chunks come from two shards, the last 20 from the other two.
    const firstHalf = new Set(ids.slice(0, 20).map(shardOf));
    const secondHalf = new Set(ids.slice(20).map(shardOf));
    expect(firstHalf.size).toBe(2);
    expect([...firstHalf].some((s) => secondHalf.has(s))).toBe(false);
    expect(src.loads).toBe(4);
  });

  it('dropLast drops the partial batch; an empty epoch ends an infinite loader', () => {
    const l = new BatchLoader(new MemorySource(counts), baseOptions({ dropLast: true, epochs: 3 }));
    const b = drain(l);
    expect(b).toHaveLength(3 * Math.floor(total / 4));
    expect(b.every((x) => x.shape[0] === 4)).toBe(true);
    const tiny = new BatchLoader(new MemorySource([3]), baseOptions({ dropLast: true, epochs: Infinity }));
    expect(tiny.next()).toBeNull();
    expect(new BatchLoader(new MemorySource([0]), baseOptions({ epochs: Infinity })).next()).toBeNull();
  });

  it('resume: state after k batches, restored in a new loader, yields exactly the remaining batches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.integer(),
        (kRaw, batchSize, shardsPerWindow, dropLast, seed) => {
          const opts = baseOptions({ batchSize, shardsPerWindow, dropLast, seed, epochs: 2 });
          const full = drain(new BatchLoader(new MemorySource(counts), opts));
          const k = kRaw % (full.length + 1);
          const first = new BatchLoader(new MemorySource(counts), opts);
          for (let i = 0; i < k; i++) first.next();
          const saved = JSON.parse(JSON.stringify(first.state()));
          const resumed = new BatchLoader(new MemorySource(counts), opts);
          resumed.restore(saved);
          const rest = drain(resumed);
          expect(rest.length).toBe(full.length - k);
          rest.forEach((b, i) => {
            const ref = full[k + i];
            expect(b.chunkIds).toEqual(ref.chunkIds);
            expect(b.inputIds).toEqual(ref.inputIds);
            expect(b.encoderInputIds).toEqual(ref.encoderInputIds);
            expect(b.encoderLabels).toEqual(ref.encoderLabels);
            expect([b.epoch, b.batchInEpoch]).toEqual([ref.epoch, ref.batchInEpoch]);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('restore refuses a state from another shard set or other settings', () => {
    const a = new BatchLoader(new MemorySource(counts), baseOptions());
    a.next();
    const s = a.state();
    expect(() => new BatchLoader(new MemorySource([1, 2]), baseOptions()).restore(s)).toThrow(/fingerprint/);
    expect(() => new BatchLoader(new MemorySource(counts), baseOptions({ seed: 12 })).restore(s)).toThrow(/seed/);
    expect(() => new BatchLoader(new MemorySource(counts), baseOptions({ batchSize: 5 })).restore(s)).toThrow(/batchSize/);
  });

  it('masks specials never and labels only masked positions', () => {
    for (const b of drain(new BatchLoader(new MemorySource(counts), baseOptions()))) {
      for (let i = 0; i < b.inputIds.length; i++) {
        if (SPECIALS.includes(b.inputIds[i])) {
          expect(b.encoderLabels![i]).toBe(IGNORE_INDEX);
          expect(b.encoderInputIds![i]).toBe(b.inputIds[i]);
        }
        if (b.encoderLabels![i] !== IGNORE_INDEX) expect(b.encoderLabels![i]).toBe(b.inputIds[i]);
      }
    }
  });
});

describe('BatchLoader: masked share check', () => {
  /** 8 chunks of [CLS] + 100 content tokens + [SEP]; `wordEvery` content tokens per word (0: no word starts at all). */
  const longChunks = (wordEvery: number): ShardSource => {
    const n = 100;
    const ids: number[] = [];
    const starts: number[] = [];
    const offsets = [0];
    for (let c = 0; c < 8; c++) {
      ids.push(CLS, ...Array.from({ length: n }, (_, i) => 10 + ((c * 31 + i) % 250)), SEP);
      starts.push(1, ...Array.from({ length: n }, (_, i) => (wordEvery > 0 && i % wordEvery === 0 ? 1 : 0)), 1);
      offsets.push(ids.length);
    }
    const shard: ShardData = { idType: 'int32', numChunks: 8, numTokens: ids.length, offsets: Uint32Array.from(offsets), ids: Int32Array.from(ids), wordStarts: Uint8Array.from(starts) };
    return { numShards: 1, chunkCounts: [8], fingerprint: `long-${wordEvery}`, loadShard: () => shard };
  };

  it('fails, naming the word length, when the words are too long to mask (shards without word starts)', () => {
    const loader = new BatchLoader(longChunks(0), baseOptions({ batchSize: 8 }));
    expect(() => loader.next()).toThrow(/selected \d+ of 800 content tokens .* expected about 30%: its words average 800\.0 tokens/);
  });

  it('passes with words of a few tokens, at the ratio', () => {
    const batch = new BatchLoader(longChunks(2), baseOptions({ batchSize: 8 })).next()!;
    const selected = [...batch.encoderLabels!].filter((x) => x !== IGNORE_INDEX).length;
    expect(selected / 800).toBeGreaterThan(0.25);
    expect(selected / 800).toBeLessThanOrEqual(0.31);
  });
});

describe('BatchLoader over shard files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'retro-batching-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams the chunks written by ShardWriter', () => {
    const w = new ShardWriter({ dir, idType: 'uint16', maxTokensPerShard: 20, name: (p) => `s${p}.rshard` });
    const n = 17;
    for (let g = 0; g < n; g++) w.add(chunkOf(g).ids, chunkOf(g).starts);
    const shards = w.close();
    const manifest: ShardManifest = {
      format: 'retro-shards',
      version: 1,
      createdAt: '',
      updatedAt: '',
      tokenizer: { hash: 'h', files: [], vocabSize: V, clsTokenId: CLS, sepTokenId: SEP, padTokenId: PAD, maskTokenId: MASK, specialIds: SPECIALS },
      config: { hash: 'c', maxSeqLength: 8, idType: 'uint16' },
      totals: {} as ShardManifest['totals'],
      sources: [],
      shards: shards.map((s) => ({ ...s, source: '/x' })),
    };
    writeManifest(dir, manifest);
    const ds = ShardDataset.open(dir);
    expect(ds.numShards).toBeGreaterThan(1);
    const got = drain(new BatchLoader(ds, baseOptions({ batchSize: 3 })));
    const seen = new Map<number, number[]>();
    for (const b of got) {
      const [B, L] = b.shape;
      for (let r = 0; r < B; r++) seen.set(b.chunkIds[r], [...b.inputIds.subarray(r * L, r * L + b.lengths[r])]);
    }
    expect(seen.size).toBe(n);
    for (let g = 0; g < n; g++) expect(seen.get(g)).toEqual(chunkOf(g).ids);

    // fromDataset takes pad/mask/special ids from the manifest and masks at 0.3 by default.
    const viaManifest = drain(BatchLoader.fromDataset(ds, { batchSize: 3, seed: 11, shardsPerWindow: 2 }));
    expect(viaManifest.map((b) => [...b.chunkIds])).toEqual(got.map((b) => [...b.chunkIds]));
    expect(viaManifest.map((b) => [...b.encoderLabels!])).toEqual(got.map((b) => [...b.encoderLabels!]));
    const plain = BatchLoader.fromDataset(ds, { batchSize: 3, seed: 11, encoderMaskRatio: false }).next()!;
    expect(plain.encoderLabels).toBeUndefined();
  });
});
