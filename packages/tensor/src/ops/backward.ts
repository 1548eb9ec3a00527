import { runKernel } from '../engine/engine.js';
import { KERNELS } from '../engine/kernels.js';
import { noGrad } from '../autograd.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add } from './elementwise.js';

/** Tensors reachable from `root` through grad nodes, each after everything it depends on. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: Array<{ tensor: Tensor; expanded: boolean }> = [{ tensor: root, expanded: false }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.expanded) {
      order.push(frame.tensor);
      continue;
    }
    if (visited.has(frame.tensor)) continue;
    visited.add(frame.tensor);
    stack.push({ tensor: frame.tensor, expanded: true });
    for (const input of frame.tensor.node?.inputs ?? []) {
      if (input.requiresGrad && !visited.has(input)) stack.push({ tensor: input, expanded: false });
    }
  }
  return order;
}

/**
 * Reverse-mode sweep: gradients of every tensor that feeds `root` are summed over all its uses
 * (tied weights) and added to leaves' existing `.grad` (accumulation across backward calls).
 */
export function runBackward(root: Tensor, seed: Tensor): void {
  const order = topologicalOrder(root);
  const pending = new Map<Tensor, Tensor>([[root, seed]]);
  // Sums this sweep made and nothing else has seen yet: further contributions are added into them
  // in place (AddInPlace) instead of allocating a new sum each time. A sum leaves this set when
  // its tensor's backward consumes it, since a backward may hand it on to several inputs.
  const owned = new Set<Tensor>();
  noGrad(() => {
    for (let index = order.length - 1; index >= 0; index--) {
      const tensor = order[index];
      const gradient = pending.get(tensor);
      if (!gradient) continue;
      pending.delete(tensor);
      owned.delete(gradient);
      const node = tensor.node;
      if (!node) {
        tensor.grad = tensor.grad ? add(tensor.grad, gradient) : gradient;
        continue;
      }
      const inputGradients = node.backward(gradient);
      node.inputs.forEach((input, i) => {
        const inputGradient = inputGradients[i];
        if (!inputGradient || !input.requiresGrad) return;
        if (!shapesEqual(inputGradient.shape, input.shape)) {
          throw new Error(
            `backward of ${node.op}: gradient for input ${i} has shape [${inputGradient.shape}] but the input has [${input.shape}]`,
          );
        }
        const previous = pending.get(input);
        if (!previous) {
          pending.set(input, inputGradient);
        } else if (owned.has(previous)) {
          runKernel(KERNELS.AddInPlace, [previous.info, inputGradient.info]);
        } else {
          const total = add(previous, inputGradient);
          owned.add(total);
          pending.set(input, total);
        }
      });
    }
  });
}
