import { readFileSync } from 'node:fs';

/** One named array as safetensors stores it: row-major values plus their shape. */
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

const DTYPE_OF = { F32: Float32Array, I32: Int32Array } as const;
type StoredDType = keyof typeof DTYPE_OF;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/**
 * Encodes named F32/I32 arrays as safetensors bytes: u64-LE header length, JSON header padded
 * with spaces to a multiple of 8, then the packed little-endian data in insertion order.
 * `metadata` values must be strings (the format's rule).
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new Error(`encodeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    const count = elementCount(tensor.shape);
    if (count !== tensor.data.length) {
      throw new Error(`encodeSafetensors: tensor '${name}' has shape [${tensor.shape.join(', ')}] (${count} elements) but ${tensor.data.length} values`);
    }
    const dtype: StoredDType = tensor.data instanceof Int32Array ? 'I32' : 'F32';
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += ' '.repeat(padded - headerBytes.length);
  headerBytes = encoder.encode(json);

  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors.values()) {
    // Typed arrays are host-endian; every platform Node runs on is little-endian, as the format wants.
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    position += tensor.data.byteLength;
  }
  return out;
}

/**
 * Decodes safetensors bytes (F32 and I32 only) into name -> array, validating the header:
 * offsets inside the data section, sizes matching shapes, no gaps or overlaps.
 * `source` names the file in error messages.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`readSafetensors(${source}): ${bytes.length} bytes, expected at least 8 (header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) {
    throw new Error(`readSafetensors(${source}): header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new Error(`readSafetensors(${source}): header is not valid JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, NamedArray>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in DTYPE_OF)) throw new Error(`readSafetensors(${source}): tensor '${name}' has dtype ${dtype}, expected F32 or I32`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`readSafetensors(${source}): tensor '${name}' has shape ${JSON.stringify(shape)}, expected a list of non-negative integers`);
    }
    const [begin, end] = offsets ?? [];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      throw new Error(`readSafetensors(${source}): tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, outside the ${dataLength}-byte data section`);
    }
    const Kind = DTYPE_OF[dtype as StoredDType];
    const expectedBytes = elementCount(shape) * Kind.BYTES_PER_ELEMENT;
    if (end - begin !== expectedBytes) {
      throw new Error(`readSafetensors(${source}): tensor '${name}' of shape [${shape.join(', ')}] needs ${expectedBytes} bytes, offsets give ${end - begin}`);
    }
    // Copy so the result is aligned and owns its buffer (Buffer#slice would share a pooled one).
    const copy = new Uint8Array(expectedBytes);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { shape, data: new Kind(copy.buffer) });
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor) throw new Error(`readSafetensors(${source}): tensor '${name}' starts at byte ${begin}, expected ${cursor} (gap or overlap)`);
    cursor = end;
  }
  if (cursor !== dataLength) throw new Error(`readSafetensors(${source}): tensors cover ${cursor} of ${dataLength} data bytes`);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  return { tensors, metadata };
}

/** Reads a .safetensors file (F32/I32) into name -> array. */
export function readSafetensorsFile(path: string): Map<string, NamedArray> {
  return decodeSafetensors(readFileSync(path), path).tensors;
}
