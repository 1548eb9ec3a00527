/**
 * Messages between the page (main.ts) and the engine worker (worker.ts). The worker holds the
 * model, tokenizer, corpus and training state, so a hidden tab (whose main thread browsers
 * throttle) loses nothing: training keeps running and the page catches up from the next message.
 */

/** A file the user gave, read in the page (the worker never sees File handles). */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

export type BackendRequest = 'auto' | 'cpu' | 'webgpu' | 'webgl2';

export interface TrainSettings {
  steps: number;
  batchSize: number;
  /** Peak learning rate (linear warmup then linear decay). */
  lr: number;
  warmupSteps: number;
  encoderMaskRatio: number;
  decoderMaskRatio: number;
  seed: number;
}

/** Contrastive fine-tuning of the encoder (InfoNCE on triples, CoSENT on scored pairs). */
export interface FinetuneSettings {
  steps: number;
  batchSize: number;
  /** Peak learning rate (linear warmup over the first tenth, then linear decay). */
  lr: number;
  /** InfoNCE temperature (bge: 0.02; SimCSE: 0.05). */
  temperature: number;
  /** The sentence embedding trained (and then used by search). */
  pooling: 'cls' | 'mean';
  seed: number;
}

export interface FreshModelSettings {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxLength: number;
  seed: number;
}

export type ToWorker =
  | { type: 'backend'; request: BackendRequest }
  | { type: 'load-model'; files: InputFile[] }
  | { type: 'fresh-model'; settings: FreshModelSettings }
  | { type: 'corpus'; files: InputFile[]; maxLength: number }
  | { type: 'train'; settings: TrainSettings }
  /** Pair files for fine-tuning: JSONL of {query, pos, neg} or {sentence1, sentence2, score}. */
  | { type: 'pairs'; files: InputFile[] }
  | { type: 'finetune'; settings: FinetuneSettings }
  /** The page is hidden (no frames to draw): the worker keeps training but skips the plots until visible. */
  | { type: 'visibility'; hidden: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'export' }
  /** pooling: 'cls' (RetroMAE's sentence embedding) or 'mean' over tokens. */
  | { type: 'index'; documents: string[]; pooling: 'cls' | 'mean' }
  | { type: 'search'; query: string; k: number }
  /** Automation and inspection: MLM logits [B, L, V] of the encoder for padded-free id rows. */
  | { type: 'logits'; ids: number[][]; requestId: number }
  /** Automation: the cpu GEMM's thread count and parallel threshold (see @retro/tensor setGemmOptions). */
  | { type: 'gemm'; threads: number; parallelMinMacs?: number; requestId: number };

export interface BackendAttempt {
  name: string;
  ok: boolean;
  /** Why it was not used (or details of the one used). */
  detail: string;
}

export interface ModelSummary {
  source: string;
  modelType: string;
  parameters: number;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  hasDecoder: boolean;
  tokenizer: string;
}

/** Which run a step or state belongs to: RetroMAE pretraining or contrastive fine-tuning. */
export type Phase = 'pretrain' | 'finetune';

export interface StepReport {
  phase: Phase;
  /** Step over all runs on this model (the plot's x). */
  step: number;
  /** Step within the current run (elapsedSeconds covers these). */
  runStep: number;
  totalSteps: number;
  loss: number;
  encoderLoss: number;
  decoderLoss: number;
  lr: number;
  gradNorm: number;
  /** Tokens per second over this step. */
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export type TrainState = 'idle' | 'running' | 'paused' | 'done' | 'failed';

export interface SearchHit {
  index: number;
  text: string;
  score: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'backend'; active: string; attempts: BackendAttempt[]; isolated: boolean; threads: number }
  | { type: 'model'; summary: ModelSummary; notes: string[] }
  | { type: 'corpus-progress'; documentsDone: number; documentsTotal: number; chunks: number; tokens: number }
  | { type: 'corpus'; files: Array<{ name: string; format: string; documents: number; issues: string[] }>; documents: number; chunks: number; tokens: number }
  | { type: 'pairs'; kind: 'triples' | 'pairs'; loss: string; records: number; files: Array<{ name: string; records: number }> }
  /** `plot`: the phase's loss plot as SVG, sent at most a few times a second and with the last step. */
  | { type: 'step'; report: StepReport; plot?: string }
  | { type: 'train-state'; phase: Phase; state: TrainState; message?: string; plot?: string }
  /** A phase's plot redrawn on request (the page became visible), over `steps` steps. */
  | { type: 'plot'; phase: Phase; plot: string; steps: number }
  | { type: 'export'; name: string; bytes: Uint8Array }
  | { type: 'indexed'; documents: number; dim: number; seconds: number; pooling: 'cls' | 'mean' }
  | { type: 'results'; query: string; hits: SearchHit[] }
  /** `gemm`: how the last GEMM of the forward ran (threads used, items in all, items on the calling thread). */
  | { type: 'logits'; requestId: number; shape: number[]; data: Float32Array; gemm: { threads: number; items: number; callerItems: number } }
  | { type: 'gemm'; requestId: number; threads: number; workers: string; singleThreadReason?: string }
  /** `where` is the panel the error belongs to (model, corpus, train, search, backend, export). */
  | { type: 'error'; where: string; message: string; requestId?: number };
