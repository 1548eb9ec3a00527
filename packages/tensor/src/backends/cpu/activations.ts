import type { KernelGroup } from '../../engine/kernels.js';
import { CPU, floats, output } from './storage.js';
import { takeFloats } from './buffer-pool.js';
import { simdGelu, simdGeluGrad, simdKernelsActive } from './simd/index.js';

/**
 * erfc(|z|) to float32 precision: the Chebyshev fit of Numerical Recipes (erfcc), fractional error
 * < 1.2e-7 everywhere (Abramowitz-Stegun 7.1.26 is too coarse).
 */
function erfcAbs(z: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.5 * a);
  return (
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  );
}

/** erf to float32 precision (absolute; relative too except where erf itself is near 0). */
export function erf(x: number): number {
  const r = erfcAbs(x);
  return x >= 0 ? 1 - r : r - 1;
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, formed from erfc for x < 0 so that
 * the tail keeps its relative precision (1 + erf(x) would cancel to nothing there).
 */
function normalCdf(x: number): number {
  const h = 0.5 * erfcAbs(x * INV_SQRT2);
  return x >= 0 ? 1 - h : h;
}

export function gelu(x: number): number {
  return x * normalCdf(x);
}

export function geluDerivative(x: number): number {
  return normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * GELU and its gradient: elementwise over same-shaped inputs. WebAssembly SIMD (./simd) where the
 * runtime has it, else the loops below.
 */
export const activationKernels: KernelGroup = {
  Gelu: ([x]) => {
    const input = floats(x);
    if (simdKernelsActive()) return [output(simdGelu(input), x.shape)];
    const out = takeFloats(input.length);
    for (let i = 0; i < input.length; i++) out[i] = gelu(input[i]);
    return [output(out, x.shape)];
  },
  GeluGrad: ([x, dy]) => {
    const input = floats(x);
    const grad = floats(dy);
    if (simdKernelsActive()) return [output(simdGeluGrad(input, grad), x.shape)];
    const out = takeFloats(input.length);
    for (let i = 0; i < input.length; i++) out[i] = grad[i] * geluDerivative(input[i]);
    return [output(out, x.shape)];
  },
};
