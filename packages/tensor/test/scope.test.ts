/**
 * Tensor scopes (src/scope.ts): what a scope disposes and what it leaves, observed on a backend
 * that frees device memory (gpujs webgpu on a counting device) and on cpu, where scopes free nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, backendMemory, keep, Linear, mul, scope, scopeDepth, sum, tensor, zeros, type Tensor } from '../src/index.js';
import { useCountingWebgpu, type CountingBackend } from './helpers/counting.js';

const disposed = (t: Tensor): boolean => (t.info.storage as { disposed?: boolean }).disposed === true;
const live = (): number => backendMemory()!.liveBytes;

describe('scope on a backend that frees device memory (counting webgpu)', () => {
  let counting: CountingBackend;
  beforeAll(async () => {
    counting = await useCountingWebgpu();
  });
  afterAll(() => counting.restore());

  it('disposes the temporaries and hands the result to the caller', () => {
    const before = live();
    let a!: Tensor;
    let b!: Tensor;
    const c = scope(() => {
      a = tensor([1, 2, 3, 4]);
      b = a.add(1);
      return b.mul(2);
    });
    expect(disposed(a)).toBe(true);
    expect(disposed(b)).toBe(true);
    expect(disposed(c)).toBe(false);
    expect(live() - before).toBe(16);
    // The result is usable after the scope and freed only by its owner.
    scope(() => {
      c.add(1);
    });
    c.dispose();
    expect(live()).toBe(before);
    expect(() => c.add(1)).toThrow(/used after dispose/);
  });

  it('keeps what keep() marked, and tensors inside returned arrays, objects and Maps', () => {
    const before = live();
    let kept!: Tensor;
    let dropped!: Tensor;
    const result = scope(() => {
      kept = keep(tensor([1, 2]));
      dropped = tensor([3, 4]);
      return { list: [tensor([5])], nested: { map: new Map([['x', tensor([6])]]) } };
    });
    expect(disposed(kept)).toBe(false);
    expect(disposed(dropped)).toBe(true);
    expect(disposed(result.list[0])).toBe(false);
    expect(disposed(result.nested.map.get('x')!)).toBe(false);
    expect(live() - before).toBe(8 + 4 + 4);
    for (const t of [kept, result.list[0], result.nested.map.get('x')!]) t.dispose();
    expect(live()).toBe(before);
  });

  it('hands an inner result to the enclosing scope, which disposes it unless it returns it', () => {
    const before = live();
    let inner!: Tensor;
    let outerTemp!: Tensor;
    const outer = scope(() => {
      expect(scopeDepth()).toBe(1);
      inner = scope(() => {
        expect(scopeDepth()).toBe(2);
        return tensor([1, 2, 3]).add(1);
      });
      expect(disposed(inner)).toBe(false);
      outerTemp = inner.mul(2);
      return sum(inner);
    });
    expect(scopeDepth()).toBe(0);
    expect(disposed(inner)).toBe(true);
    expect(disposed(outerTemp)).toBe(true);
    expect(disposed(outer)).toBe(false);
    outer.dispose();
    expect(live()).toBe(before);
  });

  it('disposes everything it made when the function throws, and rethrows', () => {
    const before = live();
    let made!: Tensor;
    expect(() =>
      scope(() => {
        made = tensor([1, 2, 3]).add(1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(disposed(made)).toBe(true);
    expect(live()).toBe(before);
    expect(scopeDepth()).toBe(0);
  });

  it('never disposes storage born outside it, views of it included', () => {
    const outside = tensor([1, 2, 3, 4]);
    scope(() => {
      outside.reshape([2, 2]).add(1);
      outside.detach();
    });
    expect(disposed(outside)).toBe(false);
    // A returned view of a temporary keeps the temporary's storage.
    const view = scope(() => outside.add(1).reshape([2, 2]));
    expect(disposed(view)).toBe(false);
    view.dispose();
    outside.dispose();
  });

  it('refuses an async function (a scope must be synchronous) and frees what it made', () => {
    const before = live();
    expect(() =>
      scope(async () => {
        tensor([1, 2]);
      }),
    ).toThrow(/returned a Promise; a scope must be synchronous/);
    expect(live()).toBe(before);
  });

  it('loading a state dict frees the weights it replaces (no second copy of the model left to GC)', () => {
    const before = live();
    const layer = new Linear(3, 2);
    const modelBytes = live() - before;
    layer.loadStateDict(new Map([['weight', { shape: [2, 3], data: new Float32Array(6).fill(0.5) }], ['bias', { shape: [2], data: new Float32Array(2) }]]));
    expect(live() - before).toBe(modelBytes);
    for (const [, p] of layer.namedParameters()) p.dispose();
    expect(live()).toBe(before);
  });

  it('leaves parameters (requiresGrad leaves) made inside a scope alive', () => {
    const w = scope(() => tensor([1, 2, 3], undefined, { requiresGrad: true }));
    const z = scope(() => zeros([3], { requiresGrad: true }));
    expect(disposed(w)).toBe(false);
    expect(disposed(z)).toBe(false);
    w.dispose();
    z.dispose();
  });
});

describe('backward frees its temporaries and leaves each leaf its own .grad', () => {
  let counting: CountingBackend;
  beforeAll(async () => {
    counting = await useCountingWebgpu();
  });
  afterAll(() => counting.restore());

  it('a backward in a scope leaves exactly the parameters and their gradients', () => {
    const w = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
    const b = tensor([1, -1], undefined, { requiresGrad: true });
    const paramBytes = live();
    const step = (): void =>
      scope(() => {
        const x = tensor([[0.5, 1], [2, -1], [1, 1]]);
        const h = add(x.matmul(w), b).gelu();
        sum(mul(h, h)).backward();
      });
    step();
    expect(w.grad).not.toBeNull();
    expect(b.grad).not.toBeNull();
    expect(live()).toBe(paramBytes * 2);
    // Accumulation replaces each .grad by a sum and frees the one it replaced.
    step();
    expect(live()).toBe(paramBytes * 2);
    w.zeroGrad();
    b.zeroGrad();
    expect(live()).toBe(paramBytes);
    w.dispose();
    b.dispose();
  });

  it('two leaves handed one gradient get separate storage; so does a leaf given the caller seed', () => {
    const a = tensor([1, 2], undefined, { requiresGrad: true });
    const c = tensor([3, 4], undefined, { requiresGrad: true });
    scope(() => add(a, c).backward(tensor([1, 1])));
    expect(a.grad!.info.storage).not.toBe(c.grad!.info.storage);
    a.zeroGrad();
    expect(disposed(c.grad!)).toBe(false);
    const seed = tensor([1, 1]);
    c.zeroGrad();
    c.backward(seed);
    expect(c.grad!.info.storage).not.toBe(seed.info.storage);
    seed.dispose();
    expect(disposed(c.grad!)).toBe(false);
    for (const t of [a, c, c.grad!]) t.dispose();
  });
});

describe('backward with freeGraph releases activations as the sweep passes them', () => {
  let counting: CountingBackend;
  beforeAll(async () => {
    counting = await useCountingWebgpu();
  });
  afterAll(() => counting.restore());

  it('frees every activation but the root and retained ones; views keep their source until both are passed', () => {
    const w = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
    scope(() => {
      const x = tensor([[0.5, 1], [2, -1], [1, 1]]);
      const h = x.matmul(w);
      const flat = h.reshape([6]);
      const g = flat.gelu();
      const part = sum(g);
      const loss = part.mul(2);
      loss.backward(undefined, { freeGraph: true, retain: [part] });
      expect(disposed(h)).toBe(true);
      expect(disposed(flat)).toBe(true);
      expect(disposed(g)).toBe(true);
      expect(disposed(part)).toBe(false);
      expect(disposed(loss)).toBe(false);
      // Inputs outside the graph (no grad) and parameters are untouched.
      expect(disposed(x)).toBe(false);
      expect(disposed(w)).toBe(false);
      expect(disposed(w.grad!)).toBe(false);
    });
    for (const t of [w, w.grad!]) t.dispose();
  });

  it('without freeGraph the graph survives the sweep', () => {
    const w = tensor([1, 2], undefined, { requiresGrad: true });
    scope(() => {
      const h = w.mul(3);
      sum(h).backward();
      expect(disposed(h)).toBe(false);
    });
    w.dispose();
  });
});

describe('scope on cpu (nothing to free)', () => {
  it('frees nothing and changes no value', () => {
    let temp!: Tensor;
    const result = scope(() => {
      temp = tensor([1, 2, 3]).add(1);
      return temp.mul(2);
    });
    expect(Array.from(temp.dataSync())).toEqual([2, 3, 4]);
    expect(Array.from(result.dataSync())).toEqual([4, 6, 8]);
    expect(scopeDepth()).toBe(0);
  });
});
