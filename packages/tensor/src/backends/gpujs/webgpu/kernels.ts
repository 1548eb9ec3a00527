/**
 * Every kernel of the contract (engine/kernels.ts) as hand-written WGSL for the webgpu mode.
 * gpu.js's own webgpu kernels build and run only through Promises, which a graph built op by op
 * cannot wait on, so this mode generates its shaders here: shapes and strides are baked into the
 * source as constants (one pipeline per shape, cached by source), per-call scalars (learning
 * rate, step, dropout seed) go in a small parameter buffer so they never recompile.
 *
 * Layout: one thread per output element (elementwise, layout, Gather, ScatterAdd, Sum), one per
 * row (LayerNorm, Softmax, CrossEntropy), one per column (ScatterAddInPlace), 16 x 16
 * shared-memory tiles for MatMul.
 */
import type { KernelFunc, KernelGroup, TensorInfo } from '../../../engine/kernels.js';
import { getBackend, runKernel } from '../../../engine/engine.js';
import { broadcastShapes, broadcastStrides, collapseDims, formatShape, normalizeAxis, shapesEqual, sizeOf, stridesOf } from '../../../shape.js';
import { FLAG, WebgpuBackend, WebgpuStorage } from './backend.js';
import type { GpuBuffer } from './device.js';

const WG = 64;

function backendFor(kernel: string): WebgpuBackend {
  const backend = getBackend();
  if (!(backend instanceof WebgpuBackend)) throw new Error(`gpujs kernel ${kernel}: the active backend '${backend.name}' is not in webgpu mode`);
  return backend;
}

/** Workgroup counts covering n threads of 64 (2-D past the 65535-per-dimension limit). */
function groups(n: number): [number, number, number] {
  const total = Math.ceil(n / WG);
  const x = Math.min(total, 65535);
  return [x, x === 0 ? 0 : Math.ceil(total / x), 1];
}

type Access = 'read' | 'read_write';
interface Binding {
  name: string;
  type: 'f32' | 'i32' | 'u32' | 'atomic<u32>';
  access: Access;
}

const ty = (info: TensorInfo): 'f32' | 'i32' => (info.dtype === 'int32' ? 'i32' : 'f32');

function declarations(bindings: readonly Binding[]): string {
  return bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`)
    .join('\n');
}

/** A shader with one thread per index i in [0, n). */
function linearShader(bindings: readonly Binding[], n: number, body: string, helpers = ''): string {
  return `${declarations(bindings)}
${helpers}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= ${n}u) { return; }
  ${body}
}`;
}

/**
 * Statements turning the flat index `index` over `dims` into one offset per stride list
 * (`o0`, `o1`, ... declared here as u32).
 */
function offsetsCode(dims: readonly number[], strides: readonly (readonly number[])[], index = 'i', prefix = 'o'): string {
  const lines = strides.map((_, k) => `var ${prefix}${k} = 0u;`);
  if (dims.length === 0) return lines.join(' ');
  lines.push(`{ var r = ${index};`);
  for (let d = dims.length - 1; d >= 0; d--) {
    lines.push(d === 0 ? `let c${d} = r;` : `let c${d} = r % ${dims[d]}u; r = r / ${dims[d]}u;`);
    strides.forEach((s, k) => {
      if (s[d] !== 0) lines.push(`${prefix}${k} += c${d} * ${s[d]}u;`);
    });
  }
  lines.push('}');
  return lines.join(' ');
}

function output(backend: WebgpuBackend, storage: WebgpuStorage, shape: readonly number[]): TensorInfo {
  return { storage, shape: [...shape], dtype: storage.dtype, backend: backend.name };
}

const buf = (backend: WebgpuBackend, info: TensorInfo, kernel: string): GpuBuffer => backend.storageOf(info, kernel).buffer;

// ------------------------------------------------------------------ elementwise

/** out = f(inputs) over the broadcast shape of the inputs; `expr` reads v0, v1, ... */
function mapKernel(backend: WebgpuBackend, name: string, inputs: readonly TensorInfo[], expr: string, outType: 'f32' | 'i32' = 'f32', pre = '', helpers = '', params?: GpuBuffer): TensorInfo {
  let shape: number[] = [...inputs[0].shape];
  for (const info of inputs.slice(1)) shape = broadcastShapes(`gpujs kernel ${name}`, shape, info.shape);
  const n = sizeOf(shape);
  const out = backend.allocate(n, outType === 'i32' ? 'int32' : 'float32');
  if (n === 0) return output(backend, out, shape);
  const { dims, strides } = collapseDims(shape, inputs.map((info) => broadcastStrides(info.shape, shape)));
  const bindings: Binding[] = inputs.map((info, k) => ({ name: `x${k}`, type: ty(info), access: 'read' }));
  bindings.push({ name: 'y', type: outType, access: 'read_write' });
  if (params) bindings.push({ name: 'prm', type: 'u32', access: 'read' });
  const reads = inputs.map((_, k) => `let v${k} = x${k}[o${k}];`).join(' ');
  const code = linearShader(bindings, n, `${offsetsCode(dims, strides)} ${reads} ${pre} y[i] = ${expr};`, helpers);
  const buffers = inputs.map((info) => buf(backend, info, name));
  buffers.push(out.buffer);
  if (params) buffers.push(params);
  backend.run({ name, code, buffers, groups: groups(n) });
  return output(backend, out, shape);
}

/** Phi(v), the standard normal CDF, from the Numerical Recipes erfc fit (fractional error < 1.2e-7). */
const PHI = `
fn phi(v: f32) -> f32 {
  let z = abs(v) * 0.7071067811865476;
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let e = t * exp(-z * z - 1.26551223 + p);
  return select(0.5 * e, 1.0 - 0.5 * e, v >= 0.0);
}`;

/** tanh without overflow past |x| = 44 and without cancellation near 0. */
const TANH = `
fn tanh_safe(v: f32) -> f32 {
  let a = abs(v);
  let e = exp(-2.0 * a);
  let t2 = a * a;
  var r = (1.0 - e) / (1.0 + e);
  if (a < 0.0625) { r = a * (1.0 - t2 * (0.3333333333333333 - t2 * (0.13333333333333333 - t2 * 0.05396825396825397))); }
  return select(r, -r, v < 0.0);
}`;

function unary(name: string, expr: string, helpers = ''): KernelFunc {
  return ([x]) => {
    const backend = backendFor(name);
    return [mapKernel(backend, name, [x], expr, 'f32', '', helpers)];
  };
}

function binary(name: string, op: string): KernelFunc {
  return ([a, b]) => [mapKernel(backendFor(name), name, [a, b], `v0 ${op} v1`)];
}

function sameShapeCheck(kernel: string, a: TensorInfo, b: TensorInfo): void {
  if (!shapesEqual(a.shape, b.shape)) throw new Error(`gpujs kernel ${kernel}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} must match`);
}

const elementwise: KernelGroup = {
  Add: binary('Add', '+'),
  Sub: binary('Sub', '-'),
  Mul: binary('Mul', '*'),
  Div: binary('Div', '/'),
  Neg: unary('Neg', '-v0'),
  Exp: unary('Exp', 'exp(v0)'),
  Log: unary('Log', 'log(v0)'),
  Sqrt: unary('Sqrt', 'sqrt(v0)'),
  Tanh: unary('Tanh', 'tanh_safe(v0)', TANH),
  Relu: unary('Relu', 'select(0.0, v0, v0 > 0.0)'),
  Gelu: unary('Gelu', 'v0 * phi(v0)', PHI),
  GeluGrad: ([x, dy]) => {
    sameShapeCheck('GeluGrad', x, dy);
    // gelu'(x) = Phi(x) + x phi(x), phi the normal density
    return [mapKernel(backendFor('GeluGrad'), 'GeluGrad', [x, dy], 'v1 * (phi(v0) + v0 * 0.3989422804014327 * exp(-0.5 * v0 * v0))', 'f32', '', PHI)];
  },
  ReluGrad: ([x, dy]) => {
    sameShapeCheck('ReluGrad', x, dy);
    return [mapKernel(backendFor('ReluGrad'), 'ReluGrad', [x, dy], 'select(0.0, v1, v0 > 0.0)')];
  },
  Affine: ([x], attrs) => {
    const backend = backendFor('Affine');
    const params = backend.params([{ f: attrs.scale }, { f: attrs.bias }]);
    return [mapKernel(backend, 'Affine', [x], 'v0 * bitcast<f32>(prm[0]) + bitcast<f32>(prm[1])', 'f32', '', '', params)];
  },
  Dropout: ([x], attrs) => {
    const backend = backendFor('Dropout');
    // engine/dropout-mask.ts: dropped where lowbias32(lowbias32(i) ^ seed) < floor(p 2^32).
    const threshold = Math.floor(attrs.p * 4294967296);
    const params = backend.params([{ u: attrs.seed >>> 0 }, { u: Math.min(threshold, 0xffffffff) }, { f: Math.fround(1 / (1 - attrs.p)) }]);
    const helpers = `
fn lowbias32(value: u32) -> u32 {
  var x = value;
  x = x ^ (x >> 16u); x = x * 0x7feb352du; x = x ^ (x >> 15u); x = x * 0x846ca68bu; x = x ^ (x >> 16u);
  return x;
}`;
    return [mapKernel(backend, 'Dropout', [x], 'v0 * select(bitcast<f32>(prm[2]), 0.0, lowbias32(lowbias32(i) ^ prm[0]) < prm[1])', 'f32', '', helpers, params)];
  },
  Where: ([cond, a, b]) => [mapKernel(backendFor('Where'), 'Where', [cond, a, b], 'select(v2, v1, v0 != 0)')],
  Cast: ([x], attrs) => {
    const to = attrs.dtype === 'int32' ? 'i32' : 'f32';
    return [mapKernel(backendFor('Cast'), 'Cast', [x], `${to}(v0)`, to)];
  },
};

// ------------------------------------------------------------------ reductions

const reduce: KernelGroup = {
  Sum: ([x], attrs) => {
    const backend = backendFor('Sum');
    const rank = x.shape.length;
    const axes = attrs.axes.map((axis) => normalizeAxis('gpujs kernel Sum', axis, rank));
    if (new Set(axes).size !== axes.length) throw new Error(`gpujs kernel Sum: axes [${attrs.axes}] are not distinct dims of ${formatShape(x.shape)}`);
    const strides = stridesOf(x.shape);
    const keptAxes = x.shape.map((_, a) => a).filter((a) => !axes.includes(a));
    const outShape = attrs.keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : keptAxes.map((a) => x.shape[a]);
    const n = sizeOf(outShape);
    const out = backend.allocate(n, 'float32');
    if (n === 0) return [output(backend, out, outShape)];
    const reducedDims = axes.map((a) => x.shape[a]);
    const count = sizeOf(reducedDims);
    const outer = offsetsCode(keptAxes.map((a) => x.shape[a]), [keptAxes.map((a) => strides[a])]);
    const inner = offsetsCode(reducedDims, [axes.map((a) => strides[a])], 'j', 'q');
    const body = `${outer} var acc = 0.0; for (var j = 0u; j < ${count}u; j++) { ${inner} acc += x[o0 + q0]; } y[i] = acc;`;
    const code = linearShader(
      [
        { name: 'x', type: 'f32', access: 'read' },
        { name: 'y', type: 'f32', access: 'read_write' },
      ],
      n,
      body,
    );
    backend.run({ name: 'Sum', code, buffers: [buf(backend, x, 'Sum'), out.buffer], groups: groups(n) });
    return [output(backend, out, outShape)];
  },
};

// ------------------------------------------------------------------ matmul

const TILE = 16;

const matmul: KernelGroup = {
  MatMul: ([a, b, bias], attrs) => {
    const backend = backendFor('MatMul');
    const { transA, transB, alpha } = attrs;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
    const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
    const describe = `a ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} x b ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}`;
    if (K !== Kb) throw new Error(`gpujs kernel MatMul: ${describe}: inner dimensions ${K} and ${Kb} differ`);
    const batchShape = a.shape.slice(0, -2);
    const batch = sizeOf(batchShape);
    if (rb > 2 && !shapesEqual(b.shape.slice(0, -2), batchShape)) throw new Error(`gpujs kernel MatMul: ${describe}: batch dims differ`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== N)) throw new Error(`gpujs kernel MatMul: bias must be [${N}], got ${formatShape(bias.shape)}`);
    const outShape = [...batchShape, M, N];
    const out = backend.allocate(batch * M * N, 'float32');
    if (batch * M * N === 0) return [output(backend, out, outShape)];
    const strideB = rb === 2 ? 0 : K * N;
    const aAt = transA ? `a[offA + k * ${M}u + m]` : `a[offA + m * ${K}u + k]`;
    const bAt = transB ? `b[offB + n * ${K}u + k]` : `b[offB + k * ${N}u + n]`;
    const bindings: Binding[] = [
      { name: 'a', type: 'f32', access: 'read' },
      { name: 'b', type: 'f32', access: 'read' },
      { name: 'c', type: 'f32', access: 'read_write' },
      { name: 'prm', type: 'u32', access: 'read' },
    ];
    if (bias) bindings.push({ name: 'bias', type: 'f32', access: 'read' });
    const code = `${declarations(bindings)}
var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  let item = wid.z;
  let offA = item * ${M * K}u;
  let offB = item * ${strideB}u;
  var acc = 0.0;
  for (var t = 0u; t < ${Math.ceil(K / TILE)}u; t++) {
    {
      let m = row; let k = t * ${TILE}u + lid.x; var value = 0.0;
      if (m < ${M}u && k < ${K}u) { value = ${aAt}; }
      tileA[lid.y][lid.x] = value;
    }
    {
      let k = t * ${TILE}u + lid.y; let n = col; var value = 0.0;
      if (k < ${K}u && n < ${N}u) { value = ${bAt}; }
      tileB[lid.y][lid.x] = value;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE}u; kk++) { acc += tileA[lid.y][kk] * tileB[kk][lid.x]; }
    workgroupBarrier();
  }
  if (row < ${M}u && col < ${N}u) {
    c[item * ${M * N}u + row * ${N}u + col] = acc * bitcast<f32>(prm[0])${bias ? ' + bias[col]' : ''};
  }
}`;
    const buffers = [buf(backend, a, 'MatMul'), buf(backend, b, 'MatMul'), out.buffer, backend.params([{ f: alpha }])];
    if (bias) buffers.push(buf(backend, bias, 'MatMul'));
    backend.run({ name: 'MatMul', code, buffers, groups: [Math.ceil(N / TILE), Math.ceil(M / TILE), batch] });
    return [output(backend, out, outShape)];
  },
};

// ------------------------------------------------------------------ layout

/**
 * dst[dstOffset + idx . dstStrides] = src[srcOffset + idx . srcStrides] for every index of dims,
 * into an existing output buffer (Transpose, Slice, SliceGrad, Concat).
 */
function stridedCopy(backend: WebgpuBackend, name: string, src: TensorInfo, dst: WebgpuStorage, dims: readonly number[], srcStrides: readonly number[], dstStrides: readonly number[], srcOffset: number, dstOffset: number): void {
  const n = sizeOf(dims);
  if (n === 0) return;
  const collapsed = collapseDims(dims, [srcStrides, dstStrides]);
  const t = ty(src);
  const code = linearShader(
    [
      { name: 'x', type: t, access: 'read' },
      { name: 'y', type: t, access: 'read_write' },
    ],
    n,
    `${offsetsCode(collapsed.dims, collapsed.strides)} y[${dstOffset}u + o1] = x[${srcOffset}u + o0];`,
  );
  backend.run({ name, code, buffers: [buf(backend, src, name), dst.buffer], groups: groups(n) });
}

function checkBox(kernel: string, shape: readonly number[], begin: readonly number[], size: readonly number[]): void {
  if (begin.length !== shape.length || size.length !== shape.length || begin.some((b, i) => b < 0 || size[i] < 0 || b + size[i] > shape[i])) {
    throw new Error(`gpujs kernel ${kernel}: box begin [${begin}] size [${size}] does not fit in ${formatShape(shape)}`);
  }
}

const layout: KernelGroup = {
  Transpose: ([x], attrs) => {
    const backend = backendFor('Transpose');
    const perm = attrs.perm;
    const rank = x.shape.length;
    if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
      throw new Error(`gpujs kernel Transpose: perm [${perm}] is not a permutation of the ${rank} dims of ${formatShape(x.shape)}`);
    }
    const inStrides = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    const out = backend.allocate(sizeOf(outShape), x.dtype);
    stridedCopy(backend, 'Transpose', x, out, outShape, perm.map((p) => inStrides[p]), stridesOf(outShape), 0, 0);
    return [output(backend, out, outShape)];
  },
  Slice: ([x], attrs) => {
    const backend = backendFor('Slice');
    const size = attrs.size.map((s, i) => (s === -1 ? x.shape[i] - attrs.begin[i] : s));
    checkBox('Slice', x.shape, attrs.begin, size);
    const strides = stridesOf(x.shape);
    const out = backend.allocate(sizeOf(size), x.dtype);
    const offset = attrs.begin.reduce((sum, b, i) => sum + b * strides[i], 0);
    stridedCopy(backend, 'Slice', x, out, size, strides, stridesOf(size), offset, 0);
    return [output(backend, out, size)];
  },
  SliceGrad: ([dy], attrs) => {
    const backend = backendFor('SliceGrad');
    checkBox('SliceGrad', attrs.shape, attrs.begin, dy.shape);
    const strides = stridesOf(attrs.shape);
    const out = backend.allocate(sizeOf(attrs.shape), 'float32');
    const offset = attrs.begin.reduce((sum, b, i) => sum + b * strides[i], 0);
    stridedCopy(backend, 'SliceGrad', dy, out, dy.shape, stridesOf(dy.shape), strides, 0, offset);
    return [output(backend, out, attrs.shape)];
  },
  Concat: (inputs, attrs) => {
    const backend = backendFor('Concat');
    const rank = inputs[0].shape.length;
    const axis = normalizeAxis('gpujs kernel Concat', attrs.axis, rank);
    for (const info of inputs) {
      if (info.shape.length !== rank || info.shape.some((d, k) => k !== axis && d !== inputs[0].shape[k]) || info.dtype !== inputs[0].dtype) {
        throw new Error(`gpujs kernel Concat: along axis ${axis} all other dims and dtypes must match, got ${inputs.map((i) => formatShape(i.shape)).join(' and ')}`);
      }
    }
    const outShape = [...inputs[0].shape];
    outShape[axis] = inputs.reduce((sum, info) => sum + info.shape[axis], 0);
    const outStrides = stridesOf(outShape);
    const out = backend.allocate(sizeOf(outShape), inputs[0].dtype);
    let start = 0;
    for (const info of inputs) {
      stridedCopy(backend, 'Concat', info, out, info.shape, stridesOf(info.shape), outStrides, 0, start * outStrides[axis]);
      start += info.shape[axis];
    }
    return [output(backend, out, outShape)];
  },
};

// ------------------------------------------------------------------ embedding

const embedding: KernelGroup = {
  Gather: ([weight, ids]) => {
    const backend = backendFor('Gather');
    if (weight.shape.length !== 2 || ids.shape.length !== 1 || ids.dtype !== 'int32') {
      throw new Error(`gpujs kernel Gather: expected weight [V, H] and int32 ids [N], got ${formatShape(weight.shape)} and ${ids.dtype} ${formatShape(ids.shape)}`);
    }
    const [V, H] = weight.shape;
    const N = ids.shape[0];
    const host = backend.storageOf(ids, 'Gather').hostCache;
    if (host) {
      // Ids from the host are checked here, where the error can still say which one.
      for (let n = 0; n < N; n++) {
        if (!(host[n] >= 0 && host[n] < V)) throw new Error(`Gather: id ${host[n]} at position ${n} is outside [0, ${V}) for weight ${formatShape(weight.shape)}`);
      }
    }
    const out = backend.allocate(N * H, 'float32');
    const code = linearShader(
      [
        { name: 'w', type: 'f32', access: 'read' },
        { name: 'ids', type: 'i32', access: 'read' },
        { name: 'y', type: 'f32', access: 'read_write' },
        { name: 'flags', type: 'atomic<u32>', access: 'read_write' },
      ],
      N * H,
      `let n = i / ${H}u; let h = i % ${H}u; let id = ids[n];
  if (id < 0 || id >= ${V}) { atomicStore(&flags[${FLAG.Gather}], 1u); y[i] = 0.0; return; }
  y[i] = w[u32(id) * ${H}u + h];`,
    );
    backend.run({ name: 'Gather', code, buffers: [buf(backend, weight, 'Gather'), buf(backend, ids, 'Gather'), out.buffer, backend.flags], groups: groups(N * H) });
    return [output(backend, out, [N, H])];
  },
  ScatterAdd: ([dy, ids], attrs) => {
    const backend = backendFor('ScatterAdd');
    const V = attrs.numRows;
    if (dy.shape.length !== 2 || ids.shape.length !== 1 || ids.shape[0] !== dy.shape[0]) {
      throw new Error(`gpujs kernel ScatterAdd: expected dy [N, H] and ids [N], got ${formatShape(dy.shape)} and ${formatShape(ids.shape)}`);
    }
    const [N, H] = dy.shape;
    const out = backend.allocate(V * H, 'float32');
    if (V * H === 0 || N === 0) return [output(backend, out, [V, H])];
    const padding = attrs.paddingIdx ?? -1;
    // One thread per output cell summing its rows in order n = 0..N-1: deterministic, and the
    // same order as the cpu kernel (no float atomics in WGSL anyway).
    const code = linearShader(
      [
        { name: 'dy', type: 'f32', access: 'read' },
        { name: 'ids', type: 'i32', access: 'read' },
        { name: 'y', type: 'f32', access: 'read_write' },
        { name: 'flags', type: 'atomic<u32>', access: 'read_write' },
      ],
      V * H,
      `let v = i32(i / ${H}u); let h = i % ${H}u; var acc = 0.0;
  for (var n = 0u; n < ${N}u; n++) {
    let id = ids[n];
    if (i == 0u && (id < 0 || id >= ${V})) { atomicStore(&flags[${FLAG.ScatterAdd}], 1u); }
    if (id == v && id != ${padding}) { acc += dy[n * ${H}u + h]; }
  }
  y[i] = acc;`,
    );
    backend.run({ name: 'ScatterAdd', code, buffers: [buf(backend, dy, 'ScatterAdd'), buf(backend, ids, 'ScatterAdd'), out.buffer, backend.flags], groups: groups(V * H) });
    return [output(backend, out, [V, H])];
  },
  ScatterAddInPlace: ([acc, dy, ids], attrs) => {
    const backend = backendFor('ScatterAddInPlace');
    if (acc.shape.length !== 2 || dy.shape.length !== 2 || ids.shape.length !== 1 || acc.shape[1] !== dy.shape[1] || ids.shape[0] !== dy.shape[0]) {
      throw new Error(`gpujs kernel ScatterAddInPlace: expected acc [V, H], dy [N, H] and ids [N], got ${formatShape(acc.shape)}, ${formatShape(dy.shape)} and ${formatShape(ids.shape)}`);
    }
    const [V, H] = acc.shape;
    const N = dy.shape[0];
    if (V * H === 0 || N === 0) return [];
    const padding = attrs.paddingIdx ?? -1;
    // One thread per column h walking n = 0..N-1: no two threads write one cell, and each cell
    // adds its rows in the cpu kernel's order.
    const code = linearShader(
      [
        { name: 'a', type: 'f32', access: 'read_write' },
        { name: 'dy', type: 'f32', access: 'read' },
        { name: 'ids', type: 'i32', access: 'read' },
        { name: 'flags', type: 'atomic<u32>', access: 'read_write' },
      ],
      H,
      `for (var n = 0u; n < ${N}u; n++) {
    let id = ids[n];
    if (id < 0 || id >= ${V}) { atomicStore(&flags[${FLAG.ScatterAdd}], 1u); continue; }
    if (id != ${padding}) { let at = u32(id) * ${H}u + i; a[at] = a[at] + dy[n * ${H}u + i]; }
  }`,
    );
    const target = backend.storageOf(acc, 'ScatterAddInPlace');
    backend.run({ name: 'ScatterAddInPlace', code, buffers: [target.buffer, buf(backend, dy, 'ScatterAddInPlace'), buf(backend, ids, 'ScatterAddInPlace'), backend.flags], groups: groups(H) });
    target.hostCache = null;
    return [];
  },
};

// ------------------------------------------------------------------ normalisation, softmax, loss

const norm: KernelGroup = {
  LayerNorm: ([x, gamma, beta], attrs) => {
    const backend = backendFor('LayerNorm');
    const H = x.shape[x.shape.length - 1];
    if (gamma.shape.length !== 1 || gamma.shape[0] !== H || beta.shape.length !== 1 || beta.shape[0] !== H) {
      throw new Error(`gpujs kernel LayerNorm: gamma and beta must be [${H}] for x ${formatShape(x.shape)}, got ${formatShape(gamma.shape)} and ${formatShape(beta.shape)}`);
    }
    const R = H === 0 ? 0 : sizeOf(x.shape) / H;
    const y = backend.allocate(R * H, 'float32');
    const mean = backend.allocate(R, 'float32');
    const rstd = backend.allocate(R, 'float32');
    if (R > 0 && H > 0) {
      const code = linearShader(
        [
          { name: 'x', type: 'f32', access: 'read' },
          { name: 'g', type: 'f32', access: 'read' },
          { name: 'b', type: 'f32', access: 'read' },
          { name: 'y', type: 'f32', access: 'read_write' },
          { name: 'mu', type: 'f32', access: 'read_write' },
          { name: 'rs', type: 'f32', access: 'read_write' },
          { name: 'prm', type: 'u32', access: 'read' },
        ],
        R,
        `let base = i * ${H}u; var s = 0.0;
  for (var h = 0u; h < ${H}u; h++) { s += x[base + h]; }
  let m = s / ${H}.0; var q = 0.0;
  for (var h = 0u; h < ${H}u; h++) { let d = x[base + h] - m; q += d * d; }
  let r = 1.0 / sqrt(q / ${H}.0 + bitcast<f32>(prm[0]));
  for (var h = 0u; h < ${H}u; h++) { y[base + h] = (x[base + h] - m) * r * g[h] + b[h]; }
  mu[i] = m; rs[i] = r;`,
      );
      backend.run({
        name: 'LayerNorm',
        code,
        buffers: [buf(backend, x, 'LayerNorm'), buf(backend, gamma, 'LayerNorm'), buf(backend, beta, 'LayerNorm'), y.buffer, mean.buffer, rstd.buffer, backend.params([{ f: attrs.eps }])],
        groups: groups(R),
      });
    }
    return [output(backend, y, x.shape), output(backend, mean, [R]), output(backend, rstd, [R])];
  },
  LayerNormGrad: ([dy, x, gamma, mean, rstd]) => {
    const backend = backendFor('LayerNormGrad');
    sameShapeCheck('LayerNormGrad', dy, x);
    const H = x.shape[x.shape.length - 1];
    const R = H === 0 ? 0 : sizeOf(x.shape) / H;
    const dx = backend.allocate(R * H, 'float32');
    const dGamma = backend.allocate(H, 'float32');
    const dBeta = backend.allocate(H, 'float32');
    if (R > 0 && H > 0) {
      const ins: Binding[] = [
        { name: 'dy', type: 'f32', access: 'read' },
        { name: 'x', type: 'f32', access: 'read' },
        { name: 'g', type: 'f32', access: 'read' },
        { name: 'mu', type: 'f32', access: 'read' },
        { name: 'rs', type: 'f32', access: 'read' },
      ];
      const inBuffers = [dy, x, gamma, mean, rstd].map((info) => buf(backend, info, 'LayerNormGrad'));
      // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy gamma
      const rows = linearShader(
        [...ins, { name: 'dx', type: 'f32', access: 'read_write' }],
        R,
        `let base = i * ${H}u; let m = mu[i]; let r = rs[i]; var s1 = 0.0; var s2 = 0.0;
  for (var h = 0u; h < ${H}u; h++) { let xh = (x[base + h] - m) * r; let d = dy[base + h] * g[h]; s1 += d; s2 += d * xh; }
  let a1 = s1 / ${H}.0; let a2 = s2 / ${H}.0;
  for (var h = 0u; h < ${H}u; h++) { let xh = (x[base + h] - m) * r; dx[base + h] = r * (dy[base + h] * g[h] - a1 - xh * a2); }`,
      );
      backend.run({ name: 'LayerNormGrad', code: rows, buffers: [...inBuffers, dx.buffer], groups: groups(R) });
      // gamma is not read here, and 'auto' layouts leave out bindings a shader does not use.
      const columnInputs = ins.filter((b) => b.name !== 'g');
      const columns = linearShader(
        [...columnInputs, { name: 'dg', type: 'f32', access: 'read_write' }, { name: 'db', type: 'f32', access: 'read_write' }],
        H,
        `var sg = 0.0; var sb = 0.0;
  for (var r = 0u; r < ${R}u; r++) { let k = r * ${H}u + i; sg += dy[k] * (x[k] - mu[r]) * rs[r]; sb += dy[k]; }
  dg[i] = sg; db[i] = sb;`,
      );
      backend.run({ name: 'LayerNormGrad', code: columns, buffers: [inBuffers[0], inBuffers[1], inBuffers[3], inBuffers[4], dGamma.buffer, dBeta.buffer], groups: groups(H) });
    }
    return [output(backend, dx, x.shape), output(backend, dGamma, [H]), output(backend, dBeta, [H])];
  },
};

const MIN_F32 = '-3.4028234663852886e38';

const softmax: KernelGroup = {
  Softmax: ([x, mask]) => {
    const backend = backendFor('Softmax');
    const rank = x.shape.length;
    const C = x.shape[rank - 1];
    const R = C === 0 ? 0 : sizeOf(x.shape) / C;
    const out = backend.allocate(R * C, 'float32');
    if (R === 0) return [output(backend, out, x.shape)];
    const bindings: Binding[] = [{ name: 'x', type: 'f32', access: 'read' }];
    const buffers = [buf(backend, x, 'Softmax')];
    let maskRow = '';
    let at = (c: string): string => `x[base + ${c}]`;
    if (mask) {
      const strides = broadcastStrides(mask.shape, x.shape);
      const rows = collapseDims(x.shape.slice(0, rank - 1), [strides.slice(0, rank - 1)]);
      maskRow = offsetsCode(rows.dims, rows.strides, 'i', 'mo');
      const last = strides[rank - 1];
      at = (c) => `(x[base + ${c}] + m[mo0 + ${c} * ${last}u])`;
      bindings.push({ name: 'm', type: 'f32', access: 'read' });
      buffers.push(buf(backend, mask, 'Softmax'));
    }
    bindings.push({ name: 'y', type: 'f32', access: 'read_write' });
    buffers.push(out.buffer);
    // Values clamp to the lowest float: a row masked everywhere (x + -3.4e38 may round to -inf)
    // then comes out uniform instead of NaN, as the contract says.
    const code = linearShader(
      bindings,
      R,
      `let base = i * ${C}u; ${maskRow} var mx = ${MIN_F32};
  for (var c = 0u; c < ${C}u; c++) { mx = max(mx, max(${at('c')}, ${MIN_F32})); }
  var s = 0.0;
  for (var c = 0u; c < ${C}u; c++) { s += exp(max(${at('c')}, ${MIN_F32}) - mx); }
  for (var c = 0u; c < ${C}u; c++) { y[base + c] = exp(max(${at('c')}, ${MIN_F32}) - mx) / s; }`,
    );
    backend.run({ name: 'Softmax', code, buffers, groups: groups(R) });
    return [output(backend, out, x.shape)];
  },
  SoftmaxGrad: ([y, dy]) => {
    const backend = backendFor('SoftmaxGrad');
    sameShapeCheck('SoftmaxGrad', y, dy);
    const C = y.shape[y.shape.length - 1];
    const R = C === 0 ? 0 : sizeOf(y.shape) / C;
    const out = backend.allocate(R * C, 'float32');
    if (R === 0) return [output(backend, out, y.shape)];
    const code = linearShader(
      [
        { name: 'p', type: 'f32', access: 'read' },
        { name: 'd', type: 'f32', access: 'read' },
        { name: 'z', type: 'f32', access: 'read_write' },
      ],
      R,
      `let base = i * ${C}u; var s = 0.0;
  for (var c = 0u; c < ${C}u; c++) { s += p[base + c] * d[base + c]; }
  for (var c = 0u; c < ${C}u; c++) { z[base + c] = p[base + c] * (d[base + c] - s); }`,
    );
    backend.run({ name: 'SoftmaxGrad', code, buffers: [buf(backend, y, 'SoftmaxGrad'), buf(backend, dy, 'SoftmaxGrad'), out.buffer], groups: groups(R) });
    return [output(backend, out, y.shape)];
  },
  CrossEntropy: ([logits, labels], attrs) => {
    const backend = backendFor('CrossEntropy');
    if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
      throw new Error(`gpujs kernel CrossEntropy: expected logits [N, C] and labels [N], got ${formatShape(logits.shape)} and ${formatShape(labels.shape)}`);
    }
    const [N, C] = logits.shape;
    const ignore = attrs.ignoreIndex;
    const host = backend.storageOf(labels, 'CrossEntropy').hostCache;
    if (host) {
      for (let n = 0; n < N; n++) {
        const label = host[n];
        if (label !== ignore && !(label >= 0 && label < C)) {
          throw new Error(`CrossEntropy: label ${label} at row ${n} is outside [0, ${C}) for logits ${formatShape(logits.shape)} (ignoreIndex ${ignore})`);
        }
      }
    }
    const loss = backend.allocate(1, 'float32');
    const lse = backend.allocate(N, 'float32');
    if (N === 0) return [output(backend, loss, []), output(backend, lse, [N])];
    const rows = linearShader(
      [
        { name: 'x', type: 'f32', access: 'read' },
        { name: 'l', type: 'f32', access: 'read_write' },
      ],
      N,
      `let base = i * ${C}u; var mx = ${MIN_F32};
  for (var c = 0u; c < ${C}u; c++) { mx = max(mx, x[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < ${C}u; c++) { s += exp(x[base + c] - mx); }
  l[i] = mx + log(s);`,
    );
    backend.run({ name: 'CrossEntropy', code: rows, buffers: [buf(backend, logits, 'CrossEntropy'), lse.buffer], groups: groups(N) });
    const total = linearShader(
      [
        { name: 'x', type: 'f32', access: 'read' },
        { name: 'labels', type: 'i32', access: 'read' },
        { name: 'l', type: 'f32', access: 'read' },
        { name: 'loss', type: 'f32', access: 'read_write' },
        { name: 'flags', type: 'atomic<u32>', access: 'read_write' },
      ],
      1,
      `var s = 0.0; var count = 0u;
  for (var n = 0u; n < ${N}u; n++) {
    let label = labels[n];
    if (label == ${ignore}) { continue; }
    if (label < 0 || label >= ${C}) { atomicStore(&flags[${FLAG.CrossEntropy}], 1u); continue; }
    s += l[n] - x[n * ${C}u + u32(label)]; count++;
  }
  loss[0] = select(0.0, s / f32(count), count > 0u);`,
    );
    backend.run({
      name: 'CrossEntropy',
      code: total,
      buffers: [buf(backend, logits, 'CrossEntropy'), buf(backend, labels, 'CrossEntropy'), lse.buffer, loss.buffer, backend.flags],
      groups: [1, 1, 1],
    });
    return [output(backend, loss, []), output(backend, lse, [N])];
  },
  CrossEntropyGrad: ([logits, labels, lse, dLoss], attrs) => {
    const backend = backendFor('CrossEntropyGrad');
    const [N, C] = logits.shape;
    if (lse.shape.length !== 1 || lse.shape[0] !== N || sizeOf(dLoss.shape) !== 1) {
      throw new Error(`gpujs kernel CrossEntropyGrad: expected logSumExp [${N}] and dLoss [], got ${formatShape(lse.shape)} and ${formatShape(dLoss.shape)}`);
    }
    const out = backend.allocate(N * C, 'float32');
    if (N * C === 0) return [output(backend, out, logits.shape)];
    const ignore = attrs.ignoreIndex;
    // The count of labelled rows, once, then one thread per logit.
    const factor = backend.allocate(1, 'float32');
    const countCode = linearShader(
      [
        { name: 'labels', type: 'i32', access: 'read' },
        { name: 'dl', type: 'f32', access: 'read' },
        { name: 'f', type: 'f32', access: 'read_write' },
      ],
      1,
      `var count = 0u;
  for (var n = 0u; n < ${N}u; n++) { let label = labels[n]; if (label != ${ignore} && label >= 0 && label < ${C}) { count++; } }
  f[0] = select(0.0, dl[0] / f32(count), count > 0u);`,
    );
    backend.run({ name: 'CrossEntropyGrad', code: countCode, buffers: [buf(backend, labels, 'CrossEntropyGrad'), buf(backend, dLoss, 'CrossEntropyGrad'), factor.buffer], groups: [1, 1, 1] });
    const code = linearShader(
      [
        { name: 'x', type: 'f32', access: 'read' },
        { name: 'labels', type: 'i32', access: 'read' },
        { name: 'l', type: 'f32', access: 'read' },
        { name: 'f', type: 'f32', access: 'read' },
        { name: 'y', type: 'f32', access: 'read_write' },
      ],
      N * C,
      `let n = i / ${C}u; let c = i % ${C}u; let label = labels[n];
  if (label == ${ignore} || label < 0 || label >= ${C}) { y[i] = 0.0; return; }
  let factor = f[0];
  y[i] = exp(x[i] - l[n]) * factor - select(0.0, factor, u32(label) == c);`,
    );
    backend.run({
      name: 'CrossEntropyGrad',
      code,
      buffers: [buf(backend, logits, 'CrossEntropyGrad'), buf(backend, labels, 'CrossEntropyGrad'), buf(backend, lse, 'CrossEntropyGrad'), factor.buffer, out.buffer],
      groups: groups(N * C),
    });
    backend.dispose(output(backend, factor, [1]));
    return [output(backend, out, logits.shape)];
  },
};

// ------------------------------------------------------------------ in place

const inPlace: KernelGroup = {
  AdamW: ([p, g, m, v], attrs) => {
    const backend = backendFor('AdamW');
    for (const other of [g, m, v]) sameShapeCheck('AdamW', p, other);
    const { lr, beta1, beta2, eps, weightDecay, step, gradScale } = attrs;
    if (!(step >= 1)) throw new Error(`gpujs kernel AdamW: attr 'step' must be >= 1 (1 on the first update), got ${step}`);
    const n = sizeOf(p.shape);
    if (n === 0) return [];
    // torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    // p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps). Scalars in a buffer: no recompiles.
    const params = backend.params([
      { f: 1 - lr * weightDecay },
      { f: beta1 },
      // the clipping scale of g folded into (1-b1) g and (1-b2) g^2
      { f: (1 - beta1) * gradScale },
      { f: beta2 },
      { f: (1 - beta2) * gradScale * gradScale },
      { f: lr / (1 - beta1 ** step) },
      { f: Math.sqrt(1 - beta2 ** step) },
      { f: eps },
    ]);
    const code = linearShader(
      [
        { name: 'p', type: 'f32', access: 'read_write' },
        { name: 'g', type: 'f32', access: 'read' },
        { name: 'm', type: 'f32', access: 'read_write' },
        { name: 'v', type: 'f32', access: 'read_write' },
        { name: 'h', type: 'u32', access: 'read' },
      ],
      n,
      `let grad = g[i];
  let m2 = bitcast<f32>(h[1]) * m[i] + bitcast<f32>(h[2]) * grad;
  let v2 = bitcast<f32>(h[3]) * v[i] + bitcast<f32>(h[4]) * grad * grad;
  m[i] = m2; v[i] = v2;
  p[i] = p[i] * bitcast<f32>(h[0]) - bitcast<f32>(h[5]) * m2 / (sqrt(v2) / bitcast<f32>(h[6]) + bitcast<f32>(h[7]));`,
    );
    const storages = [p, g, m, v].map((info) => backend.storageOf(info, 'AdamW'));
    backend.run({ name: 'AdamW', code, buffers: [...storages.map((s) => s.buffer), params], groups: groups(n) });
    for (const written of [storages[0], storages[2], storages[3]]) written.hostCache = null;
    return [];
  },
  AddInPlace: ([acc, x]) => {
    const backend = backendFor('AddInPlace');
    sameShapeCheck('AddInPlace', acc, x);
    const n = sizeOf(acc.shape);
    if (n === 0) return [];
    const code = linearShader(
      [
        { name: 'a', type: 'f32', access: 'read_write' },
        { name: 'x', type: 'f32', access: 'read' },
      ],
      n,
      'a[i] = a[i] + x[i];',
    );
    const target = backend.storageOf(acc, 'AddInPlace');
    backend.run({ name: 'AddInPlace', code, buffers: [target.buffer, buf(backend, x, 'AddInPlace')], groups: groups(n) });
    target.hostCache = null;
    return [];
  },
};

// ------------------------------------------------------------------ attention

/**
 * FusedAttention / FusedAttentionGrad composed from this mode's own kernels (through runKernel on
 * the active webgpu backend), the same arithmetic as gpujs/kernels/attention.ts; a single-pass
 * WGSL attention kernel is left for later. The intermediates (head splits, scores, probabilities)
 * are the kernel's own: `Parts` records them and frees all but the outputs before returning, so
 * the kernel adds to device memory only what it returns.
 */
class Parts {
  private readonly made: TensorInfo[] = [];
  call(name: Parameters<typeof runKernel>[0], inputs: TensorInfo[], attrs: Record<string, unknown> = {}): TensorInfo {
    const [out] = runKernel(name, inputs, attrs);
    this.made.push(out);
    return out;
  }
  splitHeads(x: TensorInfo, heads: number): TensorInfo {
    const [b, l, h] = x.shape;
    return this.call('Transpose', [{ ...x, shape: [b, l, heads, h / heads] }], { perm: [0, 2, 1, 3] });
  }
  mergeHeads(x: TensorInfo): TensorInfo {
    const [b, heads, l, d] = x.shape;
    const t = this.call('Transpose', [x], { perm: [0, 2, 1, 3] });
    return { ...t, shape: [b, l, heads * d] };
  }
  probabilities(qh: TensorInfo, kh: TensorInfo, mask: TensorInfo | undefined, scale: number, p: number, seed: number): { probs: TensorInfo; dropped: TensorInfo } {
    const scores = this.call('MatMul', [qh, kh], { transB: true, alpha: scale });
    const probs = this.call('Softmax', mask ? [scores, mask] : [scores]);
    return { probs, dropped: p === 0 ? probs : this.call('Dropout', [probs], { p, seed }) };
  }
  /** Frees every intermediate but `outputs` (views of an intermediate keep it) and returns `outputs`. */
  finish(outputs: TensorInfo[]): TensorInfo[] {
    const backend = getBackend();
    for (const info of this.made) if (!outputs.some((out) => out.storage === info.storage)) backend.dispose?.(info);
    return outputs;
  }
}
function attentionParts(kernel: string, q: TensorInfo, k: TensorInfo, heads: number): void {
  const hidden = q.shape[2];
  if (q.shape.length !== 3 || k.shape.length !== 3 || !Number.isInteger(heads) || heads < 1 || hidden % heads !== 0) {
    throw new Error(`gpujs kernel ${kernel}: q ${formatShape(q.shape)}, k ${formatShape(k.shape)} with ${heads} heads: expected [B, L, H] with H divisible by heads`);
  }
}

const attention: KernelGroup = {
  FusedAttention: ([q, k, v, mask], attrs) => {
    backendFor('FusedAttention');
    attentionParts('FusedAttention', q, k, attrs.heads);
    const parts = new Parts();
    const { dropped } = parts.probabilities(parts.splitHeads(q, attrs.heads), parts.splitHeads(k, attrs.heads), mask, attrs.scale, attrs.p, attrs.seed);
    return parts.finish([parts.mergeHeads(parts.call('MatMul', [dropped, parts.splitHeads(v, attrs.heads)]))]);
  },
  FusedAttentionGrad: ([q, k, v, dOut, mask], attrs) => {
    backendFor('FusedAttentionGrad');
    attentionParts('FusedAttentionGrad', q, k, attrs.heads);
    const parts = new Parts();
    const [qh, kh, vh, dh] = [q, k, v, dOut].map((x) => parts.splitHeads(x, attrs.heads));
    const { probs, dropped } = parts.probabilities(qh, kh, mask, attrs.scale, attrs.p, attrs.seed);
    const dv = parts.call('MatMul', [dropped, dh], { transA: true });
    const dDropped = parts.call('MatMul', [dh, vh], { transB: true });
    const dProbs = attrs.p === 0 ? dDropped : parts.call('Dropout', [dDropped], { p: attrs.p, seed: attrs.seed });
    const dScores = parts.call('SoftmaxGrad', [probs, dProbs]);
    const dq = parts.call('MatMul', [dScores, kh], { alpha: attrs.scale });
    const dk = parts.call('MatMul', [dScores, qh], { transA: true, alpha: attrs.scale });
    return parts.finish([parts.mergeHeads(dq), parts.mergeHeads(dk), parts.mergeHeads(dv)]);
  },
};

/** The webgpu mode's kernels, one group per family (completeness is checked at registration). */
export const webgpuKernelGroups: readonly KernelGroup[] = [elementwise, reduce, matmul, layout, embedding, norm, softmax, inPlace, attention];
