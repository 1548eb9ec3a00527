import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@retro/tensor';
import { clipGradNorm, globalGradNorm } from '../src/index.js';

function withGrad(values: number[]): Tensor {
  const p = tensor(new Float32Array(values.length), [values.length], { requiresGrad: true });
  p.grad = tensor(values, [values.length]);
  return p;
}

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  it('returns the global norm over all parameters: sqrt(3^2 + 4^2 + 12^2) = 13', () => {
    const params = [withGrad([3, 4]), withGrad([12])];
    expect(clipGradNorm(params, 100)).toBe(13);
    expect([...params[0].grad!.toFloat32Array(), ...params[1].grad!.toFloat32Array()]).toEqual([3, 4, 12]);
  });

  it('scales every gradient by max_norm / (total + 1e-6) when above the limit', () => {
    const params = [withGrad([3, 4]), withGrad([12])];
    expect(clipGradNorm(params, 6.5)).toBe(13);
    const c = 6.5 / (13 + 1e-6);
    const got = [...params[0].grad!.toFloat32Array(), ...params[1].grad!.toFloat32Array()];
    [3 * c, 4 * c, 12 * c].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 6));
    expect(globalGradNorm(params)).toBeCloseTo(6.5, 5);
  });

  it('also scales (by 5/5.000001) when the norm equals max_norm exactly, as torch does', () => {
    const params = [withGrad([3, 4])];
    clipGradNorm(params, 5);
    const got = params[0].grad!.toFloat32Array();
    expect(got[0]).toBeLessThan(3);
    expect(got[0]).toBeCloseTo((3 * 5) / 5.000001, 6);
  });

  it('ignores parameters without gradients and reports non-finite norms untouched', () => {
    const none = tensor([1, 2], [2], { requiresGrad: true });
    expect(clipGradNorm([none, withGrad([6, 8])], 100)).toBe(10);
    const bad = withGrad([1, Number.NaN]);
    expect(clipGradNorm([bad], 1)).toBeNaN();
    expect(bad.grad!.toFloat32Array()[0]).toBe(1);
    expect(() => clipGradNorm([bad], 0)).toThrow(/maxNorm/);
  });
});
