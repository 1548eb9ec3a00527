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
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'export' }
  /** pooling: 'cls' (RetroMAE's sentence embedding) or 'mean' over tokens. */
  | { type: 'index'; documents: string[]; pooling: 'cls' | 'mean' }
  | { type: 'search'; query: string; k: number }
  /** Automation and inspection: MLM logits [B, L, V] of the encoder for padded-free id rows. */
  | { type: 'logits'; ids: number[][]; requestId: number };

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

export interface StepReport {
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
  /** `plot`: the loss plot as SVG, sent at most a few times a second and with the last step. */
  | { type: 'step'; report: StepReport; plot?: string }
  | { type: 'train-state'; state: TrainState; message?: string; plot?: string }
  | { type: 'export'; name: string; bytes: Uint8Array }
  | { type: 'indexed'; documents: number; dim: number; seconds: number; pooling: 'cls' | 'mean' }
  | { type: 'results'; query: string; hits: SearchHit[] }
  | { type: 'logits'; requestId: number; shape: number[]; data: Float32Array }
  /** `where` is the panel the error belongs to (model, corpus, train, search, backend, export). */
  | { type: 'error'; where: string; message: string };
