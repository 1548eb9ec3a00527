import { readFileSync } from 'node:fs';

/**
 * An independent minimal safetensors reader (F32 only) for checking the package's own reader
 * and writer: header length, JSON header, then Float32 views at the offsets.
 */
export function readF32Safetensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`${path}: ${name} is ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const slice = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
    const data = new Float32Array(slice.length / 4);
    for (let i = 0; i < data.length; i++) data[i] = slice.readFloatLE(i * 4);
    out.set(name, { shape: entry.shape, data });
  }
  return out;
}
