import { splitmix32 } from './generator.js';

const TWO_POW_32 = 4294967296;

/** FNV-1a of a string's UTF-16 code units: turns a purpose name into a label number. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * Mixes a seed and any number of labels into one uint32 seed: numbers (epoch, batch index) or
 * names of a purpose ('dropout', 'decoder-mask'). Every (seed, labels...) gets its own generator,
 * so streams never coincide, and a position can be recomputed on resume instead of replaying
 * every earlier draw. `deriveSeed(seed)` alone is the seed's own mixed value.
 */
export function deriveSeed(seed: number, ...labels: Array<number | string>): number {
  if (!Number.isFinite(seed)) throw new Error(`deriveSeed: seed must be a finite number, found ${seed}`);
  const st = { x: (seed >>> 0) ^ (Math.floor(seed / TWO_POW_32) >>> 0) };
  let h = splitmix32(st);
  for (const label of labels) {
    const value = typeof label === 'string' ? hashLabel(label) : label;
    if (!Number.isFinite(value)) throw new Error(`deriveSeed: label must be a finite number or a string, found ${label}`);
    st.x = (h ^ (value >>> 0) ^ Math.imul(Math.floor(value / TWO_POW_32) >>> 0, 0x27d4eb2f)) >>> 0;
    h = splitmix32(st);
  }
  return h;
}
