/** Small statistics for benchmarks on a noisy shared host: report medians, not means or bests. */

/** The median of `xs` (mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile q in [0, 1] of `xs`; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Milliseconds `fn` takes, by performance.now(). */
export function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/**
 * Runs every variant `warmup` times, then `reps` rounds in which each variant runs once, in
 * order, so that slow phases of a noisy host hit all variants alike. Returns times in ms per variant.
 */
export function interleaved(variants: ReadonlyArray<() => void>, reps: number, warmup = 1): number[][] {
  for (let w = 0; w < warmup; w++) for (const v of variants) v();
  const times = variants.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) variants.forEach((v, i) => times[i].push(timeMs(v)));
  return times;
}
