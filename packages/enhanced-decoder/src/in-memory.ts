/**
 * RetroMAE checkpoints held in memory (a browser's dropped files, a zip, a fetch): the
 * `fromPretrained(dir)` / `savePretrained(dir)` pair without a file system.
 */
import { maskedLMFromMemory, pretrainedToMemory, type InMemoryCheckpoint } from '@retro/bert';
import { RetroMAEForPretraining, type RetroMAEOptions } from './model.js';

/** `RetroMAEForPretraining.fromPretrained` for config.json + model.safetensors in memory (c_head.* loaded when present), in eval mode. */
export function retroMAEFromMemory(checkpoint: InMemoryCheckpoint, options: RetroMAEOptions = {}): RetroMAEForPretraining {
  const encoder = maskedLMFromMemory(checkpoint, { seed: options.seed });
  const model = new RetroMAEForPretraining(encoder, options);
  model.loadDecoder(encoder.unusedTensors(), checkpoint.source ?? '<memory>');
  return model.eval();
}

/** The files `model.savePretrained(dir)` writes: config.json text, model.safetensors bytes (encoder + c_head.*). */
export function retroMAEToMemory(model: RetroMAEForPretraining): { 'config.json': string; 'model.safetensors': Uint8Array } {
  return pretrainedToMemory(model.encoder, { extraTensors: new Map(model.c_head.namedParameters('c_head.')) });
}
