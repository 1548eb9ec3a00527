/** A model folder on disk -> ModelFolder (Node only). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MODEL_FILE_NAMES, readModelFiles, type ModelFolder } from './files.js';

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
