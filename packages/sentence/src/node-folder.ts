/** A model folder on disk -> ModelFolder (Node only). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { folderPooling, type Pooling } from './core.js';
import { MODEL_FILE_NAMES, POOLING_FILES, readModelFiles, type ModelFolder } from './files.js';

export async function readModelFolder(dir: string): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`SentenceEncoder.fromPretrained: ${root} is not a folder`);
  const files: Record<string, Uint8Array> = {};
  for (const name of [...MODEL_FILE_NAMES, 'model.safetensors.index.json']) {
    const path = join(root, name);
    if (existsSync(path)) files[name] = readFileSync(path);
  }
  return readModelFiles(files, root);
}

/**
 * The pooling a model folder on disk was made for (folderPooling: 1_Pooling/config.json,
 * best.json, trainer_state.json, else CLS), without loading the model.
 */
export function readFolderPooling(dir: string): { pooling: Pooling; from: string; normalize: boolean } {
  const extras: Record<string, string> = {};
  for (const name of POOLING_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) extras[name] = readFileSync(path, 'utf8');
  }
  return folderPooling({ source: dir, extras });
}
