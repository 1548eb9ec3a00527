/**
 * The shapes a model's callers pass and get back: forward's input and outputs, build options.
 * Kept apart from model.ts so encode.ts can name them without importing the model.
 */
import type { Tensor } from '@retro/tensor';
import type { IdsInput, MaskInput } from './inputs.js';

export interface ModelOptions {
  /** Seed of the generator drawing the initial parameters (default 0). */
  seed?: number;
  /** Seed of the model-owned dropout generator (default deriveSeed(seed, 'dropout')). */
  dropoutSeed?: number;
}

export interface ForwardInput {
  /** int32 [B, L] token ids (nested arrays or a tensor). */
  inputIds: IdsInput;
  /** [B, L] 1 = real token, 0 = padding (or [B, L, L] per query row); default all ones. */
  attentionMask?: MaskInput;
  /** int32 [B, L]; default zeros. */
  tokenTypeIds?: IdsInput;
  /** int32 [B, L]; default BERT 0..L-1, RoBERTa HF's padding-aware ids. */
  positionIds?: IdsInput;
  /** int32 [B, L]; -100 = not scored. Gives `loss` (mean CE over scored positions). */
  labels?: IdsInput;
  /** Also return every layer's output. */
  outputHiddenStates?: boolean;
}

export interface EncoderOutput {
  /** [B, L, H] output of the last layer. */
  lastHiddenState: Tensor;
  /** [B, H] HF pooler output tanh(dense(h_CLS)), from a standalone BertModel with a pooler. */
  poolerOutput?: Tensor;
  /** n + 1 tensors [B, L, H]: the embeddings output, then each layer's (when asked for). */
  hiddenStates?: Tensor[];
}

export interface MaskedLMOutput extends EncoderOutput {
  /** [B, L, V]. */
  logits: Tensor;
  /** [] mean cross-entropy over labelled positions (when labels were given). */
  loss?: Tensor;
}

/** Options of a standalone encoder (HF BertModel / RobertaModel). */
export interface BaseModelOptions extends ModelOptions {
  /** Build HF's pooler (tanh(dense(h_CLS))). Default true as in HF; fromPretrained follows the checkpoint. */
  addPoolingLayer?: boolean;
}
