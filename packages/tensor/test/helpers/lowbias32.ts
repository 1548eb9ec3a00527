/**
 * lowbias32 (the Dropout contract's hash) in BigInt arithmetic: an independent statement of it,
 * sharing no code with engine/dropout-mask.ts or the WebAssembly kernel.
 */
export function lowbias32Reference(value: bigint): bigint {
  const M = 0xffffffffn;
  let x = value & M;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M;
  return x ^ (x >> 16n);
}
