import { describe, it, expect, afterAll } from 'vitest';
import { rmSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, readSafetensors, serializeSafetensors, toFloat32, toInt32, writeSafetensors, MAX_HEADER_BYTES } from '../src/index.js';
import { fixtureDir, readF32File } from '../../../test-support/fixtures.js';

/** Builds a file image from a literal header string and data bytes (no library code). */
function image(header: string, data: number[] = [], headerLength?: number): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const GOOD_HEADER = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}';
const GOOD_DATA = [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 0, 0, 0];

const created: string[] = [];
afterAll(() => created.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'retro-st-'));
  created.push(dir);
  return dir;
}

describe('safetensors reader', () => {
  it('reads the fixture files (written by Python) with every tensor intact', () => {
    const file = readSafetensors(`${fixtureDir('bert')}/model.safetensors`);
    const independent = readF32File(`${fixtureDir('bert')}/model.safetensors`);
    expect(file.metadata.format).toBe('pt');
    expect([...file.tensors.keys()].sort()).toEqual([...independent.keys()].sort());
    for (const [name, raw] of file.tensors) {
      expect(raw.shape).toEqual(independent.get(name)!.shape);
      expect(Array.from(toFloat32(raw))).toEqual(Array.from(independent.get(name)!.data));
    }
  });

  it('decodes a hand-built file', () => {
    const file = parseSafetensors(image(GOOD_HEADER, GOOD_DATA), 'hand.safetensors');
    expect(Array.from(toFloat32(file.tensors.get('a')!))).toEqual([1, -2]);
    expect(Array.from(toInt32(file.tensors.get('b')!))).toEqual([7]);
    expect(file.tensors.get('b')!.shape).toEqual([]);
  });

  it('widens F16, BF16 and F64 to float32 exactly as the formats define', () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0xfc00, 0x0000, 0x8000];
    const bf16 = [0x3f80, 0xc040, 0x3eab, 0x0001];
    const f64 = [0.1, -1e-3];
    const data: number[] = [];
    for (const bits of [...f16, ...bf16]) data.push(bits & 0xff, bits >> 8);
    const f64Bytes = new Uint8Array(new Float64Array(f64).buffer);
    data.push(...f64Bytes);
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [8], data_offsets: [0, 16] },
      bf: { dtype: 'BF16', shape: [2, 2], data_offsets: [16, 24] },
      d: { dtype: 'F64', shape: [2], data_offsets: [24, 40] },
    });
    const file = parseSafetensors(image(header, data), 'mixed.safetensors');
    expect(Array.from(toFloat32(file.tensors.get('h')!))).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125, -Infinity, 0, -0]);
    expect(Array.from(toFloat32(file.tensors.get('bf')!))).toEqual([1, -3, 0.333984375, 2 ** -133]);
    expect(Array.from(toFloat32(file.tensors.get('d')!))).toEqual(f64.map(Math.fround));
    expect(() => toFloat32({ dtype: 'I32', shape: [1], bytes: new Uint8Array(4) }, 'x.safetensors', 'ids')).toThrow(/x\.safetensors.*'ids'.*I32.*expected a float dtype/);
  });

  it('accepts __metadata__ and an I64 buffer', () => {
    const header = JSON.stringify({ __metadata__: { format: 'pt', note: 'x' }, p: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } });
    const file = parseSafetensors(image(header, [5, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'm.safetensors');
    expect(file.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(Array.from(toInt32(file.tensors.get('p')!))).toEqual([5, -1]);
  });

  const corrupt: Array<[string, Uint8Array, RegExp]> = [
    ['shorter than the length prefix', new Uint8Array([1, 2, 3]), /bad\.safetensors: file is 3 bytes.*truncated/],
    ['header length past the end', image(GOOD_HEADER, GOOD_DATA, 5000), /bad\.safetensors: header length 5000 needs 5008 bytes but the file has \d+; truncated/],
    ['header length over the limit', image(GOOD_HEADER, GOOD_DATA, MAX_HEADER_BYTES + 1), /exceeds the 100000000-byte limit/],
    ['header not JSON', image('{"a": nope}   ', []), /bad\.safetensors: header \(14 bytes\) is not valid UTF-8 JSON/],
    ['header an array', image('[1,2]', []), /header must be a JSON object, found an array/],
    ['data truncated', image(GOOD_HEADER, GOOD_DATA.slice(0, 10)), /bad\.safetensors: tensor 'b': data_offsets \[8, 12\] run past the end of the data section \(10 bytes\); truncated/],
    [
      'byte count disagrees with dtype x shape',
      image('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', GOOD_DATA.slice(0, 8)),
      /tensor 'a': F32 \[3\] needs 12 bytes, but data_offsets \[0, 8\] span 8/,
    ],
    [
      'overlapping tensors',
      image('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', GOOD_DATA.slice(0, 8)),
      /tensor 'b': data_offsets \[4, 8\] overlap tensor 'a' \(ends at 8\)/,
    ],
    ['a gap', image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', GOOD_DATA.slice(0, 8)), /tensor 'a': data_offsets start at 4, expected 0.*gap/],
    ['trailing bytes', image(GOOD_HEADER, [...GOOD_DATA, 1, 2, 3, 4]), /data section is 16 bytes but the tensors cover 12; trailing bytes/],
    ['unknown dtype', image('{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'a': dtype "F31" is not one of F64, F32/],
    ['negative shape', image('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'a': shape must be a list of non-negative integers, found \[-1\]/],
    ['reversed offsets', image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', [0, 0, 0, 0]), /tensor 'a': data_offsets must be \[begin, end\]/],
    ['non-string metadata', image('{"__metadata__":{"format":1}}', []), /__metadata__\.format must be a string, found 1/],
  ];
  for (const [what, bytes, message] of corrupt) {
    it(`rejects a file with ${what}, naming file and tensor`, () => {
      expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(message);
    });
  }

  it('names the file when it cannot be read', () => {
    expect(() => readSafetensors('/nonexistent/model.safetensors')).toThrow(/\/nonexistent\/model\.safetensors: cannot read/);
  });
});

describe('safetensors writer', () => {
  it('writes names sorted, __metadata__ first, header space-padded to 8 bytes, packed data', () => {
    const bytes = serializeSafetensors(
      new Map<string, { shape: number[]; data: Float32Array } | { shape: number[]; data: Int32Array }>([
        ['b', { shape: [2], data: new Float32Array([1, -2]) }],
        ['a', { shape: [], data: new Int32Array([7]) }],
      ]),
    );
    const header = '{"__metadata__":{"format":"pt"},"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const expected = new Uint8Array(8 + padded.length + 12);
    new DataView(expected.buffer).setBigUint64(0, BigInt(padded.length), true);
    expected.set(Buffer.from(padded), 8);
    expected.set([7, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], 8 + padded.length);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('writes atomically: replaces the old file and leaves no temp file', () => {
    const dir = tempDir();
    const path = join(dir, 'x.safetensors');
    writeFileSync(path, 'old contents');
    writeSafetensors(path, { w: { shape: [3], data: new Float32Array([1.5, 2.5, -0]) } });
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
    const back = readSafetensors(path);
    expect(Array.from(new Uint8Array(back.tensors.get('w')!.bytes))).toEqual(Array.from(new Uint8Array(new Float32Array([1.5, 2.5, -0]).buffer)));
    expect(readFileSync(path).subarray(0, 4).length).toBe(4);
  });

  it('refuses a value count that does not fill the shape', () => {
    expect(() => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor 'w' has 3 values for shape \[2,2\] \(4 elements\)/);
  });
});
