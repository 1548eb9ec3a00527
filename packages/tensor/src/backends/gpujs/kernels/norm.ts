/**
 * LayerNorm over the last axis and its gradient. Per-row statistics come from a row kernel
 * (grid [2, R]: row 0 = first statistic, row 1 = second, each a blocked loop over H), the
 * elementwise outputs from a second kernel reading them; dgamma/dbeta are column sums over R.
 */
import type { KernelFunc, KernelGroup } from '../../../engine/kernels.js';
import { k, sumLoop, type Program } from '../program.js';
import { formatShape, sizeOf } from '../../../shape.js';
import { activeBackend, expectInputs, out, zerosStorage } from './common.js';

function rowsOf(kernel: string, shape: readonly number[], others: { name: string; shape: readonly number[]; size: 'H' | 'R' }[]) {
  if (shape.length === 0) throw new Error(`gpujs kernel ${kernel}: x must have at least 1 dim, got []`);
  const H = shape[shape.length - 1];
  const R = sizeOf(shape) / (H || 1);
  for (const other of others) {
    const want = other.size === 'H' ? H : R;
    if (other.shape.length !== 1 || other.shape[0] !== want) {
      throw new Error(`gpujs kernel ${kernel}: ${other.name} must be [${want}] for x ${formatShape(shape)}, got ${formatShape(other.shape)}`);
    }
  }
  return { H, R };
}

const layerNorm: KernelFunc<'LayerNorm'> = (inputs, attrs) => {
  expectInputs('LayerNorm', inputs, 3);
  const backend = activeBackend('LayerNorm');
  const [x, gamma, beta] = inputs;
  const eps = attrs.eps;
  const { H, R } = rowsOf('LayerNorm', x.shape, [
    { name: 'gamma', shape: gamma.shape, size: 'H' },
    { name: 'beta', shape: beta.shape, size: 'H' },
  ]);
  if (R * H === 0) {
    return [out(backend, zerosStorage(backend, R * H), x.shape), out(backend, zerosStorage(backend, R), [R]), out(backend, zerosStorage(backend, R), [R])];
  }
  const xs = backend.storageOf(x, 'LayerNorm');
  const stats: Program = {
    name: 'LayerNorm/stats',
    grid: { x: R, y: 2, z: 1 },
    constants: { H, eps },
    source: (cg, constants) =>
      [
        'function(x) {',
        cg.ids,
        cg.def('base', `${cg.gx} * ${k('H')}`),
        sumLoop(cg, 's', H, (i) => `x[${cg.use('base')} + ${i}]`, 'a', constants),
        `const mean = s / ${k('H')};`,
        'let r = mean;',
        `if (${cg.gy} === 1) {`,
        sumLoop(cg, 'q', H, (i) => `(x[${cg.use('base')} + ${i}] - mean) * (x[${cg.use('base')} + ${i}] - mean)`, 'b', constants),
        `r = 1.0 / Math.sqrt(q / ${k('H')} + ${k('eps')});`,
        '}',
        'return r;',
        '}',
      ].join(' '),
  };
  const statStorage = backend.run(stats, [xs]);
  const apply: Program = {
    name: 'LayerNorm/apply',
    grid: { x: H, y: R, z: 1 },
    constants: { H, R },
    source: (cg) =>
      `function(x, st, gamma, beta) { ${cg.ids} ${cg.def('i', `${cg.gy} * ${k('H')} + ${cg.gx}`)} ` +
      `return (x[${cg.use('i')}] - st[${cg.gy}]) * st[${cg.gy} + ${k('R')}] * gamma[${cg.gx}] + beta[${cg.gx}]; }`,
  };
  const y = backend.run(apply, [xs, statStorage, backend.storageOf(gamma, 'LayerNorm'), backend.storageOf(beta, 'LayerNorm')]);
  const [mean, rstd] = backend.split(statStorage, [R, R]);
  if (!backend.host) statStorage.dispose();
  return [out(backend, y, x.shape), out(backend, mean, [R]), out(backend, rstd, [R])];
};

const layerNormGrad: KernelFunc = (inputs) => {
  expectInputs('LayerNormGrad', inputs, 5);
  const backend = activeBackend('LayerNormGrad');
  const [dy, x, gamma, mean, rstd] = inputs;
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`gpujs kernel LayerNormGrad: dy ${formatShape(dy.shape)} and x ${formatShape(x.shape)} must match`);
  }
  const { H, R } = rowsOf('LayerNormGrad', x.shape, [
    { name: 'gamma', shape: gamma.shape, size: 'H' },
    { name: 'mean', shape: mean.shape, size: 'R' },
    { name: 'rstd', shape: rstd.shape, size: 'R' },
  ]);
  if (R * H === 0) {
    return [out(backend, zerosStorage(backend, R * H), x.shape), out(backend, zerosStorage(backend, H), [H]), out(backend, zerosStorage(backend, H), [H])];
  }
  const [dys, xs, gs, ms, rs] = [dy, x, gamma, mean, rstd].map((info) => backend.storageOf(info, 'LayerNormGrad'));
  // per row: mean over h of g = dy*gamma, and of g*xhat
  const rowStats: Program = {
    name: 'LayerNormGrad/rows',
    grid: { x: R, y: 2, z: 1 },
    constants: { H },
    source: (cg, constants) =>
      [
        'function(dy, x, gamma, mean, rstd) {',
        cg.ids,
        cg.def('base', `${cg.gx} * ${k('H')}`),
        `const mu = mean[${cg.gx}]; const rs = rstd[${cg.gx}];`,
        'let r = 0.0;',
        `if (${cg.gy} === 0) {`,
        sumLoop(cg, 's', H, (i) => `dy[${cg.use('base')} + ${i}] * gamma[${i}]`, 'a', constants),
        `r = s / ${k('H')};`,
        '} else {',
        sumLoop(cg, 't', H, (i) => `dy[${cg.use('base')} + ${i}] * gamma[${i}] * ((x[${cg.use('base')} + ${i}] - mu) * rs)`, 'b', constants),
        `r = t / ${k('H')};`,
        '}',
        'return r;',
        '}',
      ].join(' '),
  };
  const rowStorage = backend.run(rowStats, [dys, xs, gs, ms, rs]);
  const dxProgram: Program = {
    name: 'LayerNormGrad/dx',
    grid: { x: H, y: R, z: 1 },
    constants: { H, R },
    source: (cg) =>
      `function(dy, x, gamma, mean, rstd, rows) { ${cg.ids} ${cg.def('i', `${cg.gy} * ${k('H')} + ${cg.gx}`)} const rs = rstd[${cg.gy}]; ` +
      `const xhat = (x[${cg.use('i')}] - mean[${cg.gy}]) * rs; ` +
      `return rs * (dy[${cg.use('i')}] * gamma[${cg.gx}] - rows[${cg.gy}] - xhat * rows[${cg.gy} + ${k('R')}]); }`,
  };
  const dx = backend.run(dxProgram, [dys, xs, gs, ms, rs, rowStorage]);
  rowStorage.dispose();
  // per column: dgamma = sum_r dy*xhat, dbeta = sum_r dy
  const columns: Program = {
    name: 'LayerNormGrad/columns',
    grid: { x: H, y: 2, z: 1 },
    constants: { H },
    source: (cg, constants) =>
      [
        'function(dy, x, mean, rstd) {',
        cg.ids,
        'let r = 0.0;',
        `if (${cg.gy} === 0) {`,
        sumLoop(cg, 's', R, (i) => `dy[${i} * ${k('H')} + ${cg.gx}] * ((x[${i} * ${k('H')} + ${cg.gx}] - mean[${i}]) * rstd[${i}])`, 'a', constants),
        'r = s;',
        '} else {',
        sumLoop(cg, 't', R, (i) => `dy[${i} * ${k('H')} + ${cg.gx}]`, 'b', constants),
        'r = t;',
        '}',
        'return r;',
        '}',
      ].join(' '),
  };
  const colStorage = backend.run(columns, [dys, xs, ms, rs]);
  const [dgamma, dbeta] = backend.split(colStorage, [H, H]);
  if (!backend.host) colStorage.dispose();
  return [out(backend, dx, x.shape), out(backend, dgamma, [H]), out(backend, dbeta, [H])];
};

export const normKernels: KernelGroup = { LayerNorm: layerNorm, LayerNormGrad: layerNormGrad };
