/**
 * The engine's conventions, the same for every backend: one registration path that refuses an
 * incomplete kernel table, one table of kernel attributes (types and defaults), in-place kernels
 * never run on copies, and no import circle in the package's sources.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { kernelTable, registerBackend, setBackendAsync } from '../src/engine/engine.js';
import { KERNELS, KERNEL_ATTRS, resolveKernelAttrs, type KernelFunc, type KernelTable } from '../src/engine/kernels.js';

const noop: KernelFunc = () => [];
const fullTable = (): Record<string, KernelFunc> => Object.fromEntries(Object.values(KERNELS).map((name) => [name, noop]));

describe('registerBackend', () => {
  it('refuses a kernel table that lacks a kernel of the contract, naming it', () => {
    const table = fullTable();
    delete table.Softmax;
    delete table.AdamW;
    expect(() => registerBackend('incomplete', () => T.getBackend(), table as KernelTable)).toThrow(
      "registerBackend('incomplete'): no kernel for Softmax, AdamW",
    );
  });

  it('refuses kernels that are not in the contract', () => {
    const table = { ...fullTable(), Frobnicate: noop };
    expect(() => registerBackend('extra', () => T.getBackend(), table as unknown as KernelTable)).toThrow(/Frobnicate are not kernels of the contract/);
  });

  it('kernelTable refuses a kernel defined by two groups', () => {
    expect(() => kernelTable('twice', [{ Add: noop }, { Add: noop }])).toThrow('twice: kernel Add is defined twice');
  });
});

describe('kernel attributes', () => {
  it('fills the one set of defaults (AdamW as torch.optim.AdamW)', () => {
    expect(resolveKernelAttrs('AdamW', { lr: 0.001, step: 1 })).toEqual({ lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1, gradScale: 1 });
    expect(resolveKernelAttrs('MatMul', {})).toEqual({ transA: false, transB: false, alpha: 1 });
  });

  it('names a missing required attr, a mistyped one and an unknown one', () => {
    expect(() => resolveKernelAttrs('LayerNorm', {})).toThrow("kernel LayerNorm: attr 'eps' (number) is required");
    expect(() => resolveKernelAttrs('Sum', { axes: [0.5] })).toThrow("kernel Sum: attr 'axes' must be an array of integers, got [0.5]");
    expect(() => resolveKernelAttrs('Dropout', { p: 1, seed: 3 })).toThrow("kernel Dropout: attr 'p' must be a number in [0, 1), got 1");
    expect(() => resolveKernelAttrs('Neg', { scale: 2 })).toThrow("kernel Neg: unknown attr 'scale'; it takes none");
  });

  it('every kernel of the contract has an attribute entry', () => {
    expect(Object.keys(KERNEL_ATTRS).sort()).toEqual(Object.values(KERNELS).sort());
  });

  it('runKernel applies them on every backend (Affine without bias adds 0)', () => {
    for (const backend of ['cpu', 'gpujs']) {
      T.setBackend(backend);
      const x = T.tensor([1, -2, 3]);
      const [out] = T.runKernel('Affine', [x.info], { scale: 2 });
      expect(Array.from(new T.Tensor(out).toFloat32Array())).toEqual([2, -4, 6]);
    }
    T.setBackend('cpu');
  });
});

describe('in-place kernels', () => {
  it('refuse inputs they would write that live on another backend, instead of updating a copy', () => {
    T.setBackend('cpu');
    const acc = T.tensor([1, 2, 3]);
    const x = T.tensor([1, 1, 1]);
    T.setBackend('gpujs');
    try {
      expect(() => T.runKernel('AddInPlace', [acc.info, x.info])).toThrow(
        "runKernel('AddInPlace'): input 0 (shape [3]) lives on backend 'cpu', but this kernel writes it in place on the active backend 'gpujs'",
      );
      // the input it only reads may still move
      const target = T.zeros([3]);
      T.runKernel('AddInPlace', [target.info, x.info]);
      expect(Array.from(target.toFloat32Array())).toEqual([1, 1, 1]);
    } finally {
      T.setBackend('cpu');
    }
    expect(Array.from(acc.toFloat32Array())).toEqual([1, 2, 3]);
  });
});

describe('asynchronous reads', () => {
  it('data(), itemAsync(), array() and readTensors() read the cpu backend too, as copies', async () => {
    T.setBackend('cpu');
    const x = T.tensor([[1, 2], [3, 4]]);
    const y = x.mul(2);
    const data = await y.data();
    expect(Array.from(data)).toEqual([2, 4, 6, 8]);
    (data as Float32Array)[0] = 100;
    expect(y.toFloat32Array()[0]).toBe(2);
    expect(await T.sum(y).itemAsync()).toBe(20);
    expect(await y.array()).toEqual([[2, 4], [6, 8]]);
    const [a, b] = await T.readTensors([T.sum(x), T.cast(x, 'int32')]);
    expect(Array.from(a)).toEqual([10]);
    expect(b).toBeInstanceOf(Int32Array);
    await expect(y.itemAsync()).rejects.toThrow('itemAsync: tensor of shape [2,2] has 4 elements, expected 1');
  });

  it('a backend that starts asynchronously needs setBackendAsync, and says so', async () => {
    const cpu = T.setBackend('cpu');
    let starts = 0;
    const table = Object.fromEntries(Object.values(KERNELS).map((name) => [name, noop])) as KernelTable;
    registerBackend('later', async () => {
      starts++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { ...cpu, name: 'later' };
    }, table);
    expect(() => T.setBackend('later')).toThrow("setBackend('later'): this backend starts asynchronously (it has to find a WebGPU device); call `await setBackendAsync('later')` instead");
    expect((await setBackendAsync('later')).name).toBe('later');
    expect(T.setBackend('later').name).toBe('later');
    expect(starts).toBe(1);
    T.setBackend('cpu');
  });

  it('a backend whose asynchronous start fails names the reason, and can be retried', async () => {
    registerBackend('never', async () => {
      throw new Error('no adapter');
    }, Object.fromEntries(Object.values(KERNELS).map((name) => [name, noop])) as KernelTable);
    await expect(setBackendAsync('never')).rejects.toThrow("setBackend('never'): the backend cannot start here: no adapter");
    await expect(setBackendAsync('never')).rejects.toThrow('no adapter');
    expect(T.getBackend().name).toBe('cpu');
  });

  it('gpujs mode webgpu starts asynchronously; where Node has no WebGPU (this Debian: dawn.node needs glibc >= 2.38) it says why', async () => {
    T.registerGpujsBackend({ name: 'gpujs-webgpu', mode: 'webgpu' });
    expect(() => T.setBackend('gpujs-webgpu')).toThrow(/starts asynchronously/);
    const started = await setBackendAsync('gpujs-webgpu').then(
      () => null,
      (error: Error) => error.message,
    );
    T.setBackend('cpu');
    if (started === null) expect(T.gpujsInfo('gpujs-webgpu').mode).toBe('webgpu');
    else expect(started).toMatch(/setBackend\('gpujs-webgpu'\): the backend cannot start here: Node has no WebGPU here: the 'webgpu' package \(dawn\.node\) did not load .*glibc >= 2\.38/);
  });
});

describe('import graph of src', () => {
  it('has no circle, counting type-only imports', () => {
    const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(src);
    const edges = new Map<string, string[]>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const targets = [...text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)].map((m) =>
        resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts')),
      );
      edges.set(file, targets.filter((target) => files.includes(target)));
    }
    // Depth-first search; a back edge to a file on the current path closes a circle.
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) {
        if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(src, f)).join(' -> '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    expect(circles).toEqual([]);
  });
});
