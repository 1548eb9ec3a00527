/**
 * The in-place kernels. gpu.js kernels cannot write into an input, so both compute new values
 * and then `assign` them to the input storages: host arrays are overwritten element-wise (the
 * same arrays, so every alias sees the update, as on cpu); GL storages swap in the new
 * textures. Either way, reading p/m/v (or acc) after the call gives the updated values.
 */
import type { KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import type { Program } from '../program.js';
import { sizeOf } from '../../../shape.js';
import { activeBackend, expectInputs, expectSameShape } from './common.js';
import { mapStrided } from './strided.js';
import { embeddingKernels } from './embedding.js';
import type { GpujsStorage } from '../storage.js';
import { formatShape } from '../../../shape.js';

const adamW: KernelFunc<'AdamW'> = (inputs, attrs) => {
  expectInputs('AdamW', inputs, 4);
  const backend = activeBackend('AdamW');
  const [p, g, m, v] = inputs;
  for (const [name, info] of [['g', g], ['m', m], ['v', v]] as const) expectSameShape('AdamW', `p and ${name}`, p.shape, info.shape);
  const lr = attrs.lr;
  const beta1 = attrs.beta1;
  const beta2 = attrs.beta2;
  const eps = attrs.eps;
  const weightDecay = attrs.weightDecay;
  const step = attrs.step;
  const gradScale = attrs.gradScale;
  if (!(step >= 1)) throw new Error(`gpujs kernel AdamW: attr 'step' must be >= 1 (1 on the first update), got ${step}`);
  const n = sizeOf(p.shape);
  if (n === 0) return [];
  // torch.optim.AdamW: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
  // p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). Scalars go in as an argument array so
  // that the step count (which changes every call) never recompiles the kernel.
  const h = new Float32Array([
    1 - lr * weightDecay,
    beta1,
    // the clipping scale of g folded into (1-b1) g and (1-b2) g^2
    (1 - beta1) * gradScale,
    beta2,
    (1 - beta2) * gradScale * gradScale,
    lr / (1 - beta1 ** step),
    Math.sqrt(1 - beta2 ** step),
    eps,
  ]);
  const [ps, gs, ms, vs] = inputs.map((info) => backend.storageOf(info, 'AdamW'));
  const program: Program = {
    name: 'AdamW',
    grid: { x: n, y: 3, z: 1 },
    source: (cg) =>
      [
        'function(p, g, m, v, h) {',
        cg.ids,
        `const grad = g[${cg.gx}];`,
        `const m2 = h[1] * m[${cg.gx}] + h[2] * grad;`,
        `const v2 = h[3] * v[${cg.gx}] + h[4] * grad * grad;`,
        'let r = m2;',
        `if (${cg.gy} === 0) { r = p[${cg.gx}] * h[0] - h[5] * m2 / (Math.sqrt(v2) / h[6] + h[7]); }`,
        `if (${cg.gy} === 2) { r = v2; }`,
        'return r;',
        '}',
      ].join(' '),
  };
  const updated = backend.run(program, [ps, gs, ms, vs, h]);
  const [pNew, mNew, vNew] = backend.split(updated, [n, n, n]);
  backend.assign(ps, pNew);
  backend.assign(ms, mNew);
  backend.assign(vs, vNew);
  if (!backend.host) updated.dispose();
  return [];
};

const addInPlace: KernelFunc = (inputs) => {
  expectInputs('AddInPlace', inputs, 2);
  const backend = activeBackend('AddInPlace');
  const [acc, x] = inputs;
  expectSameShape('AddInPlace', 'acc and x', acc.shape, x.shape);
  if (sizeOf(acc.shape) === 0) return [];
  const target = backend.storageOf(acc, 'AddInPlace');
  const sum = mapStrided(
    backend,
    'AddInPlace',
    [sizeOf(acc.shape)],
    [
      { storage: target, strides: [1], offset: 0 },
      { storage: backend.storageOf(x, 'AddInPlace'), strides: [1], offset: 0 },
    ],
    ([a, b]) => ({ expr: `${a} + ${b}` }),
  );
  backend.assign(target, sum);
  return [];
};

/** acc += ScatterAdd(dy, ids): the row-list kernel into a temporary, then the in-place add. */
const scatterAddInPlace: KernelFunc<'ScatterAddInPlace'> = (inputs, attrs) => {
  expectInputs('ScatterAddInPlace', inputs, 3);
  const [acc, dy, ids] = inputs;
  if (acc.shape.length !== 2 || dy.shape.length !== 2 || acc.shape[1] !== dy.shape[1]) {
    throw new Error(`gpujs kernel ScatterAddInPlace: expected acc [V, H] and dy [N, H], got ${formatShape(acc.shape)} and ${formatShape(dy.shape)}`);
  }
  const backend = activeBackend('ScatterAddInPlace');
  const [scattered] = embeddingKernels.ScatterAdd!([dy, ids], { numRows: acc.shape[0], paddingIdx: attrs.paddingIdx }) as TensorInfo[];
  addInPlace([acc, scattered], {});
  if (!backend.host) (scattered.storage as GpujsStorage).dispose();
  return [];
};

export const optimKernels: KernelGroup = { AdamW: adamW, AddInPlace: addInPlace, ScatterAddInPlace: scatterAddInPlace };
