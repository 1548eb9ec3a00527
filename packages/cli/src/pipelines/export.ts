import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import { AutoModel, AutoModelForMaskedLM, writeSafetensors, type TensorToWrite } from '@retro/bert';
import { readFolderPooling } from '@retro/sentence';
import { AutoTokenizer } from '@retro/data';
import type { ExportOptions } from '../commands/export.js';

/** float32 -> IEEE half bits, round to nearest even (overflow -> Inf, tiny -> subnormal/0). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  void e;
  return sign | half;
}

/** float32 -> bfloat16 bits (the top 16 bits), round to nearest even; NaN stays NaN. */
export function float32ToBfloat16Bits(value: number): number {
  const x = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function toHalfBytes(data: Float32Array, convert: (v: number) => number): Uint8Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = convert(data[i]!);
  return new Uint8Array(out.buffer);
}

/**
 * The pooling a checkpoint was trained with (readFolderPooling: a fine-tune records it in
 * trainer_state.json and best/best.json; an exported folder in 1_Pooling/config.json; RetroMAE is
 * CLS), and its trainer state for the model card.
 */
function trainedPooling(dir: string): { pooling: 'cls' | 'mean'; state: Record<string, unknown> | null } {
  const file = join(dir, 'trainer_state.json');
  const state = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
  return { pooling: readFolderPooling(dir).pooling, state };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** `retro export`: see the command's description. Returns the files written. */
export async function runExport(options: ExportOptions): Promise<string[]> {
  const dir = options.model;
  const out = options.output;
  const model = options.withMlmHead ? AutoModelForMaskedLM.fromPretrained(dir) : AutoModel.fromPretrained(dir);
  const config = model.config;
  const isRoberta = config.modelType === 'roberta';
  const architecture = options.withMlmHead ? (isRoberta ? 'RobertaForMaskedLM' : 'BertForMaskedLM') : isRoberta ? 'RobertaModel' : 'BertModel';
  const dtype = { f32: 'F32', f16: 'F16', bf16: 'BF16' }[options.dtype] as 'F32' | 'F16' | 'BF16';
  mkdirSync(out, { recursive: true });

  // Weights: parameters only (c_head.* and other unused tensors of the checkpoint stay behind).
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, parameter] of model.namedParameters()) {
    const data = parameter.toFloat32Array();
    const shape = [...parameter.shape];
    if (dtype === 'F32') tensors.set(name, { shape, data });
    else tensors.set(name, { dtype, shape, bytes: toHalfBytes(data, dtype === 'F16' ? float32ToFloat16Bits : float32ToBfloat16Bits) });
  }
  writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
  const configJson = { ...config.toJson(), architectures: [architecture], torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype] };
  writeFileAtomic(join(out, 'config.json'), json(Object.fromEntries(Object.entries(configJson).sort(([a], [b]) => (a < b ? -1 : 1)))));

  // Tokenizer: model_max_length = what the position table holds (RoBERTa's starts at pad + 1).
  const maxLength = config.maxSequenceLength;
  const tokenizer = await AutoTokenizer.fromPretrained(dir);
  tokenizer.modelMaxLength = maxLength;
  await tokenizer.save(out);

  // sentence-transformers layout.
  const { pooling: trained, state } = trainedPooling(dir);
  const pooling = options.pooling ?? trained;
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ...(options.normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
  ];
  writeFileAtomic(join(out, 'modules.json'), json(modules));
  writeFileAtomic(join(out, 'sentence_bert_config.json'), json({ max_seq_length: maxLength, do_lower_case: false }));
  mkdirSync(join(out, '1_Pooling'), { recursive: true });
  writeFileAtomic(
    join(out, '1_Pooling', 'config.json'),
    json({
      word_embedding_dimension: config.hiddenSize,
      pooling_mode_cls_token: pooling === 'cls',
      pooling_mode_mean_tokens: pooling === 'mean',
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: false,
      include_prompt: true,
    }),
  );
  if (options.normalize) mkdirSync(join(out, '2_Normalize'), { recursive: true });
  writeFileAtomic(join(out, 'README.md'), modelCard({ source: resolve(dir), architecture, dtype, pooling, normalize: options.normalize, maxLength, config: configJson, state }));
  return ['config.json', 'model.safetensors', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'README.md'].map((f) => join(out, f));
}

function modelCard(facts: {
  source: string;
  architecture: string;
  dtype: string;
  pooling: string;
  normalize: boolean;
  maxLength: number;
  config: Record<string, unknown>;
  state: Record<string, unknown> | null;
}): string {
  const c = facts.config;
  const run = (facts.state?.config ?? {}) as Record<string, unknown>;
  const step = facts.state?.step;
  const objective = run.mlmOnly === true ? 'masked-LM pretraining (MLM only)' : run.encoderMaskRatio !== undefined ? 'RetroMAE pretraining (encoder MLM + enhanced decoder)' : run.pooling !== undefined || run.loss !== undefined ? 'contrastive fine-tuning' : 'unknown (no trainer_state.json in the source folder)';
  const trainingRows = Object.entries(run)
    .filter(([, v]) => ['number', 'string', 'boolean'].includes(typeof v))
    .map(([k, v]) => `| ${k} | ${String(v)} |`);
  return [
    '---',
    'library_name: sentence-transformers',
    'pipeline_tag: sentence-similarity',
    'tags: [sentence-transformers, feature-extraction, retromae, retro]',
    '---',
    `# ${basename(facts.source)}`,
    '',
    `A ${c.model_type === 'roberta' ? 'RoBERTa' : 'BERT'} sentence encoder exported by \`retro export\` from \`${facts.source}\`.`,
    '',
    `- Architecture: ${facts.architecture}, ${c.num_hidden_layers} layers, hidden size ${c.hidden_size}, ${c.num_attention_heads} heads, vocabulary ${c.vocab_size}`,
    `- Sentence vector: ${facts.pooling === 'cls' ? 'the [CLS] hidden state' : 'the mean over real tokens'}${facts.normalize ? ', L2-normalised' : ''}; at most ${facts.maxLength} tokens`,
    `- Weights: ${facts.dtype}`,
    `- Training: ${objective}${step !== undefined ? `, ${step} steps` : ''}`,
    '',
    '## Use',
    '',
    '```python',
    'from sentence_transformers import SentenceTransformer',
    "model = SentenceTransformer('path/to/this/folder')",
    "vectors = model.encode(['一段文本', '另一段文本'])",
    '```',
    '',
    '```bash',
    'retro embed --model path/to/this/folder --input texts.txt --output vectors.npy',
    '```',
    ...(trainingRows.length ? ['', '## Training settings (from trainer_state.json)', '', '| setting | value |', '|---|---|', ...trainingRows] : []),
    '',
  ].join('\n');
}
