/**
 * The engine: holds the model, tokenizer, corpus and training run, and answers the page's
 * messages (protocol.ts). Training runs here, one update at a time, yielding to the event loop
 * through a MessageChannel between updates (not timers or requestAnimationFrame, which browsers
 * throttle or stop in hidden tabs), so pause/resume/search/download are served mid-run and a
 * hidden tab keeps training.
 */
import { gemmInfo, gemmLastRun, gemmReady, noGrad, setGemmOptions, tensor } from '@retro/tensor';
import { renderLinePlot } from '@retro/train';
import type { AnyTokenizer, Chunk, CorpusDocument } from '@retro/data';
import type { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import type { FinetuneSettings, FromWorker, Phase, StepReport, ToWorker, TrainSettings } from './protocol.js';
import { BackendError, chooseBackend } from './engine/backend.js';
import { readCorpusFiles, tokenizeDocuments, type FileReport } from './engine/corpus.js';
import { checkpointZip } from './engine/export.js';
import { freshModel, loadModelFiles, type LoadedModel } from './engine/model.js';
import { SearchIndex, embed, type Pooling } from './engine/search.js';
import { BrowserTrainer } from './engine/trainer.js';
import { BrowserFinetuner, lossOf, readPairFiles, type PairData } from './engine/finetune.js';

/** The worker's global scope (typed by hand: the repo compiles with the DOM lib, not WebWorker's). */
const scope = self as unknown as {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

const state = {
  backend: '',
  loaded: null as LoadedModel | null,
  documents: [] as CorpusDocument[],
  corpusReports: [] as FileReport[],
  maxLength: 128,
  chunks: null as Chunk[] | null,
  /** The tokenizer the chunks were made with. */
  chunksTokenizer: null as AnyTokenizer | null,
  pairs: null as PairData | null,
  running: false,
  paused: false,
  stopRequested: false,
  resume: null as (() => void) | null,
  /** Steps reported so far over all runs on this model, per phase (each plot's x axis continues across runs). */
  history: { pretrain: [] as StepReport[], finetune: [] as StepReport[] } as Record<Phase, StepReport[]>,
  /** Bumped whenever the weights change, so search re-embeds the documents. */
  version: 0,
  searchDocuments: [] as string[],
  pooling: 'cls' as Pooling,
  index: null as SearchIndex | null,
  /** The page is hidden: step reports go on, the plots (SVG text) are only made again once it is visible. */
  pageHidden: false,
};

const channel = new MessageChannel();
let wake: (() => void) | null = null;
channel.port1.onmessage = () => wake?.();
/** Lets queued messages run; resolves on the next task. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    wake = resolve;
    channel.port2.postMessage(null);
  });
}

function requireModel(action: string): LoadedModel {
  if (!state.loaded) throw new Error(`${action} needs a model: load a model folder or create a fresh one first`);
  return state.loaded;
}

function requireIdle(action: string): void {
  if (state.running) throw new Error(`${action} is not possible while training runs: pause and stop it first`);
}

/** (Re)tokenizes the corpus for the current tokenizer, reporting progress. */
function tokenizeCorpus(): void {
  const loaded = state.loaded;
  if (!loaded || state.documents.length === 0) return;
  if (state.chunks && state.chunksTokenizer === loaded.tokenizer) return;
  const total = state.documents.length;
  post({ type: 'corpus-progress', documentsDone: 0, documentsTotal: total, chunks: 0, tokens: 0 });
  state.chunks = tokenizeDocuments(state.documents, loaded.tokenizer, state.maxLength, (done, chunks, tokens) =>
    post({ type: 'corpus-progress', documentsDone: done, documentsTotal: total, chunks, tokens }),
  );
  state.chunksTokenizer = loaded.tokenizer;
  postCorpusSummary();
}

function postCorpusSummary(): void {
  const chunks: Chunk[] = state.chunks ?? [];
  const tokens = chunks.reduce((n, c) => n + c.ids.length, 0);
  post({ type: 'corpus', files: state.corpusReports, documents: state.documents.length, chunks: chunks.length, tokens });
}

function setModel(loaded: LoadedModel): void {
  state.loaded = loaded;
  state.history = { pretrain: [], finetune: [] };
  state.version++;
  state.index = null;
  post({ type: 'model', summary: loaded.summary, notes: loaded.notes });
  post({ type: 'train-state', phase: 'pretrain', state: 'idle' });
  post({ type: 'train-state', phase: 'finetune', state: 'idle' });
  tokenizeCorpus();
}

/** A run the loop drives one update at a time: pretraining or fine-tuning. */
interface Run {
  readonly done: boolean;
  readonly step: number;
  update(): Promise<StepReport>;
}

async function train(settings: TrainSettings): Promise<void> {
  const loaded = requireModel('training');
  requireIdle('starting a new run');
  if (state.documents.length === 0) throw new Error('training needs a corpus: drop WuDao .json, .jsonl or .txt files, or load the demo corpus');
  tokenizeCorpus();
  await runLoop('pretrain', new BrowserTrainer(loaded.model, loaded.tokenizer, state.chunks!, settings), settings.steps);
}

async function finetune(settings: FinetuneSettings): Promise<void> {
  const loaded = requireModel('fine-tuning');
  requireIdle('starting a fine-tuning run');
  if (!state.pairs) throw new Error('fine-tuning needs pairs: drop a JSONL of {"query", "pos", "neg"} or {"sentence1", "sentence2", "score"} records');
  await runLoop('finetune', new BrowserFinetuner(loaded.model, loaded.tokenizer, state.pairs, settings, state.maxLength), settings.steps);
}

/**
 * Runs `run` to its end or a stop, one update per event-loop task, honouring pause/resume/stop
 * between updates and reporting every step (the plot a few times a second).
 */
async function runLoop(phase: Phase, run: Run, steps: number): Promise<void> {
  const history = state.history[phase];
  const offset = history.length > 0 ? history[history.length - 1].step : 0;
  let lastPlot = 0;
  state.running = true;
  state.paused = false;
  state.stopRequested = false;
  post({ type: 'train-state', phase, state: 'running' });
  try {
    while (!run.done && !state.stopRequested) {
      if (state.paused) {
        post({ type: 'train-state', phase, state: 'paused' });
        await new Promise<void>((resolve) => (state.resume = resolve));
        state.resume = null;
        if (state.stopRequested) break;
        post({ type: 'train-state', phase, state: 'running' });
      }
      const report = await run.update();
      state.version++;
      const global = { ...report, step: offset + report.step, totalSteps: offset + report.totalSteps };
      history.push(global);
      const now = performance.now();
      const plot = !state.pageHidden && (now - lastPlot > 250 || run.done) ? lossPlot(phase) : undefined;
      if (plot) lastPlot = now;
      post({ type: 'step', report: global, plot });
      await yieldToEvents();
    }
    post({
      type: 'train-state',
      phase,
      state: 'done',
      message: state.stopRequested ? `stopped after ${run.step} of ${steps} steps` : `finished ${steps} steps`,
      plot: history.length > 0 && !state.pageHidden ? lossPlot(phase) : undefined,
    });
  } catch (error) {
    post({ type: 'train-state', phase, state: 'failed', message: (error as Error).message });
    throw error;
  } finally {
    state.running = false;
    state.paused = false;
  }
}

function lossPlot(phase: Phase): string {
  const history = state.history[phase];
  const series = (key: 'loss' | 'encoderLoss' | 'decoderLoss', name: string) => ({ name, points: history.map((r) => [r.step, r[key]] as const) });
  const size = { xLabel: 'step', width: 900, height: 340 };
  if (phase === 'finetune') {
    return renderLinePlot([series('loss', 'contrastive loss')], { ...size, title: 'Contrastive fine-tuning loss', yLabel: state.pairs?.kind === 'pairs' ? 'CoSENT' : 'InfoNCE' });
  }
  return renderLinePlot([series('loss', 'loss'), series('encoderLoss', 'encoder MLM'), series('decoderLoss', 'decoder')], { ...size, title: 'RetroMAE pretraining loss', yLabel: 'cross-entropy' });
}

function currentIndex(): SearchIndex {
  const loaded = requireModel('search');
  if (state.searchDocuments.length === 0) throw new Error('add documents to search (one per line) and press Index');
  if (!state.index || state.index.version !== state.version) {
    const started = performance.now();
    const vectors = embed(loaded.model, loaded.tokenizer, state.searchDocuments, state.maxLength, state.pooling);
    state.index = new SearchIndex(state.searchDocuments, vectors, state.version, state.pooling);
    post({ type: 'indexed', documents: vectors.rows, dim: vectors.dim, seconds: (performance.now() - started) / 1000, pooling: state.pooling });
  }
  return state.index;
}

function logits(model: RetroMAEForPretraining, ids: number[][]): { shape: number[]; data: Float32Array; gemm: { threads: number; items: number; callerItems: number } } {
  const length = ids[0]?.length ?? 0;
  if (ids.length === 0 || length === 0 || ids.some((row) => row.length !== length)) throw new Error('logits: ids must be a non-empty [B, L] array of equal-length rows');
  const wasTraining = model.encoder.training;
  model.encoder.train(false);
  try {
    return noGrad(() => {
      const out = model.encoder.forward({ inputIds: tensor(Int32Array.from(ids.flat()), [ids.length, length]) });
      return { shape: [...out.logits.shape], data: out.logits.toFloat32Array(), gemm: gemmLastRun() };
    });
  } finally {
    model.encoder.train(wasTraining);
  }
}

/** Which panel an error belongs to. */
const WHERE: Record<ToWorker['type'], string> = {
  backend: 'backend',
  'load-model': 'model',
  'fresh-model': 'model',
  corpus: 'corpus',
  train: 'train',
  pairs: 'finetune',
  finetune: 'finetune',
  visibility: 'train',
  pause: 'train',
  resume: 'train',
  stop: 'train',
  export: 'export',
  index: 'search',
  search: 'search',
  logits: 'model',
  gemm: 'backend',
};

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'backend': {
      requireIdle('switching the backend');
      try {
        const choice = await chooseBackend(message.request);
        state.backend = choice.active;
        post({ type: 'backend', ...choice });
      } catch (error) {
        if (error instanceof BackendError) post({ type: 'backend', active: state.backend || 'none', attempts: error.attempts, isolated: crossOriginIsolated, threads: 0 });
        throw error;
      }
      // Existing weights stay where they are; the engine moves them to the new backend on first use.
      return;
    }
    case 'load-model':
      requireIdle('loading a model');
      setModel(loadModelFiles(message.files, 42));
      return;
    case 'fresh-model':
      requireIdle('creating a model');
      state.maxLength = message.settings.maxLength;
      setModel(await freshModel(state.documents, message.settings));
      return;
    case 'corpus': {
      requireIdle('changing the corpus');
      const { documents, reports } = readCorpusFiles(message.files);
      if (documents.length === 0) {
        post({ type: 'corpus', files: reports.map((r) => ({ name: r.name, format: r.format, documents: r.documents, issues: r.issues })), documents: 0, chunks: 0, tokens: 0 });
        throw new Error(`no documents in ${message.files.map((f) => f.name).join(', ')}: ${reports.flatMap((r) => r.issues).join('; ') || 'every record was empty'}`);
      }
      state.documents = documents;
      state.corpusReports = reports;
      state.maxLength = message.maxLength;
      state.chunks = null;
      state.chunksTokenizer = null;
      if (state.loaded) tokenizeCorpus();
      else postCorpusSummary();
      return;
    }
    case 'train':
      await train(message.settings);
      return;
    case 'pairs': {
      requireIdle('changing the fine-tuning pairs');
      const { data, files } = readPairFiles(message.files);
      state.pairs = data;
      post({ type: 'pairs', kind: data.kind, loss: lossOf(data), records: data.items.length, files });
      return;
    }
    case 'finetune':
      await finetune(message.settings);
      return;
    case 'visibility':
      state.pageHidden = message.hidden;
      // Visible again: every step made while hidden is already reported; redraw the plots now.
      if (!message.hidden) {
        for (const phase of ['pretrain', 'finetune'] as const) {
          const history = state.history[phase];
          if (history.length > 0) post({ type: 'plot', phase, plot: lossPlot(phase), steps: history.length });
        }
      }
      return;
    case 'pause':
      if (!state.running) throw new Error('nothing to pause: training is not running');
      state.paused = true;
      return;
    case 'resume':
      if (!state.running || !state.paused) throw new Error('nothing to resume: training is not paused');
      state.paused = false;
      state.resume?.();
      return;
    case 'stop':
      if (!state.running) return;
      state.stopRequested = true;
      state.resume?.();
      return;
    case 'export': {
      const loaded = requireModel('download');
      const last = (phase: Phase) => state.history[phase][state.history[phase].length - 1]?.step ?? 0;
      const folder = `retromae-studio-step-${last('pretrain')}${last('finetune') > 0 ? `-ft-${last('finetune')}` : ''}`;
      const bytes = checkpointZip(loaded.model, loaded.tokenizerFiles, [...state.history.pretrain, ...state.history.finetune], folder);
      post({ type: 'export', name: `${folder}.zip`, bytes }, [bytes.buffer]);
      return;
    }
    case 'index':
      state.searchDocuments = message.documents.map((d) => d.trim()).filter((d) => d.length > 0);
      state.pooling = message.pooling;
      state.index = null;
      currentIndex();
      return;
    case 'search': {
      const index = currentIndex();
      if (message.query.trim().length === 0) throw new Error('type a query first');
      const loaded = requireModel('search');
      const query = embed(loaded.model, loaded.tokenizer, [message.query.trim()], state.maxLength, index.pooling);
      post({ type: 'results', query: message.query, hits: index.search(query, message.k) });
      return;
    }
    case 'logits': {
      const out = logits(requireModel('logits').model, message.ids);
      post({ type: 'logits', requestId: message.requestId, ...out }, [out.data.buffer]);
      return;
    }
    case 'gemm': {
      requireIdle('changing the GEMM threads');
      setGemmOptions({ threads: message.threads, ...(message.parallelMinMacs !== undefined ? { parallelMinMacs: message.parallelMinMacs } : {}) });
      await gemmReady();
      const info = gemmInfo();
      post({ type: 'gemm', requestId: message.requestId, threads: info.threads, workers: info.workers, ...(info.singleThreadReason ? { singleThreadReason: info.singleThreadReason } : {}) });
      return;
    }
  }
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  handle(message).catch((error: unknown) => {
    const requestId = 'requestId' in message ? message.requestId : undefined;
    post({ type: 'error', where: WHERE[message.type] ?? 'app', message: error instanceof Error ? error.message : String(error), ...(requestId !== undefined ? { requestId } : {}) });
  });
};

post({ type: 'ready' });
