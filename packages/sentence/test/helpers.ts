import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const FIXTURE = join(__dirname, '..', '..', '..', 'test-fixtures', 'hf-encoder', 'bert-model');
export const FIXTURE_TEXTS: string[] = (JSON.parse(readFileSync(join(FIXTURE, 'inputs.json'), 'utf8')) as { texts: string[] }).texts;

/** A named F32 tensor of an expected.safetensors file, read with this helper's own parser. */
export function expectedTensor(name: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(join(FIXTURE, 'expected.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const entry = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))[name] as { shape: number[]; data_offsets: [number, number] };
  const start = bytes.byteOffset + 8 + n + entry.data_offsets[0];
  return { shape: entry.shape, data: new Float32Array(bytes.buffer.slice(start, bytes.byteOffset + 8 + n + entry.data_offsets[1])) };
}

/** Every file under `dir` as relative path -> bytes (what a browser user would drop). */
export function filesOf(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path).split('\\').join('/')] = new Uint8Array(readFileSync(path));
    }
  };
  walk(dir);
  return out;
}

/** Largest |a - b| over rows [N][D] against a flat [N*D] reference. */
export function maxDifference(rows: Float32Array[], reference: Float32Array): number {
  let max = 0;
  rows.forEach((row, r) => row.forEach((v, c) => (max = Math.max(max, Math.abs(v - reference[r * row.length + c]!)))));
  return max;
}
