/**
 * Softmax over the last axis (optionally of x + a broadcast additive mask), its gradient, and
 * cross-entropy. Two passes each: a row kernel for per-row statistics (max and sum of exp,
 * or a dot product) and an elementwise kernel over [R, C] that reads them.
 */
import type { KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import type { GpujsBackend } from '../backend.js';
import { decompose, k, offsetExpr, sumLoop, type Codegen, type Program } from '../program.js';
import { formatShape, broadcastStrides, collapseDims, sizeOf } from '../../../shape.js';
import { GpujsStorage } from '../storage.js';
import { activeBackend, expectInputs, expectSameShape, out } from './common.js';

/** f32's most negative finite value: x + mask is clamped to it, so all-masked rows stay finite. */
const LOWEST = '-3.4028234663852886e38';

interface MaskPlan {
  storage: GpujsStorage;
  rowDims: number[];
  rowStrides: number[];
  lastStride: number;
}

function maskPlan(backend: GpujsBackend, x: TensorInfo, mask: TensorInfo): MaskPlan {
  const strides = broadcastStrides(mask.shape, x.shape);
  const rank = x.shape.length;
  const rows = collapseDims(x.shape.slice(0, rank - 1), [strides.slice(0, rank - 1)]);
  return { storage: backend.storageOf(mask, 'Softmax'), rowDims: rows.dims, rowStrides: rows.strides[0], lastStride: strides[rank - 1] };
}

/** Statements defining `mo`, the mask offset of row `row`, plus the per-column value reader. */
function valueReader(cg: Codegen, constants: Record<string, number>, row: string, mask: MaskPlan | null) {
  if (!mask) return { code: '', value: (base: string, c: string) => `Math.max(x[${base} + ${c}], ${LOWEST})` };
  const { code, coords } = decompose(cg, row, mask.rowDims, 'm', constants);
  const rowOffset = offsetExpr(coords, mask.rowStrides, 0, 'm', constants);
  constants.MSC = mask.lastStride;
  const column = (c: string) => (mask.lastStride === 0 ? '' : mask.lastStride === 1 ? ` + ${c}` : ` + ${c} * ${k('MSC')}`);
  return {
    code: `${code} ${cg.def('mo', rowOffset)}`,
    value: (base: string, c: string) => `Math.max(x[${base} + ${c}] + mask[${cg.use('mo')}${column(c)}], ${LOWEST})`,
  };
}

const softmax: KernelFunc = (inputs) => {
  expectInputs('Softmax', inputs, 1, 2);
  const backend = activeBackend('Softmax');
  const [x, maskInfo] = inputs;
  if (x.shape.length === 0) throw new Error('gpujs kernel Softmax: x must have at least 1 dim, got []');
  const C = x.shape[x.shape.length - 1];
  const R = sizeOf(x.shape) / (C || 1);
  if (R * C === 0) return [out(backend, new GpujsStorage(new Float32Array(0), 0), x.shape)];
  const mask = maskInfo ? maskPlan(backend, x, maskInfo) : null;
  const xs = backend.storageOf(x, 'Softmax');
  const args = (extra: GpujsStorage[]) => (mask ? [xs, ...extra, mask.storage] : [xs, ...extra]);
  const params = (extra: string[]) => ['x', ...extra, ...(mask ? ['mask'] : [])].join(', ');
  const stats: Program = {
    name: 'Softmax/stats',
    grid: { x: R, y: 2, z: 1 },
    constants: { C },
    source: (cg, constants) => {
      const reader = valueReader(cg, constants, cg.gx, mask);
      const base = () => cg.use('base');
      return [
        `function(${params([])}) {`,
        cg.ids,
        reader.code,
        cg.def('base', `${cg.gx} * ${k('C')}`),
        `let mx = ${LOWEST};`,
        `for (let c = 0; c < ${k('C')}; c++) { mx = Math.max(mx, ${reader.value(base(), cg.int('c'))}); }`,
        'let r = mx;',
        `if (${cg.gy} === 1) {`,
        sumLoop(cg, 's', C, (i) => `Math.exp(${reader.value(base(), i)} - mx)`, 'e', constants),
        'r = s;',
        '}',
        'return r;',
        '}',
      ].join(' ');
    },
  };
  const st = backend.run(stats, args([]));
  const apply: Program = {
    name: 'Softmax/apply',
    grid: { x: C, y: R, z: 1 },
    constants: { C, R },
    source: (cg, constants) => {
      const reader = valueReader(cg, constants, cg.gy, mask);
      return (
        `function(${params(['st'])}) { ${cg.ids} ${reader.code} ${cg.def('base', `${cg.gy} * ${k('C')}`)} ` +
        `return Math.exp(${reader.value(cg.use('base'), cg.gx)} - st[${cg.gy}]) / st[${cg.gy} + ${k('R')}]; }`
      );
    },
  };
  const y = backend.run(apply, args([st]));
  st.dispose();
  return [out(backend, y, x.shape)];
};

const softmaxGrad: KernelFunc = (inputs) => {
  expectInputs('SoftmaxGrad', inputs, 2);
  const backend = activeBackend('SoftmaxGrad');
  const [y, dy] = inputs;
  expectSameShape('SoftmaxGrad', 'y and dy', y.shape, dy.shape);
  if (y.shape.length === 0) throw new Error('gpujs kernel SoftmaxGrad: y must have at least 1 dim, got []');
  const C = y.shape[y.shape.length - 1];
  const R = sizeOf(y.shape) / (C || 1);
  if (R * C === 0) return [out(backend, new GpujsStorage(new Float32Array(0), 0), y.shape)];
  const ys = backend.storageOf(y, 'SoftmaxGrad');
  const dys = backend.storageOf(dy, 'SoftmaxGrad');
  const dots: Program = {
    name: 'SoftmaxGrad/dots',
    grid: { x: R, y: 1, z: 1 },
    constants: { C },
    source: (cg, constants) =>
      `function(y, dy) { ${cg.ids} ${cg.def('base', `${cg.gx} * ${k('C')}`)} ` +
      `${sumLoop(cg, 's', C, (i) => `dy[${cg.use('base')} + ${i}] * y[${cg.use('base')} + ${i}]`, 'd', constants)} return s; }`,
  };
  const dot = backend.run(dots, [ys, dys]);
  const apply: Program = {
    name: 'SoftmaxGrad/apply',
    grid: { x: C, y: R, z: 1 },
    constants: { C },
    source: (cg) =>
      `function(y, dy, dot) { ${cg.ids} ${cg.def('i', `${cg.gy} * ${k('C')} + ${cg.gx}`)} ` +
      `return y[${cg.use('i')}] * (dy[${cg.use('i')}] - dot[${cg.gy}]); }`,
  };
  const dx = backend.run(apply, [ys, dys, dot]);
  dot.dispose();
  return [out(backend, dx, y.shape)];
};

/** Checks labels against [0, C) or ignoreIndex on the host; returns how many rows count. */
function countLabels(kernel: string, backend: GpujsBackend, labels: TensorInfo, N: number, C: number, ignoreIndex: number): number {
  const values = backend.hostValues(backend.storageOf(labels, kernel));
  let count = 0;
  for (let n = 0; n < N; n++) {
    const label = values[n];
    if (label === ignoreIndex) continue;
    if (!Number.isInteger(label) || label < 0 || label >= C) {
      throw new Error(`gpujs kernel ${kernel}: labels[${n}] = ${label} is neither in [0, ${C}) nor ignoreIndex ${ignoreIndex}`);
    }
    count++;
  }
  return count;
}

function logitsShape(kernel: string, logits: TensorInfo, labels: TensorInfo): { N: number; C: number } {
  if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`gpujs kernel ${kernel}: expected logits [N, C] and labels [N], got ${formatShape(logits.shape)} and ${formatShape(labels.shape)}`);
  }
  return { N: logits.shape[0], C: logits.shape[1] };
}

const crossEntropy: KernelFunc<'CrossEntropy'> = (inputs, attrs) => {
  expectInputs('CrossEntropy', inputs, 2);
  const backend = activeBackend('CrossEntropy');
  const [logits, labels] = inputs;
  const ignoreIndex = attrs.ignoreIndex;
  const { N, C } = logitsShape('CrossEntropy', logits, labels);
  const count = countLabels('CrossEntropy', backend, labels, N, C, ignoreIndex);
  if (N === 0 || C === 0) {
    const lse = backend.zeros(N, 'float32') as GpujsStorage;
    return [out(backend, backend.zeros(1, 'float32') as GpujsStorage, []), out(backend, lse, [N])];
  }
  const ls = backend.storageOf(logits, 'CrossEntropy');
  const lseProgram: Program = {
    name: 'CrossEntropy/lse',
    grid: { x: N, y: 1, z: 1 },
    constants: { C },
    source: (cg, constants) =>
      [
        'function(logits) {',
        cg.ids,
        cg.def('base', `${cg.gx} * ${k('C')}`),
        `let mx = ${LOWEST};`,
        `for (let c = 0; c < ${k('C')}; c++) { mx = Math.max(mx, logits[${cg.use('base')} + ${cg.int('c')}]); }`,
        sumLoop(cg, 's', C, (i) => `Math.exp(logits[${cg.use('base')} + ${i}] - mx)`, 'e', constants),
        'return mx + Math.log(s);',
        '}',
      ].join(' '),
  };
  const lse = backend.run(lseProgram, [ls]);
  let loss: GpujsStorage;
  if (count === 0) loss = backend.zeros(1, 'float32') as GpujsStorage;
  else {
    const lossProgram: Program = {
      name: 'CrossEntropy/loss',
      grid: { x: 1, y: 1, z: 1 },
      constants: { C, IGN: ignoreIndex },
      source: (cg, constants) => {
        const lab = (i: string) => cg.toInt(`labels[${i}]`);
        // the label is re-derived inside the index so an ignored row never reads out of range
        const term = (i: string) =>
          `(${lab(i)} !== ${k('IGN')} ? lse[${i}] - logits[${i} * ${k('C')} + (${lab(i)} !== ${k('IGN')} ? ${lab(i)} : 0)] : 0.0)`;
        return [
          'function(logits, labels, lse, h) {',
          cg.ids,
          sumLoop(cg, 's', N, term, 'n', constants),
          'return s * h[0];',
          '}',
        ].join(' ');
      },
    };
    loss = backend.run(lossProgram, [ls, backend.storageOf(labels, 'CrossEntropy'), lse, new Float32Array([1 / count])]);
  }
  return [out(backend, loss, []), out(backend, lse, [N])];
};

const crossEntropyGrad: KernelFunc<'CrossEntropyGrad'> = (inputs, attrs) => {
  expectInputs('CrossEntropyGrad', inputs, 4);
  const backend = activeBackend('CrossEntropyGrad');
  const [logits, labels, lse, dLoss] = inputs;
  const ignoreIndex = attrs.ignoreIndex;
  const { N, C } = logitsShape('CrossEntropyGrad', logits, labels);
  if (lse.shape.length !== 1 || lse.shape[0] !== N || sizeOf(dLoss.shape) !== 1) {
    throw new Error(`gpujs kernel CrossEntropyGrad: expected logSumExp [${N}] and dLoss [], got ${formatShape(lse.shape)} and ${formatShape(dLoss.shape)}`);
  }
  if (N * C === 0) return [out(backend, new GpujsStorage(new Float32Array(0), 0), [N, C])];
  const count = countLabels('CrossEntropyGrad', backend, labels, N, C, ignoreIndex);
  if (count === 0) return [out(backend, backend.zeros(N * C, 'float32') as GpujsStorage, [N, C])];
  const program: Program = {
    name: 'CrossEntropyGrad',
    grid: { x: C, y: N, z: 1 },
    constants: { C, IGN: ignoreIndex },
    source: (cg) =>
      [
        'function(logits, labels, lse, dLoss, h) {',
        cg.ids,
        // lab stays a float local: labels are below C < 2^24
        `const lab = ${cg.toInt(`labels[${cg.gy}]`)};`,
        'let r = 0.0;',
        `if (lab !== ${k('IGN')}) {`,
        `const pr = Math.exp(logits[${cg.gy} * ${k('C')} + ${cg.gx}] - lse[${cg.gy}]);`,
        `r = (pr - (${cg.gx} === lab ? 1.0 : 0.0)) * dLoss[0] * h[0];`,
        '}',
        'return r;',
        '}',
      ].join(' '),
  };
  const storage = backend.run(program, [
    backend.storageOf(logits, 'CrossEntropyGrad'),
    backend.storageOf(labels, 'CrossEntropyGrad'),
    backend.storageOf(lse, 'CrossEntropyGrad'),
    backend.storageOf(dLoss, 'CrossEntropyGrad'),
    new Float32Array([1 / count]),
  ]);
  return [out(backend, storage, [N, C])];
};

export const softmaxKernels: KernelGroup = {
  Softmax: softmax,
  SoftmaxGrad: softmaxGrad,
  CrossEntropy: crossEntropy,
  CrossEntropyGrad: crossEntropyGrad,
};
