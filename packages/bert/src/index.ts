export { BertConfig, RobertaConfig, loadConfig, configFromJson, type BertConfigInit, type ModelType, type HiddenAct } from './config.js';
export {
  BertModel,
  RobertaModel,
  BertPooler,
  BertForMaskedLM,
  RobertaForMaskedLM,
  MaskedLMModel,
} from './model.js';
export type { ModelOptions, BaseModelOptions, ForwardInput, EncoderOutput, MaskedLMOutput } from './types.js';
export { AutoModel, AutoModelForMaskedLM } from './auto.js';
export { BertEmbeddings, type EmbeddingsInput } from './embeddings.js';
export { BertSelfAttention, BertAttention, BertResidualOutput } from './attention.js';
export { BertEncoder, BertLayer, BertIntermediate, ModuleList, activation } from './encoder.js';
export { BertLMPredictionHead, BertOnlyMLMHead, BertPredictionHeadTransform, RobertaLMHead, type MaskedLMHead } from './heads.js';
export type { BuildContext } from './context.js';
export {
  extendedAttentionMask,
  robertaPositionIds,
  sequentialPositionIds,
  toIdsTensor,
  type IdsInput,
  type MaskInput,
} from './inputs.js';
export {
  checkpointFiles,
  readCheckpoint,
  readCheckpointTensors,
  loadPretrained,
  savePretrained,
  loadPretrainedTensors,
  serializePretrained,
  type LoadedTensor,
  type LoadOptions,
  type LoadReport,
  type SaveOptions,
  type CheckpointModel,
} from './checkpoint.js';
export { maskedLMLoss } from './mlm-loss.js';
export { encode, type EncodeInput, type EncodeOptions, type TokenizerLike, type EncodedItem, type EncodableModel } from './encode.js';
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  writeSafetensors,
  toFloat32,
  toInt32,
  DTYPE_BYTES,
  MAX_HEADER_BYTES,
  type RawTensor,
  type SafetensorsDType,
  type SafetensorsFile,
  type TensorToWrite,
} from './safetensors.js';
export { encoderFromMemory, maskedLMFromMemory, pretrainedToMemory, type InMemoryCheckpoint } from './in-memory.js';
