/**
 * Sum over axes. After dropping size-1 dims and merging neighbours of the same kind the input
 * is [K1?, R, K2?] (one reduced run): one kernel over the kept grid [K1, K2] with a blocked
 * loop over R. Several reduced runs are first transposed to [kept..., reduced...] (a second
 * kernel) and then summed as [K, R].
 */
import type { KernelFunc, KernelGroup } from '../../../engine/kernels.js';
import type { GpujsBackend } from '../backend.js';
import { k, sumLoop, type Program } from '../program.js';
import { formatShape, stridesOf, sizeOf } from '../../../shape.js';
import type { GpujsStorage } from '../storage.js';
import { activeBackend, expectInputs, out, zerosStorage } from './common.js';
import { gatherStrided } from './strided.js';

/** Sum of x viewed as [K1, R, K2] over R -> [K1, K2]. */
export function sumMiddle(backend: GpujsBackend, x: GpujsStorage, k1: number, r: number, k2: number, name = 'Sum'): GpujsStorage {
  const program: Program = {
    name,
    grid: { x: k2, y: k1, z: 1 },
    loopMax: r,
    source: (cg, constants) => {
      constants.RK2 = r * k2;
      constants.K2 = k2;
      const base = cg.def('base', `${cg.gy} * ${k('RK2')} + ${cg.gx}`);
      const term = k2 === 1 ? (i: string) => `x[${cg.use('base')} + ${i}]` : (i: string) => `x[${cg.use('base')} + ${i} * ${k('K2')}]`;
      return `function(x) { ${cg.ids} ${base} ${sumLoop(cg, 'acc', r, term, 'r', constants)} return acc; }`;
    },
  };
  return backend.run(program, [x]);
}

const sum: KernelFunc<'Sum'> = (inputs, attrs) => {
  expectInputs('Sum', inputs, 1);
  const backend = activeBackend('Sum');
  const [x] = inputs;
  const rank = x.shape.length;
  const axes = attrs.axes;
  if (axes.some((a) => a < 0 || a >= rank) || new Set(axes).size !== axes.length) {
    throw new Error(`gpujs kernel Sum: axes [${axes.join(', ')}] are not distinct dims of ${formatShape(x.shape)}`);
  }
  const reduced = new Set(axes);
  const keepDims = attrs.keepDims === true;
  const outShape = keepDims ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_, i) => !reduced.has(i));
  const outSize = sizeOf(outShape);
  const storage = backend.storageOf(x, 'Sum');
  if (outSize === 0) return [out(backend, zerosStorage(backend, 0), outShape)];
  if (sizeOf(x.shape) === 0) return [out(backend, zerosStorage(backend, outSize), outShape)];

  // runs of kept (false) / reduced (true) dims, size-1 dims dropped
  const runs: { reduced: boolean; size: number }[] = [];
  x.shape.forEach((d, i) => {
    if (d === 1) return;
    const isReduced = reduced.has(i);
    const last = runs[runs.length - 1];
    if (last && last.reduced === isReduced) last.size *= d;
    else runs.push({ reduced: isReduced, size: d });
  });
  const reducedRuns = runs.filter((run) => run.reduced);
  if (reducedRuns.length === 0) {
    // nothing of size > 1 is reduced: a copy (outputs never alias inputs)
    const copy = gatherStrided(backend, 'Sum/copy', storage, [outSize], [1], 0);
    return [out(backend, copy, outShape)];
  }
  if (reducedRuns.length === 1) {
    const at = runs.findIndex((run) => run.reduced);
    const k1 = sizeOf(runs.slice(0, at).map((run) => run.size));
    const k2 = sizeOf(runs.slice(at + 1).map((run) => run.size));
    return [out(backend, sumMiddle(backend, storage, k1, runs[at].size, k2), outShape)];
  }
  // bring the reduced dims last, then sum rows
  const strides = stridesOf(x.shape);
  const order = [...x.shape.keys()].filter((i) => !reduced.has(i)).concat([...x.shape.keys()].filter((i) => reduced.has(i)));
  const moved = gatherStrided(
    backend,
    'Sum/transpose',
    storage,
    order.map((i) => x.shape[i]),
    order.map((i) => strides[i]),
    0,
  );
  const r = sizeOf(axes.map((a) => x.shape[a]));
  const summed = sumMiddle(backend, moved, outSize, r, 1);
  moved.dispose();
  return [out(backend, summed, outShape)];
};

export const reduceKernels: KernelGroup = { Sum: sum };
