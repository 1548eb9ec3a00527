/**
 * nn.Module: parameter names are the dotted paths of the names children and parameters were
 * registered under (what checkpoints are keyed by), tied tensors appear once, train/eval reach the
 * whole tree, and loadStateDict names what it could not load.
 */
import { describe, expect, it } from 'vitest';
import { Module, Linear, Tensor, tensor, zeros, sum, mul } from '../src/index.js';

class Block extends Module {
  readonly proj: Linear;
  readonly scale: Tensor;
  constructor() {
    super();
    this.proj = this.child('proj', new Linear(3, 2));
    this.scale = this.parameter('scale', zeros([2]));
  }
}

class Net extends Module {
  readonly embedding: Tensor;
  readonly layers: Block[];
  readonly head: Linear;
  constructor() {
    super();
    this.embedding = this.parameter('embedding', zeros([5, 3]));
    // Registered under other names than the attributes: the registered names are what count.
    this.layers = [0, 1].map((i) => this.child(`layer.${i}`, new Block()));
    this.head = this.child('output', new Linear(3, 5, { bias: false }));
  }
  /** Ties the output projection to the embedding (as BERT's MLM decoder is). */
  tie(): void {
    (this.head as unknown as { replaceParameter(name: string, value: Tensor): void }).replaceParameter('weight', this.embedding);
  }
}

describe('nn.Module', () => {
  it('names parameters by the registered names: a module\'s own first, then each child\'s, in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([name]) => name)).toEqual([
      'embedding',
      'layer.0.scale',
      'layer.0.proj.weight',
      'layer.0.proj.bias',
      'layer.1.scale',
      'layer.1.proj.weight',
      'layer.1.proj.bias',
      'output.weight',
    ]);
    expect(net.namedParameters('model.')[0][0]).toBe('model.embedding');
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.namedModules().map(([name]) => name)).toEqual(['', 'layer.0', 'layer.0.proj', 'layer.1', 'layer.1.proj', 'output']);
  });

  it('lists a tied tensor once, under the name it was first registered with', () => {
    const net = new Net();
    net.tie();
    const names = net.namedParameters().map(([name]) => name);
    expect(names).not.toContain('output.weight');
    expect(net.stateDict().get('embedding')).toBe(net.embedding);
    expect(() => (net.head as unknown as { replaceParameter(n: string, v: Tensor): void }).replaceParameter('nope', net.embedding)).toThrow(/no parameter 'nope'/);
  });

  it('switches training on and off for the whole tree', () => {
    const net = new Net();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.layers[1].proj.training).toBe(true);
  });

  it('zeroGrad clears every parameter gradient', () => {
    const net = new Net();
    sum(mul(net.layers[0].proj.forward(tensor([[1, 2, 3]])), tensor([[1, 1]]))).backward();
    expect(net.layers[0].proj.weight.grad).not.toBeNull();
    net.zeroGrad();
    const grad = net.layers[0].proj.weight.grad;
    expect(grad === null || grad.toFloat32Array().every((x) => x === 0)).toBe(true);
  });

  it('loadStateDict copies by name, reports missing and unexpected names, and names a bad shape', () => {
    const net = new Net();
    const values = new Map([
      ['layer.0.scale', { shape: [2], data: Float32Array.from([4, 5]) }],
      ['extra', { shape: [1], data: Float32Array.from([1]) }],
    ]);
    const report = net.loadStateDict(values);
    expect(Array.from(net.layers[0].scale.toFloat32Array())).toEqual([4, 5]);
    expect(report.unexpected).toEqual(['extra']);
    expect(report.missing).toContain('embedding');
    expect(report.missing).not.toContain('layer.0.scale');
    expect(() => net.loadStateDict(values, { strict: true, source: 'w.safetensors' })).toThrow(/loadStateDict \(from w\.safetensors\): missing embedding, .*; unexpected extra/);
    expect(() => net.loadStateDict(new Map([['layer.1.scale', { shape: [3], data: new Float32Array(3) }]]))).toThrow(
      /tensor 'layer\.1\.scale' has shape \[3\], expected \[2\]/,
    );
  });
});
