/** Elementwise kernels: unary math, broadcasting binary ops, Where, Affine, activation grads, Cast. */
import type { KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import type { Codegen } from '../program.js';
import { broadcastShapes, broadcastStrides, stridesOf } from '../../../shape.js';
import { activeBackend, expectInputs, expectSameShape, out } from './common.js';
import { applyDropoutMask } from '../../../engine/dropout-mask.js';
import { GpujsStorage } from '../storage.js';
import { mapStrided, type MapBody } from './strided.js';

/**
 * Statements leaving Phi(v) (the standard normal CDF) in `out`. erf has no Math function, so
 * Phi is built from erfc(|v|/sqrt2) with the Numerical Recipes erfcc fit, whose fractional
 * error is below 1.2e-7 everywhere: the tail Phi(-|v|) = erfc/2 keeps full relative
 * precision, unlike 1 + erf(x) for negative x.
 */
function phiCode(v: string, outName: string, id: string): string {
  const t = `${id}t`;
  const z = `${id}z`;
  const poly =
    `${t} * (1.00002368 + ${t} * (0.37409196 + ${t} * (0.09678418 + ${t} * (-0.18628806 + ${t} * (0.27886807 + ` +
    `${t} * (-1.13520398 + ${t} * (1.48851587 + ${t} * (-0.82215223 + ${t} * 0.17087277))))))))`;
  return [
    `const ${z} = Math.abs(${v}) * 0.7071067811865476;`,
    `const ${t} = 1.0 / (1.0 + 0.5 * ${z});`,
    `const ${id}e = ${t} * Math.exp(-${z} * ${z} - 1.26551223 + ${poly});`,
    `const ${outName} = ${v} >= 0.0 ? 1.0 - 0.5 * ${id}e : 0.5 * ${id}e;`,
  ].join(' ');
}

/**
 * tanh: Math.tanh on cpu/webasm; on GL gpu.js's polyfill (e^2x - 1)/(e^2x + 1) overflows to
 * NaN past |x| = 44 and cancels near 0, so GL gets (1 - e)/(1 + e) with e = exp(-2|x|) and
 * an odd series below |x| = 1/16.
 */
function tanhBody(v: string, cg: Codegen): MapBody {
  if (cg.host) return { expr: `Math.tanh(${v})` };
  return {
    pre: [
      `const ta = Math.abs(${v}); const te = Math.exp(-2.0 * ta); const t2 = ta * ta;`,
      'let tr = (1.0 - te) / (1.0 + te);',
      'if (ta < 0.0625) { tr = ta * (1.0 - t2 * (0.3333333333333333 - t2 * (0.13333333333333333 - t2 * 0.05396825396825397))); }',
    ].join(' '),
    expr: `${v} < 0.0 ? -tr : tr`,
  };
}

type UnaryBody = (v: string, cg: Codegen) => MapBody;

const UNARY: Record<string, UnaryBody> = {
  Neg: (v) => ({ expr: `-${v}` }),
  Exp: (v) => ({ expr: `Math.exp(${v})` }),
  Log: (v) => ({ expr: `Math.log(${v})` }),
  Sqrt: (v) => ({ expr: `Math.sqrt(${v})` }),
  Tanh: tanhBody,
  Relu: (v) => ({ expr: `Math.max(${v}, 0.0)` }),
  Gelu: (v) => ({ pre: phiCode(v, 'cdf', 'ph'), expr: `${v} * cdf` }),
};

/** [x] -> f(x), same shape. */
function unary(name: string, body: UnaryBody): KernelFunc {
  return (inputs) => {
    expectInputs(name, inputs, 1);
    const backend = activeBackend(name);
    const [x] = inputs;
    const storage = mapStrided(backend, name, x.shape, [contiguous(backend, name, x)], ([v], cg) => body(v, cg));
    return [out(backend, storage, x.shape)];
  };
}

function contiguous(backend: ReturnType<typeof activeBackend>, name: string, info: TensorInfo) {
  return { storage: backend.storageOf(info, name), strides: stridesOf(info.shape), offset: 0 };
}

/** Inputs read as broadcast to a common shape (numpy rules), with host-computed strides. */
function broadcastArgs(backend: ReturnType<typeof activeBackend>, name: string, infos: readonly TensorInfo[]) {
  let shape: number[] = [];
  for (const info of infos) shape = broadcastShapes(`gpujs kernel ${name}`, shape, info.shape);
  const args = infos.map((info) => ({
    storage: backend.storageOf(info, name),
    strides: broadcastStrides(info.shape, shape),
    offset: 0,
  }));
  return { shape, args };
}

const BINARY: Record<string, string> = { Add: '+', Sub: '-', Mul: '*', Div: '/' };

/** [a, b] -> a op b, broadcast. */
function binary(name: string, op: string): KernelFunc {
  return (inputs) => {
    expectInputs(name, inputs, 2);
    const backend = activeBackend(name);
    const { shape, args } = broadcastArgs(backend, name, inputs);
    const storage = mapStrided(backend, name, shape, args, ([a, b]) => ({ expr: `${a} ${op} ${b}` }));
    return [out(backend, storage, shape)];
  };
}

/** [x, dy] -> g(x, dy), same shapes. */
function gradKernel(name: string, body: (x: string, dy: string) => MapBody): KernelFunc {
  return (inputs) => {
    expectInputs(name, inputs, 2);
    const backend = activeBackend(name);
    const [x, dy] = inputs;
    expectSameShape(name, 'x and dy', x.shape, dy.shape);
    const storage = mapStrided(
      backend,
      name,
      x.shape,
      [contiguous(backend, name, x), contiguous(backend, name, dy)],
      ([v, d]) => body(v, d),
    );
    return [out(backend, storage, x.shape)];
  };
}

const affine: KernelFunc<'Affine'> = (inputs, attrs) => {
  expectInputs('Affine', inputs, 1);
  const backend = activeBackend('Affine');
  const [x] = inputs;
  // scale/bias are arguments, not constants: they vary per call and must not recompile
  const params = new Float32Array([attrs.scale, attrs.bias]);
  const storage = mapStrided(backend, 'Affine', x.shape, [contiguous(backend, 'Affine', x)], ([v]) => ({ expr: `${v} * p[0] + p[1]` }), params);
  return [out(backend, storage, x.shape)];
};

/**
 * GL has no dependable 32-bit integer arithmetic, so the mask is hashed on the host (the very
 * loop the cpu backend runs, hence bit-identical) and multiplied in on the device.
 */
const dropout: KernelFunc<'Dropout'> = (inputs, attrs) => {
  expectInputs('Dropout', inputs, 1);
  const backend = activeBackend('Dropout');
  const [x] = inputs;
  const { p, seed } = attrs;
  const size = x.shape.reduce((n, d) => n * d, 1);
  const maskValues = new Float32Array(size);
  applyDropoutMask(null, maskValues, p, seed);
  const mask = backend.fromHost(maskValues) as GpujsStorage;
  const maskArg = { storage: mask, strides: stridesOf(x.shape), offset: 0 };
  const storage = mapStrided(backend, 'Dropout', x.shape, [contiguous(backend, 'Dropout', x), maskArg], ([v, m]) => ({ expr: `${v} * ${m}` }));
  mask.dispose();
  return [out(backend, storage, x.shape)];
};

const where: KernelFunc = (inputs) => {
  expectInputs('Where', inputs, 3);
  const backend = activeBackend('Where');
  const { shape, args } = broadcastArgs(backend, 'Where', inputs);
  // NaN !== 0, so a NaN condition counts as true, as "nonzero" says
  const storage = mapStrided(backend, 'Where', shape, args, ([c, a, b]) => ({ expr: `${c} !== 0.0 ? ${a} : ${b}` }));
  return [out(backend, storage, shape)];
};

const cast: KernelFunc<'Cast'> = (inputs, attrs) => {
  expectInputs('Cast', inputs, 1);
  const backend = activeBackend('Cast');
  const [x] = inputs;
  const dtype = attrs.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new Error(`gpujs kernel Cast: attr 'dtype' must be 'float32' or 'int32', got ${String(dtype)}`);
  }
  // int32 results stay float-valued in storage (exact below 2^24); toHost returns Int32Array
  const truncate = dtype === 'int32' && x.dtype === 'float32';
  const storage = mapStrided(backend, 'Cast', x.shape, [contiguous(backend, 'Cast', x)], ([v]) => ({
    // + 0.0 turns the -0 of ceil(-0.5) into the 0 an integer has
    expr: truncate ? `(${v} < 0.0 ? Math.ceil(${v}) : Math.floor(${v})) + 0.0` : v,
  }));
  return [out(backend, storage, x.shape, dtype)];
};

export const elementwiseKernels: KernelGroup = {
  ...Object.fromEntries(Object.entries(UNARY).map(([name, body]) => [name, unary(name, body)])),
  ...Object.fromEntries(Object.entries(BINARY).map(([name, op]) => [name, binary(name, op)])),
  Affine: affine,
  GeluGrad: gradKernel('GeluGrad', (x, dy) => ({
    pre: phiCode(x, 'cdf', 'ph'),
    expr: `${dy} * (cdf + ${x} * Math.exp(-0.5 * ${x} * ${x}) * 0.3989422804014327)`,
  })),
  ReluGrad: gradKernel('ReluGrad', (x, dy) => ({ expr: `${dy} * (${x} > 0.0 ? 1.0 : 0.0)` })),
  Dropout: dropout,
  Where: where,
  Cast: cast,
};
