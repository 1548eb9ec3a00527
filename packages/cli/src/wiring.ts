/**
 * The one place where the CLI meets the model and data packages. Each entry receives parsed,
 * validated options; the argument layer never changes when an entry gets wired.
 *
 * TODO(lead): replace each `notYet` with the real call once the package exports it:
 * - prepare:  `prepare()` from @retro/data (corpus -> tokenized shards + manifest).
 * - pretrain: TrainerRng(seed) -> RetroMAEForPretraining (or BertForMaskedLM with --mlm-only,
 *   init from rng.init, dropout from rng.dropout) + shard loader/collator from @retro/data (rng.data,
 *   rng.masks) -> `train({ ...settings, model, batches, rng, tokenCount })` from @retro/train.
 * - embed:    load the encoder from a checkpoint (@retro/bert) + tokenizer, pool, normalise -> [N, H].
 * - evaluate: `evaluate()` from @retro/eval on the cmteb-lite layout.
 */
import { NotYetAvailableError } from './errors.js';
import type { EmbedOptions } from './commands/embed.js';
import type { EvalOptions } from './commands/eval.js';
import type { PrepareOptions } from './commands/prepare.js';
import type { PretrainOptions, trainSettings } from './commands/pretrain.js';

export interface Wiring {
  prepare(options: PrepareOptions): Promise<unknown>;
  pretrain(options: PretrainOptions, settings: ReturnType<typeof trainSettings>): Promise<unknown>;
  /** Vectors [texts.length, dim] in input order. */
  embed(texts: readonly string[], options: EmbedOptions): Promise<{ vectors: Float32Array; dim: number }>;
  /** Results per task: task -> metric -> value. */
  evaluate(options: EvalOptions): Promise<Record<string, Record<string, number>>>;
}

const notYet = (what: string) => async (): Promise<never> => {
  throw new NotYetAvailableError(what);
};

export const defaultWiring: Wiring = {
  prepare: notYet('prepare() from @retro/data (corpus -> tokenized shards)'),
  pretrain: notYet('pretraining: RetroMAEForPretraining from @retro/enhanced-decoder + the shard loader from @retro/data'),
  embed: notYet('embedding: loading a pretrained encoder from @retro/bert'),
  evaluate: notYet('evaluate() from @retro/eval'),
};
