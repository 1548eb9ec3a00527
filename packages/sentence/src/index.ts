/**
 * @retro/sentence for Node: `SentenceEncoder.fromPretrained(dir)` runs the model in a worker
 * thread. Bundlers targeting browsers pick `browser.ts` (package.json "browser" condition).
 */
import './node.js';

export { SentenceEncoder, type SentenceEncodeOptions, type PretrainedOptions } from './sentence-encoder.js';
export { EncoderCore, folderPooling, type EncoderInfo, type Pooling, type BatchSettings } from './core.js';
export { readModelFiles, MODEL_FILE_NAMES, type ModelFiles, type ModelFolder, type FileContents } from './files.js';
export { readModelFolder, readFolderPooling } from './node-folder.js';
