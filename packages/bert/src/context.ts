import type { Generator } from '@retro/tensor';
import type { BertConfig } from './config.js';

/** What every submodule needs at construction: the config and the model's generators. */
export interface BuildContext {
  readonly config: BertConfig;
  /** Draws parameter initialisations (HF `_init_weights`: N(0, initializer_range)). */
  readonly initGenerator: Generator;
  /** The model-owned generator every dropout draws from; a getter so it can be replaced. */
  readonly dropoutGenerator: () => Generator;
}
