import { readFileSync } from 'node:fs';

/**
 * Binary shard layout (little-endian), chosen so a whole shard maps onto typed-array views with
 * no parsing:
 *
 * | bytes            | field                                                    |
 * |------------------|----------------------------------------------------------|
 * | 0..7             | magic `RMAESHD1`                                         |
 * | 8..11            | u32 version (1)                                          |
 * | 12..15           | u32 bytes per id: 2 (uint16) or 4 (int32)                |
 * | 16..19           | u32 numChunks C                                          |
 * | 20..23           | u32 numTokens T                                          |
 * | 24..31           | reserved (0)                                             |
 * | 32..             | u32 offsets [C + 1]: chunk c is tokens [off[c], off[c+1]) |
 * | then             | ids [T] (uint16 or int32), padded to 4 bytes             |
 * | then             | wordStarts u8 [T], padded to 4 bytes                     |
 *
 * Every chunk is a full `[CLS] ... [SEP]` sequence, as produced by DocumentChunker.
 */
export const SHARD_MAGIC = 'RMAESHD1';
export const SHARD_VERSION = 1;
const HEADER_BYTES = 32;
/** Offsets are u32; shards are kept far below this. */
export const MAX_SHARD_TOKENS = 0x7fffffff;

export type IdType = 'uint16' | 'int32';

/** One loaded shard; `ids`/`wordStarts` shape [numTokens], `offsets` shape [numChunks + 1]. */
export interface ShardData {
  idType: IdType;
  numChunks: number;
  numTokens: number;
  offsets: Uint32Array;
  ids: Uint16Array | Int32Array;
  wordStarts: Uint8Array;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Total file size of a shard with the given counts. */
export function shardByteLength(idType: IdType, numChunks: number, numTokens: number): number {
  const idBytes = idType === 'uint16' ? 2 : 4;
  return HEADER_BYTES + 4 * (numChunks + 1) + align4(numTokens * idBytes) + align4(numTokens);
}

/** Serialises a shard. */
export function encodeShard(data: ShardData): Buffer {
  const { idType, numChunks, numTokens, offsets, ids, wordStarts } = data;
  if (offsets.length !== numChunks + 1 || offsets[0] !== 0 || offsets[numChunks] !== numTokens) {
    throw new Error(`encodeShard: offsets must have shape [${numChunks + 1}] from 0 to ${numTokens}`);
  }
  if (ids.length !== numTokens || wordStarts.length !== numTokens) {
    throw new Error(`encodeShard: ids [${ids.length}] and wordStarts [${wordStarts.length}] must have shape [${numTokens}]`);
  }
  if (numTokens > MAX_SHARD_TOKENS) throw new Error(`encodeShard: ${numTokens} tokens exceed the shard limit ${MAX_SHARD_TOKENS}`);
  const idBytes = idType === 'uint16' ? 2 : 4;
  const buf = Buffer.alloc(shardByteLength(idType, numChunks, numTokens));
  buf.write(SHARD_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(SHARD_VERSION, 8);
  buf.writeUInt32LE(idBytes, 12);
  buf.writeUInt32LE(numChunks, 16);
  buf.writeUInt32LE(numTokens, 20);
  let pos = HEADER_BYTES;
  Buffer.from(offsets.buffer, offsets.byteOffset, offsets.byteLength).copy(buf, pos);
  pos += offsets.byteLength;
  Buffer.from(ids.buffer, ids.byteOffset, numTokens * idBytes).copy(buf, pos);
  pos += align4(numTokens * idBytes);
  Buffer.from(wordStarts.buffer, wordStarts.byteOffset, numTokens).copy(buf, pos);
  return buf;
}

/**
 * Parses a shard; the typed arrays are views into `bytes` (copied first if it is not 4-aligned).
 * @param name used in error messages.
 */
export function decodeShard(bytes: Uint8Array, name = 'shard'): ShardData {
  const fail = (what: string) => new Error(`decodeShard: ${name}: ${what}`);
  if (bytes.byteLength < HEADER_BYTES) throw fail(`file has ${bytes.byteLength} bytes, less than the ${HEADER_BYTES}-byte header`);
  let b = bytes;
  if (b.byteOffset % 4 !== 0) b = new Uint8Array(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = Buffer.from(b.buffer, b.byteOffset, 8).toString('latin1');
  if (magic !== SHARD_MAGIC) throw fail(`bad magic ${JSON.stringify(magic)}, expected ${SHARD_MAGIC}`);
  const version = dv.getUint32(8, true);
  if (version !== SHARD_VERSION) throw fail(`version ${version}, expected ${SHARD_VERSION}`);
  const idBytes = dv.getUint32(12, true);
  if (idBytes !== 2 && idBytes !== 4) throw fail(`bytes per id ${idBytes}, expected 2 or 4`);
  const idType: IdType = idBytes === 2 ? 'uint16' : 'int32';
  const numChunks = dv.getUint32(16, true);
  const numTokens = dv.getUint32(20, true);
  const expected = shardByteLength(idType, numChunks, numTokens);
  if (b.byteLength !== expected) {
    throw fail(`size ${b.byteLength} bytes, expected ${expected} for ${numChunks} chunks / ${numTokens} tokens (truncated or corrupt)`);
  }
  let pos = b.byteOffset + HEADER_BYTES;
  const offsets = new Uint32Array(b.buffer, pos, numChunks + 1);
  pos += 4 * (numChunks + 1);
  const ids = idBytes === 2 ? new Uint16Array(b.buffer, pos, numTokens) : new Int32Array(b.buffer, pos, numTokens);
  pos += align4(numTokens * idBytes);
  const wordStarts = new Uint8Array(b.buffer, pos, numTokens);
  if (offsets[0] !== 0 || offsets[numChunks] !== numTokens) throw fail('offsets do not span the token array');
  for (let c = 0; c < numChunks; c++) {
    if (offsets[c + 1] < offsets[c]) throw fail(`offsets decrease at chunk ${c}`);
  }
  return { idType, numChunks, numTokens, offsets, ids, wordStarts };
}

/** Reads and parses a shard file. */
export function readShardFile(path: string): ShardData {
  return decodeShard(readFileSync(path), path);
}
