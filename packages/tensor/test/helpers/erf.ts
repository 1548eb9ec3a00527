/**
 * Float64 erf/erfc good to ~1e-15 relative, for the GELU reference. Independent of the library's
 * float32-grade rational fit: a positive-term power series below 3 (no cancellation) and the
 * Laplace continued fraction for erfc above it (where 1 - erf would lose every digit).
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function erfSeries(x: number): number {
  // erf x = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (1*3*...*(2n+1)); every term is positive.
  const x2 = x * x;
  let term = x;
  let total = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    total += term;
    if (Math.abs(term) < 1e-17 * Math.abs(total)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * total;
}

function erfcContinuedFraction(z: number): number {
  // erfc z = e^{-z^2}/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), z > 0.
  let tail = z;
  for (let k = 120; k >= 1; k--) tail = z + k / 2 / tail;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / tail;
}

export function erfc64(x: number): number {
  if (x < 0) return 2 - erfc64(-x);
  if (x < 3) return 1 - erfSeries(x);
  return erfcContinuedFraction(x);
}

export function erf64(x: number): number {
  if (x < 0) return -erf64(-x);
  if (x < 3) return erfSeries(x);
  return 1 - erfcContinuedFraction(x);
}

/** Exact GELU 0.5 x (1 + erf(x / sqrt 2)); erfc form for x < 0 keeps relative precision in the tail. */
export function gelu64(x: number): number {
  return x < 0 ? 0.5 * x * erfc64(-x / Math.SQRT2) : 0.5 * x * (1 + erf64(x / Math.SQRT2));
}
