import { writeFileSync } from 'node:fs';

/**
 * NPY v1.0 bytes for a float32 C-order matrix [rows, cols]: magic, u16 header length, a Python
 * dict literal header padded with spaces and a newline to a multiple of 64 bytes, then the data.
 */
export function encodeNpy(data: Float32Array, shape: readonly [number, number]): Uint8Array {
  if (shape[0] * shape[1] !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] needs ${shape[0] * shape[1]} values, got ${data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes vectors [N, H] as .npy or as JSONL lines {"id", "embedding"}. */
export function writeVectors(path: string, format: 'jsonl' | 'npy', ids: ReadonlyArray<string | number>, vectors: Float32Array, dim: number): void {
  if (ids.length * dim !== vectors.length) throw new Error(`writeVectors: ${ids.length} ids x ${dim} dims != ${vectors.length} values`);
  if (format === 'npy') {
    writeFileSync(path, encodeNpy(vectors, [ids.length, dim]));
    return;
  }
  const lines = ids.map((id, row) => JSON.stringify({ id, embedding: Array.from(vectors.subarray(row * dim, (row + 1) * dim)) }));
  writeFileSync(path, lines.length ? `${lines.join('\n')}\n` : '');
}
