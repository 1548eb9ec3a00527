/** fast-check arbitraries for shapes, including the odd sizes 1, 3 and 17. */
import fc from 'fast-check';
import { shapeSize } from './ref.js';

export const oddDim = fc.constantFrom(1, 2, 3, 5, 17);

/** A shape of rank in [minRank, maxRank] with at most maxSize elements. */
export function shapeArb(minRank = 0, maxRank = 4, maxSize = 300): fc.Arbitrary<number[]> {
  return fc.array(oddDim, { minLength: minRank, maxLength: maxRank }).filter((s) => shapeSize(s) <= maxSize);
}

/**
 * An operand shape that broadcasts to `full`: `drop` leading axes removed and the axes whose
 * bit is set in `ones` replaced by 1.
 */
export function broadcastOperand(full: readonly number[], drop: number, ones: number): number[] {
  return full.slice(Math.min(drop, full.length)).map((d, i) => ((ones >> i) & 1 ? 1 : d));
}

/** Two shapes that broadcast together, plus their broadcast. */
export const broadcastPairArb = shapeArb(0, 4).chain((full) =>
  fc
    .record({
      dropA: fc.nat(full.length),
      dropB: fc.nat(full.length),
      onesA: fc.nat(15),
      onesB: fc.nat(15),
    })
    .map(({ dropA, dropB, onesA, onesB }) => ({
      a: broadcastOperand(full, dropA, onesA),
      b: broadcastOperand(full, dropB, onesB),
    })),
);

/** Every operand shape of rank <= base.length broadcasting to `base`: all rank and size-1 combinations. */
export function allBroadcastOperands(base: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let rank = 0; rank <= base.length; rank++) {
    const tail = base.slice(base.length - rank);
    for (let ones = 0; ones < 1 << rank; ones++) out.push(tail.map((d, i) => ((ones >> i) & 1 ? 1 : d)));
  }
  return out;
}

export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
