import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { syncDirectory } from '@retro/common';
import { dirname } from 'node:path';

/**
 * NPY v1.0 bytes for a float32 C-order matrix [rows, cols]: magic, u16 header length, a Python
 * dict literal header padded with spaces and a newline to a multiple of 64 bytes, then the data.
 */
export function encodeNpy(data: Float32Array, shape: readonly [number, number]): Uint8Array {
  if (shape[0] * shape[1] !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] needs ${shape[0] * shape[1]} values, got ${data.length}`);
  const header = npyHeader(shape, 0);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/**
 * The NPY v1.0 header (magic through the newline) for float32 [rows, cols], padded to a multiple
 * of 64 bytes and at least `minBytes` long, so a streamed file can reserve room and patch the row
 * count in place once it is known.
 */
function npyHeader(shape: readonly [number, number], minBytes: number): Uint8Array {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape[0]}, ${shape[1]}), }`;
  const unpadded = 10 + dict.length + 1;
  const total = Math.max(Math.ceil(unpadded / 64) * 64, minBytes);
  dict += `${' '.repeat(total - unpadded)}\n`;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(new TextEncoder().encode(dict), 10);
  return out;
}

/** Writes vectors [N, H] as .npy or as JSONL lines {"id", "embedding"} (whole, in memory). */
export function writeVectors(path: string, format: 'jsonl' | 'npy', ids: ReadonlyArray<string | number>, vectors: Float32Array, dim: number): void {
  if (ids.length * dim !== vectors.length) throw new Error(`writeVectors: ${ids.length} ids x ${dim} dims != ${vectors.length} values`);
  if (format === 'npy') {
    writeFileSync(path, encodeNpy(vectors, [ids.length, dim]));
    return;
  }
  const lines = ids.map((id, row) => JSON.stringify({ id, embedding: Array.from(vectors.subarray(row * dim, (row + 1) * dim)) }));
  writeFileSync(path, lines.length ? `${lines.join('\n')}\n` : '');
}

/** The ids file written beside an .npy: `vectors.npy` -> `vectors.ids.jsonl` (one JSON id per line, row order). */
export function idsPathFor(npyPath: string): string {
  return `${npyPath.replace(/\.npy$/i, '')}.ids.jsonl`;
}

/**
 * Vectors written as they come, in bounded memory: rows go to temporary files that are renamed
 * over the outputs only by `finish()` (a failed run leaves the old outputs untouched). NPY gets a
 * header with room for any row count, patched at the end; the ids go beside it.
 */
export class VectorWriter {
  private readonly fd: number;
  private readonly idsFd: number | null;
  private readonly tmp: string;
  private readonly idsTmp: string | null;
  private rows = 0;
  private dim = 0;
  private static readonly HEADER_BYTES = 128;

  constructor(private readonly path: string, private readonly format: 'jsonl' | 'npy') {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
    if (format === 'npy') {
      this.idsTmp = `${idsPathFor(path)}.tmp-${process.pid}`;
      this.idsFd = openSync(this.idsTmp, 'w');
      writeSync(this.fd, new Uint8Array(VectorWriter.HEADER_BYTES));
    } else {
      this.idsTmp = null;
      this.idsFd = null;
    }
  }

  get count(): number {
    return this.rows;
  }

  /** Appends rows [ids.length, dim]. */
  write(ids: ReadonlyArray<string | number>, vectors: Float32Array, dim: number): void {
    if (ids.length * dim !== vectors.length) throw new Error(`VectorWriter: ${ids.length} ids x ${dim} dims != ${vectors.length} values`);
    if (this.dim === 0) this.dim = dim;
    else if (dim !== this.dim) throw new Error(`VectorWriter: vectors of dimension ${dim} after ${this.dim}`);
    if (this.format === 'npy') {
      writeSync(this.fd, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
      writeSync(this.idsFd!, ids.map((id) => `${JSON.stringify(id)}\n`).join(''));
    } else {
      const lines = ids.map((id, row) => `${JSON.stringify({ id, embedding: Array.from(vectors.subarray(row * dim, (row + 1) * dim)) })}\n`);
      writeSync(this.fd, lines.join(''));
    }
    this.rows += ids.length;
  }

  /**
   * Patches the NPY header, fsyncs, closes and renames the files into place, then fsyncs the
   * folder (as @retro/common's writeFileAtomic does for whole files); returns the paths written.
   */
  finish(): string[] {
    if (this.format === 'npy') writeSync(this.fd, npyHeader([this.rows, this.dim], VectorWriter.HEADER_BYTES), 0, VectorWriter.HEADER_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    const written = [this.path];
    if (this.idsFd !== null) {
      fsyncSync(this.idsFd);
      closeSync(this.idsFd);
      renameSync(this.idsTmp!, idsPathFor(this.path));
      written.push(idsPathFor(this.path));
    }
    syncDirectory(dirname(this.path));
    return written;
  }

  /** Removes the temporary files (after a failure). */
  abort(): void {
    for (const fd of [this.fd, this.idsFd]) {
      try {
        if (fd !== null) closeSync(fd);
      } catch {
        // already closed
      }
    }
    rmSync(this.tmp, { force: true });
    if (this.idsTmp) rmSync(this.idsTmp, { force: true });
  }
}
