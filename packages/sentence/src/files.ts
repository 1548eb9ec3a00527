/**
 * A model folder held in memory: file name -> bytes, text or a browser File/Blob. What
 * `SentenceEncoder.fromFiles` reads; nothing here touches a file system.
 */

export type FileContents = Uint8Array | ArrayBuffer | string | Blob;

/**
 * Relative path -> contents (`{ 'config.json': ..., 'model.safetensors': ..., 'vocab.txt': ...,
 * '1_Pooling/config.json': ... }`), the same as a Map, or browser File objects (a folder picked
 * with `<input webkitdirectory>`: paths come from webkitRelativePath without the folder's own name).
 */
export type ModelFiles = Readonly<Record<string, FileContents>> | ReadonlyMap<string, FileContents> | Iterable<Blob & { name: string; webkitRelativePath?: string }>;

/** The files a sentence encoder needs, normalized: bytes for the weights, text for the rest. */
export interface ModelFolder {
  /** Names the folder in errors. */
  source: string;
  config: string;
  weights: Uint8Array;
  /** Tokenizer files present (tokenizer.json, vocab.txt, vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json). */
  tokenizer: Record<string, string>;
  /** Other JSON files that say how to pool: 1_Pooling/config.json, modules.json, best.json, trainer_state.json. */
  extras: Record<string, string>;
}

export const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;
export const POOLING_FILES = ['1_Pooling/config.json', 'modules.json', 'best.json', 'trainer_state.json'] as const;

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function entriesOf(files: ModelFiles): Array<[string, FileContents]> {
  if (files instanceof Map) return [...files.entries()];
  if (typeof (files as Iterable<unknown>)[Symbol.iterator] === 'function' && !(typeof files === 'string')) {
    const list = [...(files as Iterable<Blob & { name: string; webkitRelativePath?: string }>)];
    return list.map((file) => {
      // 'my-model/1_Pooling/config.json' -> '1_Pooling/config.json'
      const relative = file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1).join('/') : file.name;
      return [relative || file.name, file];
    });
  }
  return Object.entries(files as Record<string, FileContents>);
}

async function bytesOf(value: FileContents): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (isBlob(value)) return new Uint8Array(await value.arrayBuffer());
  throw new Error(`expected bytes, text or a File, found ${value === null ? 'null' : typeof value}`);
}

async function textOf(value: FileContents): Promise<string> {
  if (typeof value === 'string') return value;
  return new TextDecoder('utf-8').decode(await bytesOf(value));
}

/**
 * Normalizes in-memory files into a ModelFolder; a missing config.json, model.safetensors or
 * tokenizer is an error naming the folder, what it holds and what is needed.
 */
export async function readModelFiles(files: ModelFiles, source = '<memory>'): Promise<ModelFolder> {
  const byName = new Map(entriesOf(files).map(([name, value]) => [name.replace(/^\.\//, ''), value]));
  const held = [...byName.keys()].sort().join(', ') || 'nothing';
  const need = (name: string): FileContents => {
    const value = byName.get(name);
    if (value === undefined) throw new Error(`${source}: no ${name} (the folder holds ${held})`);
    return value;
  };
  const config = await textOf(need('config.json'));
  if (!byName.has('model.safetensors') && byName.has('model.safetensors.index.json')) {
    throw new Error(`${source}: sharded weights (model.safetensors.index.json) are read from a folder on disk only; in memory give one model.safetensors`);
  }
  const weights = await bytesOf(need('model.safetensors'));
  const tokenizer: Record<string, string> = {};
  for (const name of TOKENIZER_FILES) if (byName.has(name)) tokenizer[name] = await textOf(byName.get(name)!);
  if (!('tokenizer.json' in tokenizer) && !('vocab.txt' in tokenizer) && !('vocab.json' in tokenizer && 'merges.txt' in tokenizer)) {
    throw new Error(`${source}: no tokenizer: expected tokenizer.json, vocab.txt, or vocab.json + merges.txt (the folder holds ${held})`);
  }
  const extras: Record<string, string> = {};
  for (const name of POOLING_FILES) if (byName.has(name)) extras[name] = await textOf(byName.get(name)!);
  return { source, config, weights, tokenizer, extras };
}

/** The names `fromPretrained` looks for in a folder or under a URL. */
export const MODEL_FILE_NAMES: readonly string[] = ['config.json', 'model.safetensors', ...TOKENIZER_FILES, ...POOLING_FILES];
