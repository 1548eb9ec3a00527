import type { KernelGroup } from '../../engine/kernels.js';
import { broadcastStrides, formatShape } from '../../shape.js';
import { CPU, floats, output, values } from './storage.js';
import { takeFloats, takeZeros } from './buffer-pool.js';
import { forEachIndex } from './elementwise.js';
import {
  simdAdamW,
  simdCrossEntropy,
  simdCrossEntropyGrad,
  simdKernelsActive,
  simdLayerNorm,
  simdLayerNormGrad,
  simdSoftmax,
  simdSoftmaxGrad,
} from './simd/index.js';

/**
 * Each kernel below runs the WebAssembly SIMD version (./simd) where the runtime has SIMD, else
 * the plain-JS loop that follows it; both meet the contract in engine/kernels.ts.
 */

export const nnKernels: KernelGroup = {
  LayerNorm: ([x, gamma, beta], attrs) => {
    const eps = attrs.eps as number;
    const input = floats(x);
    const g = floats(gamma);
    const b = floats(beta);
    const hidden = x.shape[x.shape.length - 1];
    if (simdKernelsActive()) {
      const { y, mean, rstd } = simdLayerNorm(input, g, b, hidden, eps);
      return [output(y, x.shape), output(mean, [mean.length]), output(rstd, [rstd.length])];
    }
    const rows = hidden === 0 ? 0 : input.length / hidden;
    const out = takeFloats(input.length);
    const means = new Float32Array(rows);
    const rstds = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * hidden;
      let total = 0;
      for (let h = 0; h < hidden; h++) total += input[base + h];
      const mean = total / hidden;
      let squares = 0;
      for (let h = 0; h < hidden; h++) {
        const d = input[base + h] - mean;
        squares += d * d;
      }
      const rstd = 1 / Math.sqrt(squares / hidden + eps);
      means[r] = mean;
      rstds[r] = rstd;
      for (let h = 0; h < hidden; h++) out[base + h] = (input[base + h] - mean) * rstd * g[h] + b[h];
    }
    return [output(out, x.shape), output(means, [rows]), output(rstds, [rows])];
  },

  LayerNormGrad: ([dy, x, gamma, meanInfo, rstdInfo]) => {
    const grad = floats(dy);
    const input = floats(x);
    const g = floats(gamma);
    const means = floats(meanInfo);
    const rstds = floats(rstdInfo);
    const hidden = x.shape[x.shape.length - 1];
    if (simdKernelsActive()) {
      const { dx, dGamma, dBeta } = simdLayerNormGrad(grad, input, g, means, rstds, hidden);
      return [output(dx, x.shape), output(dGamma, [hidden]), output(dBeta, [hidden])];
    }
    const rows = means.length;
    const dx = takeFloats(input.length);
    const dGamma = new Float64Array(hidden);
    const dBeta = new Float64Array(hidden);
    for (let r = 0; r < rows; r++) {
      const base = r * hidden;
      const mean = means[r];
      const rstd = rstds[r];
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma
      let sumDxhat = 0;
      let sumDxhatXhat = 0;
      for (let h = 0; h < hidden; h++) {
        const xhat = (input[base + h] - mean) * rstd;
        const dxhat = grad[base + h] * g[h];
        sumDxhat += dxhat;
        sumDxhatXhat += dxhat * xhat;
        dGamma[h] += grad[base + h] * xhat;
        dBeta[h] += grad[base + h];
      }
      const meanDxhat = sumDxhat / hidden;
      const meanDxhatXhat = sumDxhatXhat / hidden;
      for (let h = 0; h < hidden; h++) {
        const xhat = (input[base + h] - mean) * rstd;
        dx[base + h] = rstd * (grad[base + h] * g[h] - meanDxhat - xhat * meanDxhatXhat);
      }
    }
    return [output(dx, x.shape), output(Float32Array.from(dGamma), [hidden]), output(Float32Array.from(dBeta), [hidden])];
  },

  Softmax: ([x, mask]) => {
    const input = floats(x);
    if (simdKernelsActive() && x.shape.length > 0) {
      return [output(simdSoftmax(input, x.shape, mask ? floats(mask) : undefined, mask?.shape), x.shape)];
    }
    const columns = x.shape[x.shape.length - 1];
    const rows = columns === 0 ? 0 : input.length / columns;
    const out = takeFloats(input.length);
    let scores = input;
    if (mask) {
      // Materialise x + mask in float32 so a finfo.min mask saturates exactly as PyTorch's does.
      const m = floats(mask);
      const maskStrides = broadcastStrides(mask.shape, x.shape);
      scores = new Float32Array(input.length);
      const plus = scores;
      forEachIndex(x.shape, [maskStrides], (i, [offset]) => {
        plus[i] = input[i] + m[offset];
      });
    }
    for (let r = 0; r < rows; r++) {
      const base = r * columns;
      let max = -Infinity;
      for (let c = 0; c < columns; c++) if (scores[base + c] > max) max = scores[base + c];
      if (max === -Infinity) max = 0;
      let total = 0;
      for (let c = 0; c < columns; c++) {
        const e = Math.exp(scores[base + c] - max);
        out[base + c] = e;
        total += e;
      }
      const inverse = 1 / total;
      for (let c = 0; c < columns; c++) out[base + c] *= inverse;
    }
    return [output(out, x.shape)];
  },

  SoftmaxGrad: ([y, dy]) => {
    const probs = floats(y);
    const grad = floats(dy);
    const columns = y.shape[y.shape.length - 1];
    if (simdKernelsActive() && y.shape.length > 0) return [output(simdSoftmaxGrad(probs, grad, columns), y.shape)];
    const rows = columns === 0 ? 0 : probs.length / columns;
    const out = takeFloats(probs.length);
    for (let r = 0; r < rows; r++) {
      const base = r * columns;
      let dot = 0;
      for (let c = 0; c < columns; c++) dot += grad[base + c] * probs[base + c];
      for (let c = 0; c < columns; c++) out[base + c] = probs[base + c] * (grad[base + c] - dot);
    }
    return [output(out, y.shape)];
  },

  CrossEntropy: ([logitsInfo, labelsInfo], attrs) => {
    const ignoreIndex = attrs.ignoreIndex as number;
    const logits = floats(logitsInfo);
    const labels = values(labelsInfo);
    const [rows, classes] = logitsInfo.shape;
    if (simdKernelsActive()) {
      for (let r = 0; r < rows; r++) checkLabel(labels[r], r, classes, logitsInfo.shape, ignoreIndex);
      const { loss, logSumExp } = simdCrossEntropy(logits, labels, rows, classes, ignoreIndex);
      return [output(new Float32Array([loss]), []), output(logSumExp, [rows])];
    }
    const logSumExp = new Float32Array(rows);
    let total = 0;
    let counted = 0;
    for (let r = 0; r < rows; r++) {
      const label = labels[r];
      if (label === ignoreIndex) continue;
      checkLabel(label, r, classes, logitsInfo.shape, ignoreIndex);
      const base = r * classes;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) if (logits[base + c] > max) max = logits[base + c];
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[base + c] - max);
      const lse = max + Math.log(sum);
      logSumExp[r] = lse;
      total += lse - logits[base + label];
      counted++;
    }
    const loss = counted === 0 ? 0 : total / counted;
    return [output(new Float32Array([loss]), []), output(logSumExp, [rows])];
  },

  CrossEntropyGrad: ([logitsInfo, labelsInfo, lseInfo, dLossInfo], attrs) => {
    const ignoreIndex = attrs.ignoreIndex as number;
    const logits = floats(logitsInfo);
    const labels = values(labelsInfo);
    const lse = floats(lseInfo);
    const dLoss = floats(dLossInfo)[0];
    const [rows, classes] = logitsInfo.shape;
    if (simdKernelsActive()) {
      return [output(simdCrossEntropyGrad(logits, labels, lse, dLoss, rows, classes, ignoreIndex), logitsInfo.shape)];
    }
    let counted = 0;
    for (let r = 0; r < rows; r++) if (labels[r] !== ignoreIndex) counted++;
    // Ignored rows stay 0: only a fully counted batch may take an array with old contents.
    const out = counted === rows ? takeFloats(rows * classes) : takeZeros(rows * classes);
    if (counted === 0) return [output(out, logitsInfo.shape)];
    const factor = dLoss / counted;
    for (let r = 0; r < rows; r++) {
      const label = labels[r];
      if (label === ignoreIndex) continue;
      const base = r * classes;
      const rowLse = lse[r];
      for (let c = 0; c < classes; c++) out[base + c] = Math.exp(logits[base + c] - rowLse) * factor;
      out[base + label] -= factor;
    }
    return [output(out, logitsInfo.shape)];
  },

  AdamW: ([p, g, m, v], attrs) => {
    const lr = attrs.lr as number;
    const beta1 = attrs.beta1 as number;
    const beta2 = attrs.beta2 as number;
    const eps = attrs.eps as number;
    const weightDecay = attrs.weightDecay as number;
    const step = attrs.step as number;
    const gradScale = attrs.gradScale as number;
    const params = values(p) as Float32Array;
    const grads = floats(g);
    const m1 = values(m) as Float32Array;
    const m2 = values(v) as Float32Array;
    if (params.length !== grads.length || m1.length !== params.length || m2.length !== params.length) {
      throw new Error(`AdamW: parameter ${formatShape(p.shape)}, gradient ${formatShape(g.shape)} and moments must have equal sizes`);
    }
    if (simdKernelsActive()) {
      simdAdamW(params, grads, m1, m2, { lr, beta1, beta2, eps, weightDecay, step, gradScale });
      return [];
    }
    const decay = 1 - lr * weightDecay;
    const stepSize = lr / (1 - beta1 ** step);
    const correction2 = Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < params.length; i++) {
      const grad = grads[i] * gradScale;
      const first = beta1 * m1[i] + (1 - beta1) * grad;
      const second = beta2 * m2[i] + (1 - beta2) * grad * grad;
      m1[i] = first;
      m2[i] = second;
      params[i] = params[i] * decay - (stepSize * first) / (Math.sqrt(second) / correction2 + eps);
    }
    return [];
  },
};

/** Throws unless `label` is ignoreIndex or a class index in [0, classes). */
function checkLabel(label: number, row: number, classes: number, shape: readonly number[], ignoreIndex: number): void {
  if (label === ignoreIndex || !(label < 0 || label >= classes)) return;
  throw new Error(`CrossEntropy: label ${label} at row ${row} is outside [0, ${classes}) for logits ${formatShape(shape)} (ignoreIndex ${ignoreIndex})`);
}
