/**
 * Ranks of `values` [N], 1-based, tied values sharing the mean of their positions
 * (scipy.stats.rankdata(method='average')). Float64 throughout so ties are exact.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    // positions i..j-1 (0-based) hold equal values: each gets the mean 1-based rank.
    const rank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) ranks[order[t]!] = rank;
    i = j;
  }
  return ranks;
}

/** Pearson correlation of x [N] and y [N]; NaN when either is constant (scipy does the same). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = checkPair('pearson', x, y);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Clamp: rounding can push |r| a hair above 1 for perfectly correlated input.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Spearman rank correlation of x [N] and y [N] with average ranks for ties, as
 * `scipy.stats.spearmanr(x, y).statistic`. Returns a fraction in [-1, 1] (not ×100); NaN if either
 * input is constant.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair('spearman', x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

function checkPair(caller: string, x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`${caller}: x has ${x.length} values, y has ${y.length}; expected equal lengths`);
  if (x.length < 2) throw new Error(`${caller}: need at least 2 values, found ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) {
      throw new Error(`${caller}: value ${i} is not finite (x=${x[i]}, y=${y[i]})`);
    }
  }
  return x.length;
}
