/**
 * The masked-LM loss, once for every model that has one (BertForMaskedLM / RobertaForMaskedLM, and
 * RetroMAE's encoder and decoder losses): mean cross-entropy of the MLM head over the labelled
 * positions only. Unlabelled positions (-100, PyTorch's ignore_index) never affect the loss, so their
 * logits are not computed for it: the head runs on the gathered labelled rows.
 */
import { Tensor, crossEntropy, embedding, fromHostArray, narrow } from '@retro/tensor';
import type { MaskedLMHead } from './heads.js';

/** Label of a position that carries no MLM target (@retro/data's IGNORE_INDEX). */
const IGNORE_INDEX = -100;

/** The labelled positions of `labels` (any shape, flattened): their row indices and targets. */
function labelledRows(labels: Tensor): { rows: Tensor; targets: Tensor; count: number } {
  const values = labels.dataSync();
  const indices: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== IGNORE_INDEX) indices.push(i);
  const targets = Int32Array.from(indices, (i) => values[i]);
  return { rows: fromHostArray(Int32Array.from(indices), [indices.length]), targets: fromHostArray(targets, [indices.length]), count: indices.length };
}

/**
 * Mean cross-entropy of `head` over the labelled rows.
 * @param head the (tied) MLM head, [M, H] -> [M, V].
 * @param hidden [N, H] hidden states, one row per position (a [B, L, H] output reshaped to [B * L, H]).
 * @param labels int32 with N entries ([N] or [B, L]); -100 = not scored.
 * @returns [] the loss; with no labelled row, CrossEntropy's defined 0, still connected to the graph.
 */
export function maskedLMLoss(head: MaskedLMHead, hidden: Tensor, labels: Tensor): Tensor {
  if (hidden.rank !== 2 || hidden.shape[0] !== labels.size) {
    throw new Error(`maskedLMLoss: hidden must be [N, H] with N = labels' ${labels.size} entries, got [${hidden.shape.join(', ')}]`);
  }
  const { rows, targets, count } = labelledRows(labels);
  if (count === 0) return crossEntropy(head.forward(narrow(hidden, 0, 0, 1)), fromHostArray(new Int32Array([IGNORE_INDEX]), [1]));
  return crossEntropy(head.forward(embedding(hidden, rows)), targets);
}
