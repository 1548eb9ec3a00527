/**
 * The safetensors file format (https://github.com/huggingface/safetensors), read and written
 * without the official library:
 *
 *   u64 LE header length N | N bytes of JSON header (space padded) | data section
 *
 * Header: `{"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}`,
 * offsets relative to the data section. Reading validates everything the official library does
 * (bounded header, offsets inside the data, packed without gaps or overlap, byte counts matching
 * dtype x shape) so a truncated or corrupt file fails with the file and tensor named.
 */
import { nodeFs, writeFileAtomic } from '@retro/common';

/** Bytes per element of every dtype the format defines. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const;

export type SafetensorsDType = keyof typeof DTYPE_BYTES;

/** Same limit as the official reader: a bigger header is treated as corruption. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor as stored: dtype, shape and its raw little-endian bytes. */
export interface RawTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** A copy of the tensor's bytes (own buffer, offset 0). */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** The file (or label) the tensors came from, for error messages. */
  readonly source: string;
  readonly metadata: Record<string, string>;
  /** name -> tensor, in header order. */
  readonly tensors: Map<string, RawTensor>;
}

function fail(source: string, message: string): never {
  throw new Error(`safetensors ${source}: ${message}`);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const dim of shape) n *= dim;
  return n;
}

/**
 * Parses a safetensors image. `source` names the file in errors.
 * Returns every tensor's raw bytes; convert with `toFloat32` / `toInt32`.
 */
export function parseSafetensors(buffer: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (buffer.byteLength < 8) {
    fail(source, `file is ${buffer.byteLength} bytes, expected at least 8 (the header length); truncated or not a safetensors file`);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(source, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit; corrupt or not a safetensors file`);
  }
  const n = Number(headerLength);
  if (8 + n > buffer.byteLength) {
    fail(source, `header length ${n} needs ${8 + n} bytes but the file has ${buffer.byteLength}; truncated`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(8, 8 + n)));
  } catch (error) {
    fail(source, `header (${n} bytes) is not valid UTF-8 JSON: ${(error as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(source, `header must be a JSON object, found ${Array.isArray(header) ? 'an array' : typeof header}`);
  }
  const dataStart = 8 + n;
  const dataLength = buffer.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(source, `__metadata__ must be an object of strings`);
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== 'string') fail(source, `__metadata__.${key} must be a string, found ${JSON.stringify(text)}`);
        metadata[key] = text;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(source, `${where}: entry must be an object, found ${JSON.stringify(value)}`);
    const entry = value as Record<string, unknown>;
    const dtype = entry.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      fail(source, `${where}: dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(source, `${where}: shape must be a list of non-negative integers, found ${JSON.stringify(shape)}`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(source, `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, found ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = product(shape as number[]) * DTYPE_BYTES[dtype as SafetensorsDType];
    if (end - begin !== expectedBytes) {
      fail(source, `${where}: ${dtype} [${(shape as number[]).join(',')}] needs ${expectedBytes} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataLength) {
      fail(source, `${where}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes); truncated`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end });
  }
  // Packed without gaps or overlap, in offset order, covering the whole data section.
  const byOffset = [...entries].sort((p, q) => p.begin - q.begin || p.end - q.end);
  let cursor = 0;
  let previous = '';
  for (const entry of byOffset) {
    if (entry.begin < cursor) fail(source, `tensor '${entry.name}': data_offsets [${entry.begin}, ${entry.end}] overlap tensor '${previous}' (ends at ${cursor})`);
    if (entry.begin > cursor) {
      fail(source, `tensor '${entry.name}': data_offsets start at ${entry.begin}, expected ${cursor} (${previous ? `end of '${previous}'` : 'start of data'}); gap in the data section`);
    }
    cursor = entry.end;
    previous = entry.name;
  }
  if (cursor !== dataLength) {
    fail(source, `data section is ${dataLength} bytes but the tensors cover ${cursor}; ${dataLength > cursor ? 'trailing bytes' : 'truncated'}`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, bytes: buffer.slice(dataStart + entry.begin, dataStart + entry.end) });
  }
  return { source, metadata, tensors };
}

/** Reads and validates a .safetensors file. */
export function readSafetensors(path: string): SafetensorsFile {
  let buffer: Buffer;
  try {
    buffer = nodeFs.readFileSync(path);
  } catch (error) {
    throw new Error(`safetensors ${path}: cannot read: ${(error as Error).message}`);
  }
  return parseSafetensors(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), path);
}

/**
 * The tensor names of a .safetensors file from its header alone (no tensor data read), e.g. to
 * decide which model to build before loading. Full validation happens when the file is read.
 */
export function readSafetensorsHeader(path: string): string[] {
  let fd: number;
  try {
    fd = nodeFs.openSync(path, 'r');
  } catch (error) {
    throw new Error(`safetensors ${path}: cannot read: ${(error as Error).message}`);
  }
  try {
    const prefix = new Uint8Array(8);
    if (nodeFs.readSync(fd, prefix, 0, 8, 0) !== 8) fail(path, 'file is shorter than 8 bytes (the header length); truncated or not a safetensors file');
    const length = new DataView(prefix.buffer).getBigUint64(0, true);
    if (length > BigInt(MAX_HEADER_BYTES)) fail(path, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit; corrupt or not a safetensors file`);
    const header = new Uint8Array(Number(length));
    if (nodeFs.readSync(fd, header, 0, header.length, 8) !== header.length) fail(path, `header length ${length} runs past the end of the file; truncated`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(header));
    } catch (error) {
      fail(path, `header is not valid JSON: ${(error as Error).message}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(path, 'header must be a JSON object');
    return Object.keys(json as object).filter((name) => name !== '__metadata__');
  } finally {
    nodeFs.closeSync(fd);
  }
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The values of a float tensor (F32, F16, BF16, F64) as float32. F16/BF16 widen exactly;
 * F64 rounds to nearest. `source`/`name` label the error for other dtypes.
 */
export function toFloat32(tensor: RawTensor, source = '<buffer>', name = '<tensor>'): Float32Array {
  const { bytes } = tensor;
  const count = product(tensor.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (tensor.dtype) {
    case 'F32': {
      if (littleEndianHost && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const words = new Uint32Array(count);
      for (let i = 0; i < count; i++) words[i] = view.getUint16(i * 2, true) << 16;
      return new Float32Array(words.buffer);
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new Error(`safetensors ${source}: tensor '${name}' has dtype ${tensor.dtype}, expected a float dtype (F32, F16, BF16 or F64)`);
  }
}

/** The values of an integer tensor (I32, I64 within int32 range, I16, I8, U8, U16, BOOL) as int32. */
export function toInt32(tensor: RawTensor, source = '<buffer>', name = '<tensor>'): Int32Array {
  const count = product(tensor.shape);
  const view = new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  const out = new Int32Array(count);
  const read: Partial<Record<SafetensorsDType, (i: number) => number | bigint>> = {
    I32: (i) => view.getInt32(i * 4, true),
    I64: (i) => view.getBigInt64(i * 8, true),
    I16: (i) => view.getInt16(i * 2, true),
    U16: (i) => view.getUint16(i * 2, true),
    I8: (i) => view.getInt8(i),
    U8: (i) => view.getUint8(i),
    BOOL: (i) => view.getUint8(i),
  };
  const get = read[tensor.dtype];
  if (!get) throw new Error(`safetensors ${source}: tensor '${name}' has dtype ${tensor.dtype}, expected an integer dtype (I32, I64, I16, I8, U16, U8, BOOL)`);
  for (let i = 0; i < count; i++) {
    const value = get(i);
    if (typeof value === 'bigint' && (value > 2147483647n || value < -2147483648n)) {
      throw new Error(`safetensors ${source}: tensor '${name}' entry ${i} = ${value} does not fit in int32`);
    }
    out[i] = Number(value);
  }
  return out;
}

/** What `writeSafetensors` stores for one name. */
export type TensorToWrite =
  | { readonly dtype?: 'F32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype?: 'I32'; readonly shape: readonly number[]; readonly data: Int32Array }
  /** Raw little-endian bytes of any dtype (e.g. F16 written elsewhere). */
  | { readonly dtype: SafetensorsDType; readonly shape: readonly number[]; readonly bytes: Uint8Array };

function bytesOf(name: string, tensor: TensorToWrite): { dtype: SafetensorsDType; bytes: Uint8Array } {
  const expectedCount = product(tensor.shape);
  if ('bytes' in tensor) {
    const expected = expectedCount * DTYPE_BYTES[tensor.dtype];
    if (tensor.bytes.byteLength !== expected) {
      throw new Error(`writeSafetensors: tensor '${name}' ${tensor.dtype} [${tensor.shape.join(',')}] needs ${expected} bytes, got ${tensor.bytes.byteLength}`);
    }
    return { dtype: tensor.dtype, bytes: tensor.bytes };
  }
  if (tensor.data.length !== expectedCount) {
    throw new Error(`writeSafetensors: tensor '${name}' has ${tensor.data.length} values for shape [${tensor.shape.join(',')}] (${expectedCount} elements)`);
  }
  const dtype: SafetensorsDType = tensor.data instanceof Int32Array ? 'I32' : 'F32';
  if (tensor.dtype && tensor.dtype !== dtype) {
    throw new Error(`writeSafetensors: tensor '${name}' says dtype ${tensor.dtype} but holds ${tensor.data.constructor.name}`);
  }
  const out = new Uint8Array(tensor.data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < tensor.data.length; i++) {
    if (dtype === 'F32') view.setFloat32(i * 4, tensor.data[i], true);
    else view.setInt32(i * 4, tensor.data[i], true);
  }
  return { dtype, bytes: out };
}

/**
 * Serialises tensors: names sorted, data packed in that order, header JSON padded with spaces
 * to a multiple of 8 bytes (so the data section is 8-byte aligned).
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error(`writeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    const { dtype, bytes } = bytesOf(name, map.get(name)!);
    header[name] = { dtype, shape: [...map.get(name)!.shape], data_offsets: [offset, offset + bytes.byteLength] };
    pieces.push(bytes);
    offset += bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let position = 8 + json.byteLength;
  for (const piece of pieces) {
    out.set(piece, position);
    position += piece.byteLength;
  }
  return out;
}

/** Writes a .safetensors file atomically (see `serializeSafetensors` for the layout). */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
