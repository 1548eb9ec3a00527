/**
 * HF checkpoint folders: `config.json` + `model.safetensors` (or sharded
 * `model.safetensors.index.json`). Loading maps HF names onto module paths, converts F16/BF16/F64
 * to float32, tolerates what HF tolerates (tied decoder copies, `position_ids` buffers, old
 * `gamma`/`beta` names, a base-model checkpoint without the `bert.` prefix) and keeps every other
 * tensor (pooler, `c_head.*`, ...) as "unused" for the caller. Saving writes what HF
 * `save_pretrained` writes, atomically.
 */
import { nodeFs, nodePath, writeFileAtomic } from '@retro/common';
import { Tensor, noGrad, formatShape } from '@retro/tensor';
import type { BertConfig } from './config.js';
import { readSafetensors, serializeSafetensors, toFloat32, toInt32, type RawTensor, type SafetensorsDType, type TensorToWrite } from './safetensors.js';

/** A checkpoint tensor converted to float32 (integers are widened exactly up to 2^24). */
export interface LoadedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** The dtype on disk. */
  readonly dtype: SafetensorsDType;
  /** The file holding it. */
  readonly file: string;
}

export interface LoadReport {
  /** The weight files read (one, or every shard). */
  readonly files: string[];
  /** Parameter names loaded. */
  readonly loaded: string[];
  /** Parameters not in the checkpoint (only non-empty with `allowMissing`). */
  readonly missing: string[];
  /** Checkpoint tensors that belong to no parameter, by checkpoint name (e.g. `c_head.*`, `bert.pooler.*`). */
  readonly unused: Map<string, LoadedTensor>;
  /** Tensors skipped because HF never loads them: tied decoder copies and `position_ids` buffers. */
  readonly skipped: string[];
}

export interface LoadOptions {
  /** Leave parameters the checkpoint lacks at their initial values instead of throwing. */
  allowMissing?: boolean;
}

export interface SaveOptions {
  /** More tensors for model.safetensors (e.g. RetroMAE's `c_head.*`); names must not clash. */
  extraTensors?: ReadonlyMap<string, Tensor | { shape: readonly number[]; data: Float32Array }>;
  /** Extra `__metadata__` entries (format "pt" is always written). */
  metadata?: Record<string, string>;
}

/** What the loader needs of a model: its config, body prefix and named parameters. */
export interface CheckpointModel {
  readonly config: BertConfig;
  readonly prefix: string;
  /** True for a bare encoder (HF BertModel): its parameter names carry no `prefix.`. */
  readonly isBaseModel?: boolean;
  namedParameters(): Array<[string, Tensor]>;
}

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * The safetensors files of a folder: `model.safetensors`, or the shards named by
 * `model.safetensors.index.json`. A folder with only `pytorch_model.bin` is refused.
 */
export function checkpointFiles(dir: string): { files: string[]; index?: Map<string, string>; indexFile?: string } {
  const single = nodePath.join(dir, 'model.safetensors');
  if (nodeFs.existsSync(single)) return { files: [single] };
  const indexFile = nodePath.join(dir, 'model.safetensors.index.json');
  if (nodeFs.existsSync(indexFile)) {
    let weightMap: unknown;
    try {
      weightMap = (JSON.parse(nodeFs.readFileSync(indexFile, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (error) {
      throw new Error(`${indexFile}: not valid JSON: ${(error as Error).message}`);
    }
    if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap) || !Object.values(weightMap).every((v) => typeof v === 'string')) {
      throw new Error(`${indexFile}: field 'weight_map' must be an object mapping tensor names to shard file names`);
    }
    const index = new Map(Object.entries(weightMap as Record<string, string>).map(([name, file]) => [name, nodePath.join(dir, file)]));
    return { files: [...new Set(index.values())], index, indexFile };
  }
  for (const legacy of ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack']) {
    if (nodeFs.existsSync(nodePath.join(dir, legacy))) {
      throw new Error(
        `${nodePath.join(dir, legacy)}: only safetensors checkpoints are read; convert it first, e.g. in Python: ` +
          `AutoModelForMaskedLM.from_pretrained('${dir}').save_pretrained('${dir}-safetensors', safe_serialization=True)`,
      );
    }
  }
  throw new Error(`${dir}: no model.safetensors (or model.safetensors.index.json) found`);
}

/** Every tensor of a checkpoint folder, name -> raw tensor + the file it came from. */
export function readCheckpointTensors(dir: string): { files: string[]; tensors: Map<string, RawTensor & { file: string }> } {
  const { files, index, indexFile } = checkpointFiles(dir);
  const tensors = new Map<string, RawTensor & { file: string }>();
  for (const file of files) {
    for (const [name, raw] of readSafetensors(file).tensors) {
      if (index && index.get(name) !== file) {
        throw new Error(`${indexFile}: tensor '${name}' found in ${file}, but weight_map says ${index.get(name) ?? 'nothing'}`);
      }
      tensors.set(name, { ...raw, file });
    }
  }
  if (index) {
    for (const [name, file] of index) {
      if (!tensors.has(name)) throw new Error(`${indexFile}: tensor '${name}' is mapped to ${file}, which does not hold it`);
    }
  }
  return { files, tensors };
}

/** Every tensor of a checkpoint folder as float32 (e.g. to load RetroMAE's `c_head.*` from it). */
export function readCheckpoint(dir: string): Map<string, LoadedTensor> {
  const out = new Map<string, LoadedTensor>();
  for (const [name, raw] of readCheckpointTensors(dir).tensors) out.set(name, convert(name, raw));
  return out;
}

function convert(name: string, raw: RawTensor & { file: string }): LoadedTensor {
  const data = FLOAT_DTYPES.has(raw.dtype) ? checkFinite(toFloat32(raw, raw.file, name), raw.file, name) : Float32Array.from(toInt32(raw, raw.file, name));
  return { shape: raw.shape, data, dtype: raw.dtype, file: raw.file };
}

/**
 * Weights with NaN or Inf give NaN vectors downstream, silently; refuse them where they are read,
 * naming the file, the tensor and how many values are bad.
 */
function checkFinite(data: Float32Array, file: string, name: string): Float32Array {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new Error(`${file}: tensor '${name}' holds ${bad} non-finite value${bad > 1 ? 's' : ''} (first: ${data[first]} at flat index ${first}); the checkpoint is corrupt or its training diverged`);
  }
  return data;
}

/** HF `_fix_key`: old TF-ported checkpoints name LayerNorm parameters gamma/beta. */
function modernName(name: string): string {
  return name.replace(/(LayerNorm|layer_norm)\.gamma$/, '$1.weight').replace(/(LayerNorm|layer_norm)\.beta$/, '$1.bias');
}

/**
 * Copies the checkpoint in `dir` into `model`'s parameters. Throws, naming the file, the tensor
 * and expected vs found, on a missing parameter (unless `allowMissing`), a shape mismatch or a
 * non-float dtype.
 */
export function loadPretrained(model: CheckpointModel, dir: string, options: LoadOptions = {}): LoadReport {
  const { files, tensors } = readCheckpointTensors(dir);
  return loadPretrainedTensors(model, tensors, { files, where: files.length === 1 ? files[0] : `${dir} (${files.length} shards)`, ...options });
}

/**
 * `loadPretrained` for tensors already in memory (a parsed safetensors image from a browser
 * File, a fetch, a test): same name mapping, checks and report. `files` labels the report,
 * `where` the errors; each tensor's `file` names it in per-tensor errors.
 */
export function loadPretrainedTensors(
  model: CheckpointModel,
  rawByName: ReadonlyMap<string, RawTensor & { file: string }>,
  options: LoadOptions & { files: string[]; where: string },
): LoadReport {
  const { files, where } = options;
  const prefix = model.prefix;
  const tied = model.config.tieWordEmbeddings;
  const decoderNames = prefix === 'bert' ? ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'] : ['lm_head.decoder.weight', 'lm_head.decoder.bias'];
  const biasName = prefix === 'bert' ? 'cls.predictions.bias' : 'lm_head.bias';

  // A checkpoint of the bare encoder (HF BertModel) has no prefix; HF adds it when loading.
  const hasPrefix = [...rawByName.keys()].some((name) => name.startsWith(`${prefix}.`));
  const bodyRoots = ['embeddings.', 'encoder.', 'pooler.'];
  const byModelName = new Map<string, { checkpointName: string; raw: RawTensor & { file: string } }>();
  for (const [name, raw] of rawByName) {
    let modelName = modernName(name);
    if (!hasPrefix && bodyRoots.some((root) => modelName.startsWith(root))) modelName = `${prefix}.${modelName}`;
    byModelName.set(modelName, { checkpointName: name, raw });
  }
  // Some checkpoints store only the decoder's copy of the tied bias.
  if (!byModelName.has(biasName) && byModelName.has(decoderNames[1])) byModelName.set(biasName, byModelName.get(decoderNames[1])!);

  const parameters = model.namedParameters();
  const loaded: string[] = [];
  const missing: string[] = [];
  const used = new Set<string>();
  // A bare encoder's parameters are the body's names without the prefix.
  const checkpointKey = (name: string) => (model.isBaseModel ? `${prefix}.${name}` : name);
  noGrad(() => {
    for (const [name, parameter] of parameters) {
      const entry = byModelName.get(checkpointKey(name));
      if (!entry) {
        missing.push(name);
        continue;
      }
      const { raw, checkpointName } = entry;
      const label = checkpointName === name ? `tensor '${name}'` : `tensor '${checkpointName}' (loaded as '${name}')`;
      if (!FLOAT_DTYPES.has(raw.dtype)) {
        throw new Error(`${raw.file}: ${label} has dtype ${raw.dtype}, expected a float dtype (F32, F16, BF16 or F64)`);
      }
      if (raw.shape.length !== parameter.shape.length || raw.shape.some((d, i) => d !== parameter.shape[i])) {
        throw new Error(
          `${raw.file}: ${label} has shape ${formatShape(raw.shape)}, expected ${formatShape(parameter.shape)} ` +
            `(from config.json: ${describeConfig(model.config)})`,
        );
      }
      parameter.assign(checkFinite(toFloat32(raw, raw.file, checkpointName), raw.file, checkpointName), { disposePrevious: true });
      loaded.push(name);
      used.add(checkpointName);
    }
  });
  if (missing.length > 0 && !options.allowMissing) {
    const list = missing.slice(0, 8).map((name) => `'${name}' ${formatShape(parameters.find(([n]) => n === name)![1].shape)}`);
    throw new Error(
      `${where}: missing tensor${missing.length > 1 ? 's' : ''} ${list.join(', ')}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''} ` +
        `(expected by ${modelClassName(model)} for config.json: ${describeConfig(model.config)}; the file holds ${rawByName.size} tensors)`,
    );
  }
  const skipped: string[] = [];
  const unused = new Map<string, LoadedTensor>();
  for (const [name, raw] of rawByName) {
    if (used.has(name)) continue;
    const modern = modernName(name);
    const isTiedCopy = tied && decoderNames.includes(modern);
    const isBuffer = /(^|\.)embeddings\.(position_ids|token_type_ids)$/.test(modern);
    if (isTiedCopy || isBuffer) skipped.push(name);
    else unused.set(name, convert(name, raw));
  }
  // Encoder tensors no parameter took mean config.json describes a smaller model than the file
  // (fewer layers, say): loading would silently drop them.
  const bodyName = (name: string) => {
    const modern = modernName(name);
    return hasPrefix ? modern : bodyRoots.some((root) => modern.startsWith(root)) ? `${prefix}.${modern}` : modern;
  };
  const dropped = [...unused.keys()].filter((name) => /^(embeddings|encoder)\./.test(bodyName(name).slice(prefix.length + 1)) && bodyName(name).startsWith(`${prefix}.`));
  if (dropped.length > 0) {
    const layers = [...new Set(dropped.map((name) => /\.encoder\.layer\.(\d+)\./.exec(bodyName(name))?.[1]).filter((x) => x !== undefined))].map(Number).sort((a, b) => a - b);
    const why = layers.length > 0
      ? `config.json says num_hidden_layers=${model.config.numHiddenLayers} but the checkpoint also holds layer${layers.length > 1 ? 's' : ''} ${layers.join(', ')}`
      : 'config.json describes a model without them';
    throw new Error(
      `${where}: ${dropped.length} encoder tensor${dropped.length > 1 ? 's' : ''} would be dropped: ${dropped.slice(0, 6).map((n) => `'${n}'`).join(', ')}${dropped.length > 6 ? ` and ${dropped.length - 6} more` : ''}; ` +
        `${why} (config.json: ${describeConfig(model.config)}). Fix config.json to match the weights.`,
    );
  }
  return { files, loaded, missing, unused, skipped };
}

function modelClassName(model: CheckpointModel): string {
  const roberta = model.prefix === 'roberta';
  if (model.isBaseModel) return roberta ? 'RobertaModel' : 'BertModel';
  return roberta ? 'RobertaForMaskedLM' : 'BertForMaskedLM';
}

function describeConfig(config: BertConfig): string {
  return (
    `vocab_size=${config.vocabSize}, hidden_size=${config.hiddenSize}, intermediate_size=${config.intermediateSize}, ` +
    `max_position_embeddings=${config.maxPositionEmbeddings}, type_vocab_size=${config.typeVocabSize}, num_hidden_layers=${config.numHiddenLayers}`
  );
}

/**
 * Writes `<dir>/config.json` and `<dir>/model.safetensors` (every parameter under its HF name,
 * tied decoder weight omitted because it is not a separate parameter, plus `extraTensors`).
 */
export function savePretrained(model: CheckpointModel, dir: string, options: SaveOptions = {}): void {
  nodeFs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(nodePath.join(dir, 'model.safetensors'), serializePretrained(model, options, dir));
  model.config.save(dir);
}

/**
 * The bytes `savePretrained` writes to model.safetensors (for callers without a file system,
 * e.g. a browser download). `label` names the destination in errors.
 */
export function serializePretrained(model: CheckpointModel, options: SaveOptions = {}, label = '<memory>'): Uint8Array {
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, parameter] of model.namedParameters()) tensors.set(name, { shape: [...parameter.shape], data: parameter.toFloat32Array() });
  for (const [name, value] of options.extraTensors ?? []) {
    if (tensors.has(name)) throw new Error(`savePretrained ${label}: extra tensor '${name}' clashes with a model parameter of the same name`);
    const data = value instanceof Tensor ? value.toFloat32Array() : value.data;
    tensors.set(name, { shape: [...value.shape], data });
  }
  return serializeSafetensors(tensors, { ...options.metadata, format: 'pt' });
}
