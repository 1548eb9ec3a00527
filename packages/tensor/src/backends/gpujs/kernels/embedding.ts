/**
 * Embedding lookups: Gather (rows of a table by id) and its gradient ScatterAdd. Ids are
 * validated on the host (GL storages made by fromHost keep their host copy, so this costs no
 * readback there). ScatterAdd is a kernel over output rows: the host sorts the ids into
 * per-row lists (CSR), and each output cell sums the dy rows listed for its row, in ascending
 * n, so the result is deterministic and no two threads write one cell.
 */
import type { KernelFunc, KernelGroup } from '../../../engine/kernels.js';
import { k, type Program } from '../program.js';
import { GpujsStorage } from '../storage.js';
import { activeBackend, expectInputs, out, zerosStorage } from './common.js';
import { formatShape } from '../../../shape.js';

const gather: KernelFunc = (inputs) => {
  expectInputs('Gather', inputs, 2);
  const backend = activeBackend('Gather');
  const [weight, ids] = inputs;
  if (weight.shape.length !== 2 || ids.shape.length !== 1) {
    throw new Error(`gpujs kernel Gather: expected weight [V, H] and ids [N], got ${formatShape(weight.shape)} and ${formatShape(ids.shape)}`);
  }
  const [V, H] = weight.shape;
  const N = ids.shape[0];
  const idStorage = backend.storageOf(ids, 'Gather');
  const values = backend.hostValues(idStorage);
  for (let n = 0; n < N; n++) {
    const id = values[n];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new Error(`gpujs kernel Gather: ids[${n}] = ${id} is out of range for a weight of ${V} rows`);
    }
  }
  if (N === 0 || H === 0) return [out(backend, new GpujsStorage(new Float32Array(0), 0), [N, H], weight.dtype)];
  const program: Program = {
    name: 'Gather',
    grid: { x: H, y: N, z: 1 },
    constants: { H },
    source: (cg) => `function(w, ids) { ${cg.ids} return w[${cg.toInt(`ids[${cg.gy}]`)} * ${k('H')} + ${cg.gx}]; }`,
  };
  return [out(backend, backend.run(program, [backend.storageOf(weight, 'Gather'), idStorage]), [N, H], weight.dtype)];
};

const scatterAdd: KernelFunc<'ScatterAdd'> = (inputs, attrs) => {
  expectInputs('ScatterAdd', inputs, 2);
  const backend = activeBackend('ScatterAdd');
  const [dy, ids] = inputs;
  const V = attrs.numRows;
  const padding = attrs.paddingIdx === null || attrs.paddingIdx === undefined ? null : attrs.paddingIdx;
  if (dy.shape.length !== 2 || ids.shape.length !== 1 || dy.shape[0] !== ids.shape[0]) {
    throw new Error(`gpujs kernel ScatterAdd: expected dy [N, H] and ids [N], got ${formatShape(dy.shape)} and ${formatShape(ids.shape)}`);
  }
  const [N, H] = dy.shape;
  const values = backend.hostValues(backend.storageOf(ids, 'ScatterAdd'));
  // counting sort of n by id: rowStart[v]..rowStart[v+1] lists the n with ids[n] = v, ascending
  const counts = new Int32Array(V + 1);
  for (let n = 0; n < N; n++) {
    const id = values[n];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new Error(`gpujs kernel ScatterAdd: ids[${n}] = ${id} is out of range for numRows ${V}`);
    }
    if (id !== padding) counts[id + 1]++;
  }
  let maxCount = 0;
  for (let v = 0; v < V; v++) {
    maxCount = Math.max(maxCount, counts[v + 1]);
    counts[v + 1] += counts[v];
  }
  const nnz = counts[V];
  if (nnz === 0 || H === 0) return [out(backend, zerosStorage(backend, V * H), [V, H])];
  const rowStart = Float32Array.from(counts);
  // N long, not nnz: argument sizes are part of the compiled kernel, and nnz varies per batch
  const order = new Float32Array(N);
  const fill = counts.slice(0, V);
  for (let n = 0; n < N; n++) {
    const id = values[n];
    if (id !== padding) order[fill[id]++] = n;
  }
  // the per-row loop bound is data-dependent; round gpu.js's loop cap up so it rarely recompiles
  const loopMax = 2 ** Math.ceil(Math.log2(maxCount));
  const program: Program = {
    name: 'ScatterAdd',
    grid: { x: H, y: V, z: 1 },
    constants: { H },
    loopMax,
    source: (cg) =>
      [
        'function(dy, rowStart, order) {',
        cg.ids,
        // s, e and j stay below N < 2^24, so float locals hold them exactly
        `const s = rowStart[${cg.gy}]; const e = rowStart[${cg.gy} + 1];`,
        'let acc = 0.0;',
        `for (let j = s; j < e; j++) { acc += dy[${cg.toInt('order[j]')} * ${k('H')} + ${cg.gx}]; }`,
        'return acc;',
        '}',
      ].join(' '),
  };
  return [out(backend, backend.run(program, [backend.storageOf(dy, 'ScatterAdd'), rowStart, order]), [V, H])];
};

export const embeddingKernels: KernelGroup = { Gather: gather, ScatterAdd: scatterAdd };
