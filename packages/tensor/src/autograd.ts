/**
 * Grad mode and graph recording. The reverse sweep that walks the recorded graph lives in
 * ops/backward.ts, beside the ops it calls, so this file (imported by every op) imports none.
 */
import type { GradNode, Tensor } from './tensor.js';

export type { GradNode };

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a graph (inference, optimizer updates, backward itself). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Records how `output` was made so `backward` can walk back through it. */
export function attach(output: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((input) => input.requiresGrad)) {
    output.requiresGrad = true;
    output.node = { op, inputs, backward };
  }
  return output;
}
