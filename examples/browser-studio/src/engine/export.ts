/**
 * The checkpoint download: an HF folder (config.json, model.safetensors with c_head.*, the
 * tokenizer files, metrics.jsonl) zipped, loadable by `RetroMAEForPretraining.fromPretrained`,
 * `AutoModelForMaskedLM.fromPretrained` (retro) or transformers after unzipping.
 */
import { strToU8, zipSync } from 'fflate';
import { retroMAEToMemory, type RetroMAEForPretraining } from '@retro/enhanced-decoder';
import type { StepReport } from '../protocol.js';

export function checkpointZip(model: RetroMAEForPretraining, tokenizerFiles: Record<string, string>, history: readonly StepReport[], folder: string): Uint8Array {
  const files = retroMAEToMemory(model);
  const entries: Record<string, Uint8Array> = {
    [`${folder}/config.json`]: strToU8(files['config.json']),
    // Already dense float32: storing is as small as deflating and much faster.
    [`${folder}/model.safetensors`]: files['model.safetensors'],
  };
  for (const [name, text] of Object.entries(tokenizerFiles)) entries[`${folder}/${name}`] = strToU8(text);
  if (history.length > 0) entries[`${folder}/metrics.jsonl`] = strToU8(history.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return zipSync(entries, { level: 0 });
}
