/**
 * Turning user inputs (nested arrays or tensors) into the int32 / float32 tensors the model
 * runs on, with the range checks that give an error naming the input instead of a kernel crash.
 */
import { Tensor, additiveMask, tensor, formatShape } from '@retro/tensor';

/** A [B, L] (or [B, L, L]) integer batch: nested number arrays or a tensor. */
export type IdsInput = Tensor | readonly (readonly number[])[];
/** Masks may also be [B, L, L] (per query row), as nested arrays or a tensor. */
export type MaskInput = Tensor | readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[];

/** `value` as an int32 tensor; `what` names the input in errors. Float tensors must hold integers. */
export function toIdsTensor(value: IdsInput | MaskInput, what: string): Tensor {
  if (value instanceof Tensor) {
    if (value.dtype === 'int32') return value;
    const data = value.toFloat32Array();
    const index = data.findIndex((x) => !Number.isInteger(x));
    if (index >= 0) throw new Error(`${what}: float32 tensor ${formatShape(value.shape)} holds non-integer ${data[index]} at flat index ${index}`);
    return tensor(Int32Array.from(data), value.shape);
  }
  if (!Array.isArray(value)) throw new Error(`${what}: expected nested number arrays or a Tensor, found ${typeof value}`);
  // tensor() would truncate a fractional id silently; that is a caller bug worth naming.
  const flat = (value as unknown[]).flat(Infinity) as unknown[];
  const index = flat.findIndex((x) => typeof x !== 'number' || !Number.isInteger(x));
  if (index >= 0) throw new Error(`${what}: entry ${JSON.stringify(flat[index])} at flat index ${index} is not an integer`);
  return tensor(value as number[][], undefined, { dtype: 'int32' });
}

/** Throws unless every entry of `ids` lies in [low, high). */
export function checkRange(ids: Tensor, low: number, high: number, what: string, why: string): void {
  const data = ids.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (data[i] < low || data[i] >= high) {
      const coords = unravel(i, ids.shape);
      throw new Error(`${what}: entry ${data[i]} at [${coords.join(', ')}] is outside [${low}, ${high}) (${why})`);
    }
  }
}

export function checkShape(actual: readonly number[], expected: readonly number[], what: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: shape ${formatShape(actual)}, expected ${formatShape(expected)}`);
  }
}

function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    coords[axis] = index % shape[axis];
    index = Math.floor(index / shape[axis]);
  }
  return coords;
}

/**
 * HF's extended attention mask of a user's `attentionMask` (@retro/tensor's additiveMask, the one
 * implementation): (1 - mask) * MASK_MIN, additive, no gradient.
 * mask [B, Lk] (1 = attend) -> [B, 1, 1, Lk]; mask [B, Lq, Lk] -> [B, 1, Lq, Lk].
 */
export function extendedAttentionMask(mask: MaskInput, what = 'attentionMask'): Tensor {
  const source = mask instanceof Tensor ? mask : toIdsTensor(mask, what);
  if (source.rank !== 2 && source.rank !== 3) {
    throw new Error(`${what}: expected [B, L] or [B, Lq, Lk], got ${formatShape(source.shape)}`);
  }
  return additiveMask(source.dataSync(), source.shape);
}

/**
 * HF `create_position_ids_from_input_ids`: real tokens get padding_idx + 1, + 2, ... (cumulative
 * over non-pad tokens); pads get padding_idx. ids int32 [B, L] -> int32 [B, L].
 */
export function robertaPositionIds(ids: Tensor, paddingIdx: number): Tensor {
  const data = ids.dataSync();
  const [batch, length] = ids.shape;
  const out = new Int32Array(data.length);
  for (let b = 0; b < batch; b++) {
    let count = 0;
    for (let i = 0; i < length; i++) {
      const real = data[b * length + i] !== paddingIdx;
      if (real) count++;
      out[b * length + i] = real ? count + paddingIdx : paddingIdx;
    }
  }
  return tensor(out, [batch, length]);
}

/** 0..L-1 for every row: int32 [B, L]. */
export function sequentialPositionIds(batch: number, length: number): Tensor {
  const out = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let i = 0; i < length; i++) out[b * length + i] = i;
  return tensor(out, [batch, length]);
}
