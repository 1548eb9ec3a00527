import { KERNELS } from '../../engine/kernels.js';
import { registerKernel } from '../../engine/engine.js';
import { CPU, floats, output } from './storage.js';

/** erf to float32 precision (Abramowitz-Stegun 7.1.26 is too coarse; this uses a rational fit, |err| < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2));
}

export function geluDerivative(x: number): number {
  return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** GELU and its gradient: elementwise over same-shaped inputs. */
export function registerActivationKernels(): void {
  registerKernel(CPU, KERNELS.Gelu, ([x]) => {
    const input = floats(x);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = gelu(input[i]);
    return [output(out, x.shape)];
  });
  registerKernel(CPU, KERNELS.GeluGrad, ([x, dy]) => {
    const input = floats(x);
    const grad = floats(dy);
    const out = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) out[i] = grad[i] * geluDerivative(input[i]);
    return [output(out, x.shape)];
  });
}
