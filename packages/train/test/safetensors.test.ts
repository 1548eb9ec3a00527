import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile } from '../src/index.js';
import { readF32Safetensors } from './helpers/safetensors-reference.js';
import { removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

describe('safetensors', () => {
  it('reads the fixture file exactly as the independent reader does', () => {
    const path = fileURLToPath(new URL('../../../test-fixtures/retromae/bert/model.safetensors', import.meta.url));
    const ours = readSafetensorsFile(path);
    const reference = readF32Safetensors(path);
    expect([...ours.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, { shape, data }] of reference) {
      expect(ours.get(name)!.shape).toEqual(shape);
      expect(ours.get(name)!.data).toEqual(data);
    }
  });

  it('writes files the independent reader reads back, header padded to 8 bytes', () => {
    const path = join(tempDir(), 'x.safetensors');
    const tensors = new Map([
      ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) }],
      ['scalar', { shape: [], data: Float32Array.from([42]) }],
    ]);
    const bytes = encodeSafetensors(tensors, { step: '3' });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    writeFileSync(path, bytes);
    const back = readF32Safetensors(path);
    expect(back.get('a.weight')).toEqual({ shape: [2, 3], data: tensors.get('a.weight')!.data });
    expect(back.get('scalar')).toEqual({ shape: [], data: Float32Array.from([42]) });
    expect(decodeSafetensors(readFileSync(path)).metadata).toEqual({ format: 'pt', step: '3' });
    const ints = decodeSafetensors(encodeSafetensors(new Map([['ids', { shape: [2], data: Int32Array.from([7, -1]) }]]))).tensors.get('ids')!;
    expect(ints.data).toEqual(Int32Array.from([7, -1]));
  });

  it('rejects broken files, naming the tensor and what was wrong', () => {
    const good = encodeSafetensors(new Map([['w', { shape: [2], data: Float32Array.from([1, 2]) }]]));
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'f')).toThrow(/f: tensor 'w': data_offsets/);
    expect(() => decodeSafetensors(new Uint8Array(4), 'f')).toThrow(/4 bytes/);
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } });
    const bad = new Uint8Array(8 + header.length + 8);
    new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true);
    bad.set(new TextEncoder().encode(header), 8);
    expect(() => decodeSafetensors(bad, 'f')).toThrow(/safetensors f: tensor 'w': F32 \[3\]/);
    expect(() => encodeSafetensors(new Map([['w', { shape: [3], data: new Float32Array(2) }]]))).toThrow(/'w' has 2 values for shape \[3\]/);
  });
});
