/**
 * The RetroMAE fixtures (test-fixtures/retromae: float64 PyTorch/HF references) as the tests of
 * bert, enhanced-decoder and train read them, the backends to run on, and error measures.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setBackend } from '@retro/tensor';

export const FIXTURES = fileURLToPath(new URL('../test-fixtures/retromae/', import.meta.url));
export type Kind = 'bert' | 'roberta';

export interface FixtureInputs {
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][];
  encoder_input_ids: number[][];
  encoder_labels: number[][];
  encoder_position_ids: number[][];
  lengths: number[];
}

export function fixtureDir(kind: Kind): string {
  return `${FIXTURES}${kind}`;
}

export function fixtureInputs(kind: Kind): FixtureInputs {
  return JSON.parse(readFileSync(`${fixtureDir(kind)}/inputs.json`, 'utf8')) as FixtureInputs;
}

export function fixtureConfig(kind: Kind): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixtureDir(kind)}/config.json`, 'utf8')) as Record<string, unknown>;
}

/** A fixture's inputs.json with the RetroMAE decoder's fields. */
export interface RetroMAEFixtureInputs extends FixtureInputs {
  decoder_input_ids: number[][];
  decoder_attention_mask: number[][][];
  decoder_labels: number[][];
  decoder_embedding_position_ids: number[][];
}

/** The fixture's batch as RetroMAEForPretraining.forward takes it (@retro/enhanced-decoder's RetroMAEBatch). */
export function retroMAEFixtureBatch(kind: Kind) {
  const inputs = fixtureInputs(kind) as RetroMAEFixtureInputs;
  return {
    encoderInputIds: inputs.encoder_input_ids,
    encoderAttentionMask: inputs.attention_mask,
    encoderLabels: inputs.encoder_labels,
    encoderPositionIds: inputs.encoder_position_ids,
    decoderInputIds: inputs.decoder_input_ids,
    decoderAttentionMask: inputs.decoder_attention_mask,
    decoderLabels: inputs.decoder_labels,
    decoderPositionIds: inputs.decoder_embedding_position_ids,
  };
}

/** Minimal independent safetensors reader (DataView, no validation) for F32 files. */
export function readF32File(path: string): Map<string, { shape: number[]; data: Float64Array }> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`readF32File: ${name} is ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const data = new Float64Array((end - begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + n + begin + i * 4, true);
    out.set(name, { shape: entry.shape, data });
  }
  return out;
}

/** Backends to run on: cpu always, gpujs when it starts here (else a reason to print). */
export function backendsUnderTest(): Array<{ name: string; reason: string | null }> {
  const result: Array<{ name: string; reason: string | null }> = [{ name: 'cpu', reason: null }];
  try {
    setBackend('gpujs');
    result.push({ name: 'gpujs', reason: null });
  } catch (error) {
    result.push({ name: 'gpujs', reason: (error as Error).message });
  } finally {
    setBackend('cpu');
  }
  return result;
}

/** max |got - exp| and max |exp| over a tensor. */
export function maxErrors(got: ArrayLike<number>, expected: ArrayLike<number>): { maxAbsErr: number; maxAbsRef: number } {
  if (got.length !== expected.length) throw new Error(`maxErrors: ${got.length} values vs ${expected.length}`);
  let maxAbsErr = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < got.length; i++) {
    maxAbsErr = Math.max(maxAbsErr, Math.abs(got[i] - expected[i]));
    maxAbsRef = Math.max(maxAbsRef, Math.abs(expected[i]));
  }
  return { maxAbsErr, maxAbsRef };
}
