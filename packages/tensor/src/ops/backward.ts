import { runKernel } from '../engine/engine.js';
import { KERNELS } from '../engine/kernels.js';
import { noGrad } from '../autograd.js';
import { shapesEqual } from '../shape.js';
import type { BackwardOptions, RowGradient, Tensor } from '../tensor.js';
import { callKernel1 } from './kernel-call.js';
import { bornInInnermost, disposeBornUnless, disposeTemporary, keep, release, scope, tracked } from '../scope.js';
import { add, scale } from './elementwise.js';

/** A weak set of storages; a storage that is not an object is never a member. */
class StorageSet {
  private readonly members = new WeakSet<object>();
  constructor(storages: readonly unknown[] = []) {
    for (const storage of storages) this.add(storage);
  }
  add(storage: unknown): void {
    if (typeof storage === 'object' && storage !== null) this.members.add(storage);
  }
  has(storage: unknown): boolean {
    return typeof storage === 'object' && storage !== null && this.members.has(storage);
  }
}

const isRowGradient = (gradient: Tensor | RowGradient): gradient is RowGradient => (gradient as RowGradient).kind === 'rows';

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
 *
 * Memory (backends that free device memory, see scope.ts): the sweep runs in its own scope. A
 * leaf's `.grad` is kept (the leaf owns it, with storage no other leaf shares: a gradient that is
 * not the sweep's own is copied); a `.grad` that accumulation replaces stays readable (it is never
 * mutated) and becomes a temporary of the caller's scope, if any. Every other tensor the
 * sweep makes is disposed as soon as no pending gradient refers to its storage, so the sweep
 * holds the gradients of its frontier, not of the whole graph. The forward graph's tensors belong
 * to the caller's scope; with `freeGraph` each is disposed once the sweep has passed it and every
 * view sharing its storage (it is then needed by no backward still to run).
 */
export function runBackward(root: Tensor, seed: Tensor, options: BackwardOptions = {}): void {
  const order = topologicalOrder(root);
  const pending = new Map<Tensor, Tensor>([[root, seed]]);
  // Pending gradients the sweep may write: further contributions go into them in place
  // (AddInPlace, ScatterAddInPlace) instead of into a new sum each time. A gradient leaves this set
  // when its tensor's backward consumes it, since a backward may hand it on to several inputs.
  const owned = new Set<Tensor>();
  // Pending gradients per storage (views share one): storage with none is garbage.
  const pendingUses = new Map<unknown, number>([[seed.info.storage, 1]]);
  const use = (gradient: Tensor, delta: number): void => {
    const count = (pendingUses.get(gradient.info.storage) ?? 0) + delta;
    if (count === 0) pendingUses.delete(gradient.info.storage);
    else pendingUses.set(gradient.info.storage, count);
  };
  // Besides the sums it made, the sweep may write a gradient some backward returned, pending for
  // exactly one input and taken by no leaf: nothing else sees it (a tied weight's first dense
  // gradient, then its embedding rows). Forward tensors and the caller's seed never qualify.
  // Weak sets: remembering a storage must not keep its memory alive past its last use.
  const madeBySweep = new StorageSet();
  const outsideSweep = new StorageSet([seed.info.storage, ...order.map((t) => t.info.storage)]);
  const takenByLeaf = new StorageSet();
  const writable = (previous: Tensor, contribution: Tensor): boolean =>
    previous.info.storage !== contribution.info.storage &&
    (owned.has(previous) ||
      (madeBySweep.has(previous.info.storage) && pendingUses.get(previous.info.storage) === 1 && !takenByLeaf.has(previous.info.storage)));
  const freeing = tracked(root);
  const replaced: Tensor[] = [];
  // freeGraph: graph tensors per storage still to be passed; the root and `retain` are never freed.
  const graphUses = new Map<unknown, number>();
  const retained = new Set<unknown>([root.info.storage, ...(options.retain ?? []).map((t) => t.info.storage)]);
  const freeGraph = options.freeGraph === true && freeing;
  if (freeGraph) for (const tensor of order) if (tensor.node) graphUses.set(tensor.info.storage, (graphUses.get(tensor.info.storage) ?? 0) + 1);
  const passed = (tensor: Tensor): void => {
    if (!freeGraph || !tensor.node) return;
    const left = graphUses.get(tensor.info.storage)! - 1;
    graphUses.set(tensor.info.storage, left);
    if (left === 0 && !retained.has(tensor.info.storage)) disposeTemporary(tensor);
  };
  scope(
    () =>
      noGrad(() => {
        for (let index = order.length - 1; index >= 0; index--) {
          const tensor = order[index];
          const gradient = pending.get(tensor);
          if (!gradient) {
            passed(tensor);
            continue;
          }
          pending.delete(tensor);
          use(gradient, -1);
          owned.delete(gradient);
          const node = tensor.node;
          if (!node) {
            takenByLeaf.add(gradient.info.storage);
            const previous = setLeafGrad(tensor, gradient);
            if (previous) replaced.push(previous);
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
            if (!isRowGradient(inputGradient) && !outsideSweep.has(inputGradient.info.storage)) madeBySweep.add(inputGradient.info.storage);
            if (isRowGradient(inputGradient)) {
              // Into a gradient the sweep may write: in place. Otherwise a new sum (a copy of the
              // gradient so far, or the dense scatter when this is the first), which it then owns.
              const scatter = [inputGradient.rows.info, inputGradient.ids.info] as const;
              if (previous && writable(previous, inputGradient.rows)) {
                runKernel(KERNELS.ScatterAddInPlace, [previous.info, ...scatter], { paddingIdx: inputGradient.paddingIdx });
                owned.add(previous);
                return;
              }
              let total: Tensor;
              if (previous) {
                // A copy (the Slice kernel over the whole box), since `previous` may be seen elsewhere.
                total = callKernel1(KERNELS.Slice, [previous], { begin: previous.shape.map(() => 0), size: [...previous.shape] });
                runKernel(KERNELS.ScatterAddInPlace, [total.info, ...scatter], { paddingIdx: inputGradient.paddingIdx });
                use(previous, -1);
              } else {
                total = callKernel1(KERNELS.ScatterAdd, [inputGradient.rows, inputGradient.ids], { numRows: input.shape[0], paddingIdx: inputGradient.paddingIdx });
              }
              owned.add(total);
              pending.set(input, total);
              use(total, 1);
              return;
            }
            if (!previous) {
              pending.set(input, inputGradient);
              use(inputGradient, 1);
            } else if (writable(previous, inputGradient)) {
              runKernel(KERNELS.AddInPlace, [previous.info, inputGradient.info]);
              owned.add(previous);
            } else {
              const total = add(previous, inputGradient);
              owned.add(total);
              pending.set(input, total);
              use(previous, -1);
              use(total, 1);
            }
          });
          passed(tensor);
          if (freeing) disposeBornUnless((storage) => pendingUses.has(storage));
        }
      }),
    'backward',
  );
  release(replaced);
}

/** Adds `gradient` to a leaf's `.grad`, which the leaf then owns alone (see runBackward); returns the `.grad` replaced. */
function setLeafGrad(leaf: Tensor, gradient: Tensor): Tensor | null {
  const previous = leaf.grad;
  if (previous) {
    leaf.grad = keep(add(previous, gradient));
    return previous;
  }
  // Storage the sweep did not make (the caller's seed) or another leaf already took (one gradient
  // handed to two inputs) is copied, so that disposing one leaf's grad never frees another's.
  leaf.grad = keep(bornInInnermost(gradient) || !tracked(gradient) ? gradient : scale(gradient, 1));
  return null;
}
