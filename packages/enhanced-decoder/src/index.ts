export { RetroMAEForPretraining, type RetroMAEBatch, type RetroMAEOutput, type RetroMAEOptions, type ForwardOptions } from './model.js';
export { EnhancedDecoderLayer, type EnhancedDecoderConfig } from './c-head.js';
export { queryStreamH1, keyValueStreamH2 } from './streams.js';
export { sampleDecoderMask, sampleWholeWordSet, type DecoderMaskOptions } from './mask-m.js';
export { collateRetroMAE, collateMLM, type CollatedRetroMAEBatch, type MaskedDataBatch, type DecoderCollatorOptions } from './collator.js';
export { RetroMAEBatches, RetroMAEObjective, type MaskedBatchStream, type RetroMAEBatchesOptions, type RetroMAELosses } from './objective.js';
export { retroMAEFromMemory, retroMAEToMemory } from './in-memory.js';
