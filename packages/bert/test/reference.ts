/**
 * An independent float64 BERT/RoBERTa masked-LM written with plain loops (no @retro/tensor), the
 * reference for finite differences and for checks the fixtures do not cover.
 */
import { fixtureConfig, fixtureDir, readF32File, type Kind } from '../../../test-support/fixtures.js';

// ---------------------------------------------------------------------------------------------
// float64 reference

/** erf to ~1e-16: 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!! (all terms positive). */
export function erf64(x: number): number {
  if (x < 0) return -erf64(-x);
  if (x > 6) return 1;
  let term = x;
  let total = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    total += term;
    if (term < 1e-17 * total) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * total;
}

const gelu64 = (x: number): number => 0.5 * x * (1 + erf64(x / Math.SQRT2));

export interface RefConfig {
  kind: Kind;
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  vocab: number;
  eps: number;
}

export interface RefInputs {
  ids: number[][];
  mask: number[][];
  tokenTypes: number[][];
  positions: number[][];
  labels: number[][];
}

/** Parameters by HF name; `outputWord` (when set) replaces the tied decoder weight only. */
export type RefWeights = Map<string, Float64Array> & { outputWord?: Float64Array };

function linear(x: Float64Array, rows: number, inF: number, w: Float64Array, b: Float64Array, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, rows: number, h: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < h; i++) mean += x[r * h + i];
    mean /= h;
    let variance = 0;
    for (let i = 0; i < h; i++) variance += (x[r * h + i] - mean) ** 2;
    variance /= h;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < h; i++) y[r * h + i] = (x[r * h + i] - mean) * inv * g[i] + b[i];
  }
  return y;
}

/** Float64 forward: hidden states (n+1 x [B*L*H]), logits [B*L*V], loss. */
export function referenceForward(w: RefWeights, c: RefConfig, inp: RefInputs): { hidden: Float64Array[]; logits: Float64Array; loss: number } {
  const p = c.kind;
  const get = (name: string): Float64Array => {
    const v = w.get(name);
    if (!v) throw new Error(`reference: no weight ${name}`);
    return v;
  };
  const B = inp.ids.length;
  const L = inp.ids[0].length;
  const H = c.hidden;
  const rows = B * L;
  const word = get(`${p}.embeddings.word_embeddings.weight`);
  const pos = get(`${p}.embeddings.position_embeddings.weight`);
  const tt = get(`${p}.embeddings.token_type_embeddings.weight`);
  const summed = new Float64Array(rows * H);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const r = b * L + i;
      for (let k = 0; k < H; k++) {
        summed[r * H + k] = word[inp.ids[b][i] * H + k] + tt[inp.tokenTypes[b][i] * H + k] + pos[inp.positions[b][i] * H + k];
      }
    }
  }
  let x = layerNorm(summed, rows, H, get(`${p}.embeddings.LayerNorm.weight`), get(`${p}.embeddings.LayerNorm.bias`), c.eps);
  const hidden = [x];
  const dh = H / c.heads;
  const FMIN = -3.4028234663852886e38;
  for (let layer = 0; layer < c.layers; layer++) {
    const n = (s: string): Float64Array => get(`${p}.encoder.layer.${layer}.${s}`);
    const q = linear(x, rows, H, n('attention.self.query.weight'), n('attention.self.query.bias'), H);
    const k = linear(x, rows, H, n('attention.self.key.weight'), n('attention.self.key.bias'), H);
    const v = linear(x, rows, H, n('attention.self.value.weight'), n('attention.self.value.bias'), H);
    const ctx = new Float64Array(rows * H);
    const scores = new Float64Array(L);
    for (let b = 0; b < B; b++) {
      for (let head = 0; head < c.heads; head++) {
        for (let i = 0; i < L; i++) {
          let max = -Infinity;
          for (let j = 0; j < L; j++) {
            let s = 0;
            for (let d = 0; d < dh; d++) s += q[(b * L + i) * H + head * dh + d] * k[(b * L + j) * H + head * dh + d];
            scores[j] = s / Math.sqrt(dh) + (1 - inp.mask[b][j]) * FMIN;
            max = Math.max(max, scores[j]);
          }
          let total = 0;
          for (let j = 0; j < L; j++) {
            scores[j] = Math.exp(scores[j] - max);
            total += scores[j];
          }
          for (let d = 0; d < dh; d++) {
            let s = 0;
            for (let j = 0; j < L; j++) s += (scores[j] / total) * v[(b * L + j) * H + head * dh + d];
            ctx[(b * L + i) * H + head * dh + d] = s;
          }
        }
      }
    }
    const attnOut = linear(ctx, rows, H, n('attention.output.dense.weight'), n('attention.output.dense.bias'), H);
    for (let i = 0; i < attnOut.length; i++) attnOut[i] += x[i];
    const a = layerNorm(attnOut, rows, H, n('attention.output.LayerNorm.weight'), n('attention.output.LayerNorm.bias'), c.eps);
    const inter = linear(a, rows, H, n('intermediate.dense.weight'), n('intermediate.dense.bias'), c.intermediate).map(gelu64);
    const out = linear(inter, rows, c.intermediate, n('output.dense.weight'), n('output.dense.bias'), H);
    for (let i = 0; i < out.length; i++) out[i] += a[i];
    x = layerNorm(out, rows, H, n('output.LayerNorm.weight'), n('output.LayerNorm.bias'), c.eps);
    hidden.push(x);
  }
  const headName = p === 'bert'
    ? { dense: 'cls.predictions.transform.dense', ln: 'cls.predictions.transform.LayerNorm', bias: 'cls.predictions.bias' }
    : { dense: 'lm_head.dense', ln: 'lm_head.layer_norm', bias: 'lm_head.bias' };
  const t = linear(x, rows, H, get(`${headName.dense}.weight`), get(`${headName.dense}.bias`), H).map(gelu64);
  const tn = layerNorm(t, rows, H, get(`${headName.ln}.weight`), get(`${headName.ln}.bias`), c.eps);
  const logits = linear(tn, rows, H, w.outputWord ?? word, get(headName.bias), c.vocab);
  let loss = 0;
  let count = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const label = inp.labels[b][i];
      if (label === -100) continue;
      const base = (b * L + i) * c.vocab;
      let max = -Infinity;
      for (let o = 0; o < c.vocab; o++) max = Math.max(max, logits[base + o]);
      let total = 0;
      for (let o = 0; o < c.vocab; o++) total += Math.exp(logits[base + o] - max);
      loss += max + Math.log(total) - logits[base + label];
      count++;
    }
  }
  return { hidden, logits, loss: loss / count };
}

export function refConfig(kind: Kind): RefConfig {
  const cfg = fixtureConfig(kind);
  return {
    kind,
    hidden: cfg.hidden_size as number,
    heads: cfg.num_attention_heads as number,
    layers: cfg.num_hidden_layers as number,
    intermediate: cfg.intermediate_size as number,
    vocab: cfg.vocab_size as number,
    eps: cfg.layer_norm_eps as number,
  };
}

/** The fixture's model weights in float64 (c_head.* dropped). */
export function refWeights(kind: Kind): RefWeights {
  const out: RefWeights = new Map();
  for (const [name, { data }] of readF32File(`${fixtureDir(kind)}/model.safetensors`)) if (!name.startsWith('c_head.')) out.set(name, data);
  return out;
}

/** Deterministic small PRNG for sampling entries (mulberry32). */
export function sampler(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
