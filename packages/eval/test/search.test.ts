import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosineTopK, normalizeRows, topK, type EmbeddingMatrix } from '../src/index.js';

/** Full sort with the documented order: score desc, tie key asc, index asc. */
function fullSort(scores: number[], k: number, exclude = -1, key: (i: number) => number = () => 0): number[] {
  return scores
    .map((_, i) => i)
    .filter((i) => i !== exclude)
    .sort((a, b) => scores[b]! - scores[a]! || key(a) - key(b) || a - b)
    .slice(0, k);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomMatrix(rows: number, dim: number, seed: number): EmbeddingMatrix {
  const r = lcg(seed);
  return { data: Float32Array.from({ length: rows * dim }, () => r() - 0.5), rows, dim };
}

/** Unit rows computed here in float64, stored as float32 (the test's own normalisation). */
function unitRows(m: EmbeddingMatrix): EmbeddingMatrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) {
    let ss = 0;
    for (let t = 0; t < m.dim; t++) ss += m.data[r * m.dim + t]! ** 2;
    for (let t = 0; t < m.dim; t++) out[r * m.dim + t] = m.data[r * m.dim + t]! / Math.sqrt(ss);
  }
  return { ...m, data: out };
}

function dots(q: EmbeddingMatrix, c: EmbeddingMatrix, i: number): number[] {
  return Array.from({ length: c.rows }, (_, j) => {
    let s = 0;
    for (let t = 0; t < q.dim; t++) s += q.data[i * q.dim + t]! * c.data[j * c.dim + t]!;
    return s;
  });
}

describe('topK (partial selection)', () => {
  it('property: equals a full sort, with exclusion and tie keys, on scores full of ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: -1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }),
        (scores, k, exclude, keys) => {
          const key = (i: number) => keys[i]!;
          expect(Array.from(topK(scores, k, { exclude, tieKey: key }).indices)).toEqual(fullSort(scores, k, exclude, key));
          expect(Array.from(topK(scores, k).indices)).toEqual(fullSort(scores, k));
        },
      ),
    );
  });

  it('returns scores best-first and handles k larger than the row', () => {
    const r = topK([0.1, 0.7, 0.3], 10, { exclude: 1 });
    expect(Array.from(r.indices)).toEqual([2, 0]);
    expect(Array.from(r.scores)).toEqual([0.3, 0.1]);
    expect(topK([1, 2], 0).indices.length).toBe(0);
    expect(() => topK([1], -1)).toThrow(/k must be a non-negative integer/);
  });
});

describe('cosineTopK (blocked exact search)', () => {
  it('equals a naive float64 full sort over the same unit vectors (odd sizes exercise every block edge)', () => {
    for (const [Q, N, D, qb, cb] of [
      [7, 53, 5, 3, 8],
      [13, 101, 17, 64, 512],
      [1, 3, 4, 1, 2],
      [9, 40, 33, 4, 7],
    ] as const) {
      const q = unitRows(randomMatrix(Q, D, 11 + Q));
      const c = unitRows(randomMatrix(N, D, 97 + N));
      const k = Math.min(N, 10);
      const hits = cosineTopK(q, c, k, { normalized: true, queryBlock: qb, corpusBlock: cb, exclude: (i) => (i * 5) % N });
      for (let i = 0; i < Q; i++) {
        const s = dots(q, c, i);
        const want = fullSort(s, k, (i * 5) % N);
        expect(Array.from(hits[i]!.indices)).toEqual(want);
        // Same float64 accumulation order over the same float32 inputs: bit-identical scores.
        expect(Array.from(hits[i]!.scores)).toEqual(want.map((j) => s[j]!));
      }
    }
  });

  it('normalises raw vectors itself: scores are cosines', () => {
    const q = randomMatrix(5, 8, 3);
    const c = randomMatrix(30, 8, 4);
    const scaled = { ...c, data: c.data.map((v, i) => v * (1 + (Math.floor(i / 8) % 5))) }; // row norms differ
    const hits = cosineTopK(q, scaled, 30);
    const qu = unitRows(q);
    const cu = unitRows(c);
    for (let i = 0; i < 5; i++) {
      const s = dots(qu, cu, i);
      hits[i]!.indices.forEach((j, r) => expect(hits[i]!.scores[r]).toBeCloseTo(s[j]!, 6));
      expect(hits[i]!.scores[0]).toBeCloseTo(Math.max(...s), 6);
    }
  });

  it('breaks exact ties (duplicate docs) by the tie key, then by index', () => {
    const d = [1, 0, 0, 1, 1, 0, 0, 1, 0.6, 0.8];
    const c: EmbeddingMatrix = { data: Float32Array.from(d), rows: 5, dim: 2 }; // rows 0,2 equal; 1,3 equal
    const q: EmbeddingMatrix = { data: Float32Array.from([1, 0]), rows: 1, dim: 2 };
    expect(Array.from(cosineTopK(q, c, 5)[0]!.indices)).toEqual([0, 2, 4, 1, 3]);
    // Doc 0 relevant (key 1): it goes after its equal, doc 2.
    expect(Array.from(cosineTopK(q, c, 5, { tieKey: () => (j) => (j === 0 ? 1 : 0) })[0]!.indices)).toEqual([2, 0, 4, 1, 3]);
  });

  it('zero vectors score 0; shape errors name the matrix', () => {
    const q: EmbeddingMatrix = { data: new Float32Array(2), rows: 1, dim: 2 };
    const c: EmbeddingMatrix = { data: Float32Array.from([1, 0, -1, 0]), rows: 2, dim: 2 };
    expect(Array.from(cosineTopK(q, c, 2)[0]!.scores)).toEqual([0, 0]);
    expect(Array.from(normalizeRows({ data: Float32Array.from([3, 4, 0, 0]), rows: 2, dim: 2 }).data)).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
    expect(() => cosineTopK(q, { data: new Float32Array(5), rows: 2, dim: 2 }, 1)).toThrow(/cosineTopK: corpus should be \[rows, dim\] = \[2, 2\]/);
    expect(() => cosineTopK(q, { data: new Float32Array(6), rows: 2, dim: 3 }, 1)).toThrow(/dims must match/);
  });
});
