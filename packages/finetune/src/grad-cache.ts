/**
 * Gradient caching (Gao et al., 2021, "Scaling Deep Contrastive Learning Batch Size under Memory
 * Limited Setup"): the contrastive loss couples every embedding of a batch, so it cannot be split
 * into independent micro-batches. Instead:
 *   1. embed every text in sub-batches WITHOUT a graph (memory of one sub-batch at a time),
 *   2. compute the loss on those embeddings as leaves and back-propagate to them: g = dLoss/dE,
 *   3. re-embed each sub-batch WITH a graph and back-propagate g's rows into the parameters.
 * By the chain rule the parameter gradient equals the one of the whole batch at once. Dropout must
 * draw the same masks in 1 and 3, so each sub-batch's generator state is saved and replayed.
 */
import { Generator, Tensor, concat, noGrad, narrow, scale, type GeneratorState } from '@retro/tensor';

/** One list of texts embedded by the same encoder (queries, passages, sentence1s, ...). */
export type EmbedFn = (texts: readonly string[]) => Tensor;

export interface GradCacheOptions {
  /** Texts per sub-batch in passes 1 and 3. */
  chunkSize: number;
  /** The generator the encoder's dropout draws from (replayed between the passes). */
  generator?: Generator;
  /** Multiplies the parameter gradient (1 / accumulation). Default 1. */
  gradScale?: number;
}

/**
 * Runs steps 1-3 for `lists` of texts ([N_k] each -> [N_k, H] embeddings), with
 * `loss(embeddings)` -> [] combining them. Parameter gradients are ADDED to `.grad` (like backward).
 * Returns the loss tensor; its graph reaches only the detached embedding leaves, not the parameters.
 */
export function gradCacheStep(embed: EmbedFn, lists: ReadonlyArray<readonly string[]>, loss: (embeddings: Tensor[]) => Tensor, options: GradCacheOptions): Tensor {
  const { chunkSize, generator } = options;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`gradCacheStep: chunkSize must be a positive integer, got ${chunkSize}`);
  const chunks = lists.map((texts) => {
    const out: Array<{ texts: readonly string[]; start: number; rngState?: GeneratorState }> = [];
    for (let start = 0; start < texts.length; start += chunkSize) out.push({ texts: texts.slice(start, start + chunkSize), start });
    return out;
  });
  // 1. no-graph pass, remembering the dropout state each sub-batch started from
  const leaves = noGrad(() =>
    chunks.map((pieces) => {
      const parts = pieces.map((piece) => {
        piece.rngState = generator?.getState();
        return embed(piece.texts);
      });
      return concat(parts, 0).detach().requiresGrad_(true);
    }),
  );
  const endState = generator?.getState();
  // 2. the loss and its gradient with respect to the embeddings
  const value = loss(leaves);
  if (value.size !== 1) throw new Error(`gradCacheStep: loss must be a one-element tensor, got shape [${value.shape.join(', ')}]`);
  value.backward();
  // 3. graph pass per sub-batch, seeded with its rows of dLoss/dE
  chunks.forEach((pieces, k) => {
    const gradient = leaves[k].grad;
    if (!gradient) return; // this list does not enter the loss
    for (const piece of pieces) {
      if (generator && piece.rngState) generator.setState(piece.rngState);
      const embedded = embed(piece.texts);
      let seed = narrow(gradient, 0, piece.start, piece.texts.length);
      if (options.gradScale !== undefined && options.gradScale !== 1) seed = noGrad(() => scale(seed, options.gradScale!));
      embedded.backward(seed);
    }
  });
  if (generator && endState) generator.setState(endState);
  return value;
}
