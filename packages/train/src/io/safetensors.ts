import { readFileSync } from 'node:fs';
import { parseSafetensors, serializeSafetensors, toFloat32, toInt32, type TensorToWrite } from '@retro/bert';

/** One named array as safetensors stores it: row-major values plus their shape. */
export interface NamedArray {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/**
 * Named F32/I32 arrays as safetensors bytes (the validated reader/writer of @retro/bert).
 * `metadata` values must be strings (the format's rule); format "pt" is always recorded.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  return serializeSafetensors(tensors as ReadonlyMap<string, TensorToWrite>, { format: 'pt', ...metadata });
}

/** Parses safetensors bytes into F32 (I32 kept as I32) arrays; `source` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  const file = parseSafetensors(bytes, source);
  const tensors = new Map<string, NamedArray>();
  for (const [name, raw] of file.tensors) {
    tensors.set(name, { shape: raw.shape, data: raw.dtype === 'I32' ? toInt32(raw, source, name) : toFloat32(raw, source, name) });
  }
  return { tensors, metadata: file.metadata };
}

export function readSafetensorsFile(path: string): Map<string, NamedArray> {
  return decodeSafetensors(readFileSync(path), path).tensors;
}
