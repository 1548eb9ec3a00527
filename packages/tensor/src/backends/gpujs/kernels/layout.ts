/** Layout kernels: Transpose, Slice, SliceGrad, Concat. Each output is materialised. */
import type { KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import type { GpujsBackend } from '../backend.js';
import { gridCoords, gridForDims, k, offsetExpr, type Program } from '../program.js';
import { formatShape, stridesOf, normalizeAxis, sizeOf } from '../../../shape.js';
import { GpujsStorage } from '../storage.js';
import { activeBackend, expectInputs, out, zerosStorage } from './common.js';
import { gatherStrided } from './strided.js';

const transpose: KernelFunc<'Transpose'> = (inputs, attrs) => {
  expectInputs('Transpose', inputs, 1);
  const backend = activeBackend('Transpose');
  const [x] = inputs;
  const perm = attrs.perm;
  const rank = x.shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`gpujs kernel Transpose: perm [${perm.join(', ')}] is not a permutation of the ${rank} dims of ${formatShape(x.shape)}`);
  }
  const inStrides = stridesOf(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const storage = gatherStrided(backend, 'Transpose', backend.storageOf(x, 'Transpose'), shape, perm.map((p) => inStrides[p]), 0);
  return [out(backend, storage, shape, x.dtype)];
};

const slice: KernelFunc<'Slice'> = (inputs, attrs) => {
  expectInputs('Slice', inputs, 1);
  const backend = activeBackend('Slice');
  const [x] = inputs;
  const begin = attrs.begin;
  const size = attrs.size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  checkBox('Slice', x.shape, begin, size);
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  const storage = gatherStrided(backend, 'Slice', backend.storageOf(x, 'Slice'), size, strides, offset);
  return [out(backend, storage, size, x.dtype)];
};

function checkBox(kernel: string, shape: readonly number[], begin: readonly number[], size: readonly number[]): void {
  const bad =
    begin.length !== shape.length ||
    size.length !== shape.length ||
    shape.some((d, i) => begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > d);
  if (bad) {
    throw new Error(`gpujs kernel ${kernel}: box begin [${begin.join(', ')}] size [${size.join(', ')}] does not fit in ${formatShape(shape)}`);
  }
}

const sliceGrad: KernelFunc<'SliceGrad'> = (inputs, attrs) => {
  expectInputs('SliceGrad', inputs, 1);
  const backend = activeBackend('SliceGrad');
  const [dy] = inputs;
  const begin = attrs.begin;
  const shape = attrs.shape;
  checkBox('SliceGrad', shape, begin, dy.shape);
  if (sizeOf(dy.shape) === 0 || sizeOf(shape) === 0) return [out(backend, zerosStorage(backend, sizeOf(shape)), shape)];
  const merged = mergeSliceDims(shape, begin, dy.shape);
  const outDims = merged.map((d) => d.s);
  const dyStrides = stridesOf(merged.map((d) => d.z));
  const dyBase = -merged.reduce((acc, d, i) => acc + d.b * dyStrides[i], 0);
  const program: Program = {
    name: 'SliceGrad',
    grid: gridForDims(outDims),
    source: (cg, constants) => {
      const { code, coords } = gridCoords(cg, outDims, 'o', constants);
      const conds: string[] = [];
      merged.forEach((d, i) => {
        if (d.b === 0 && d.z === d.s) return;
        constants[`lo${i}`] = d.b;
        constants[`hi${i}`] = d.b + d.z;
        conds.push(`${coords[i]} >= ${k(`lo${i}`)} && ${coords[i]} < ${k(`hi${i}`)}`);
      });
      const offset = offsetExpr(coords, dyStrides, dyBase, 'd', constants);
      const read = conds.length > 0 ? `let v = 0.0; if (${conds.join(' && ')}) { v = dy[${offset}]; }` : `const v = dy[${offset}];`;
      return `function(dy) { ${cg.ids} ${code} ${read} return v; }`;
    },
  };
  const storage = backend.run(program, [backend.storageOf(dy, 'SliceGrad')]);
  return [out(backend, storage, shape)];
};

/**
 * Dims of a box-in-shape problem with size-1 dims dropped and each dim merged into its outer
 * neighbour when it (and everything merged into it) is covered whole by the box.
 */
function mergeSliceDims(shape: readonly number[], begin: readonly number[], size: readonly number[]) {
  const merged: { s: number; b: number; z: number }[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    const s = shape[i];
    if (s === 1) continue;
    const inner = merged[0];
    if (inner && inner.b === 0 && inner.z === inner.s) {
      merged[0] = { s: s * inner.s, b: begin[i] * inner.s, z: size[i] * inner.s };
      continue;
    }
    merged.unshift({ s, b: begin[i], z: size[i] });
  }
  return merged;
}

/** Most inputs one Concat program takes (GL samplers are limited); more are chained. */
const CONCAT_CHUNK = 8;

const concat: KernelFunc<'Concat'> = (inputs, attrs) => {
  if (inputs.length === 0) throw new Error('gpujs kernel Concat: expected at least 1 input');
  const backend = activeBackend('Concat');
  const rank = inputs[0].shape.length;
  const axis = normalizeAxis('gpujs kernel Concat', attrs.axis, rank);
  for (const x of inputs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
      throw new Error(
        `gpujs kernel Concat: along axis ${axis} all other dims must match, got ${inputs.map((i) => formatShape(i.shape)).join(' and ')}`,
      );
    }
  }
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((acc, x) => acc + x.shape[axis], 0);
  const parts = inputs.filter((x) => sizeOf(x.shape) > 0);
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  let storage: GpujsStorage;
  if (sizeOf(shape) === 0) storage = new GpujsStorage(new Float32Array(0), 0);
  else storage = concatParts(backend, parts, axis, outer, inner);
  return [out(backend, storage, shape, inputs[0].dtype)];
};

function concatParts(backend: GpujsBackend, parts: readonly TensorInfo[], axis: number, outer: number, inner: number): GpujsStorage {
  if (parts.length > CONCAT_CHUNK) {
    const head = concatParts(backend, parts.slice(0, CONCAT_CHUNK), axis, outer, inner);
    const headLen = parts.slice(0, CONCAT_CHUNK).reduce((acc, x) => acc + x.shape[axis], 0);
    const headShape = [...parts[0].shape];
    headShape[axis] = headLen;
    const result = concatParts(backend, [backend.wrap(head, headShape), ...parts.slice(CONCAT_CHUNK)], axis, outer, inner);
    head.dispose();
    return result;
  }
  const lens = parts.map((x) => x.shape[axis]);
  const total = lens.reduce((a, b) => a + b, 0);
  const program: Program = {
    name: 'Concat',
    grid: { x: inner, y: total, z: outer },
    source: (cg, constants) => {
      constants.IN = inner;
      let start = 0;
      const branches = parts.map((_, i) => {
        constants[`A${i}`] = lens[i];
        constants[`E${i}`] = start;
        const read = `x${i}[(${cg.gz} * ${k(`A${i}`)} + ${cg.gy} - ${k(`E${i}`)}) * ${k('IN')} + ${cg.gx}]`;
        start += lens[i];
        if (i === parts.length - 1) return `{ v = ${read}; }`;
        constants[`F${i}`] = start;
        return `if (${cg.gy} < ${k(`F${i}`)}) { v = ${read}; } else `;
      });
      return `function(${parts.map((_, i) => `x${i}`).join(', ')}) { ${cg.ids} let v = 0.0; ${branches.join('')} return v; }`;
    },
  };
  return backend.run(
    program,
    parts.map((x) => backend.storageOf(x, 'Concat')),
  );
}

export const layoutKernels: KernelGroup = {
  Transpose: transpose,
  Slice: slice,
  SliceGrad: sliceGrad,
  Concat: concat,
};
