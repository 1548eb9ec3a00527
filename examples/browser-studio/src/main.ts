/**
 * The page: reads the user's files, sends them to the engine worker (worker.ts), and shows what
 * it reports. It holds no model state, so a throttled hidden tab loses nothing: the worker keeps
 * training and the page redraws from its latest messages when it runs again.
 */
import type { BackendRequest, FromWorker, InputFile, Phase, StepReport, ToWorker, TrainState } from './protocol.js';

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`browser-studio: #${id} is missing from index.html`);
  return found as T;
}
const input = (id: string) => element<HTMLInputElement>(id);
const numberOf = (id: string) => Number(input(id).value);

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(message, transfer);
}

// ---- errors, per panel ------------------------------------------------------------------------
const PANELS = ['backend', 'model', 'corpus', 'train', 'finetune', 'export', 'search'];
function showError(where: string, message: string): void {
  const box = document.getElementById(`error-${where}`) ?? element('error-train');
  box.textContent = message;
  box.hidden = false;
}
function clearError(where: string): void {
  const box = document.getElementById(`error-${where}`);
  if (box) box.hidden = true;
}

// ---- what the page knows ----------------------------------------------------------------------
/** What the page knows of one phase's runs (pretraining, fine-tuning). */
interface PhaseView {
  state: TrainState;
  lastStep: StepReport | null;
  /** Every step reported for the current model (the worker keeps the same list for metrics.jsonl). */
  steps: StepReport[];
  pendingPlot: string | null;
}
const phaseView = (): PhaseView => ({ state: 'idle', lastStep: null, steps: [], pendingPlot: null });

const ui = {
  hasModel: false,
  hasCorpus: false,
  hasPairs: false,
  phases: { pretrain: phaseView(), finetune: phaseView() } as Record<Phase, PhaseView>,
  backend: '',
  requests: new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>(),
  nextRequest: 1,
  /** Every message type received, in order (for automation and debugging). */
  events: [] as string[],
  /** document.visibilityState at each change, in order (automation: a hidden tab loses nothing). */
  visibility: [] as string[],
};

/** The element ids of each phase's panel. */
const PHASE_IDS: Record<Phase, { status: string; plot: string; start: string; pause: string; resume: string; stop: string; verb: string }> = {
  pretrain: { status: 'train-status', plot: 'loss-plot', start: 'train-start', pause: 'train-pause', resume: 'train-resume', stop: 'train-stop', verb: 'Training' },
  finetune: { status: 'finetune-status', plot: 'finetune-plot', start: 'finetune-start', pause: 'finetune-pause', resume: 'finetune-resume', stop: 'finetune-stop', verb: 'Fine-tuning' },
};

function refreshButtons(): void {
  const active = (phase: Phase) => ui.phases[phase].state === 'running' || ui.phases[phase].state === 'paused';
  const running = active('pretrain') || active('finetune');
  for (const phase of ['pretrain', 'finetune'] as const) {
    const ids = PHASE_IDS[phase];
    const view = ui.phases[phase];
    element<HTMLButtonElement>(ids.start).disabled = running || !ui.hasModel || (phase === 'pretrain' ? !ui.hasCorpus : !ui.hasPairs);
    element<HTMLButtonElement>(ids.pause).disabled = view.state !== 'running';
    element<HTMLButtonElement>(ids.resume).disabled = view.state !== 'paused';
    element<HTMLButtonElement>(ids.stop).disabled = !active(phase);
  }
  element<HTMLButtonElement>('download').disabled = !ui.hasModel;
  element<HTMLButtonElement>('fresh-create').disabled = running || !ui.hasCorpus;
  element<HTMLSelectElement>('backend-select').disabled = running;
}

// Drawing waits for a frame: a hidden tab skips frames, not data (the reports pile up in `ui`).
let drawScheduled = false;
function scheduleDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(draw);
}

function draw(): void {
  drawScheduled = false;
  for (const phase of ['pretrain', 'finetune'] as const) {
    const view = ui.phases[phase];
    const ids = PHASE_IDS[phase];
    if (view.pendingPlot) {
      element(ids.plot).innerHTML = view.pendingPlot;
      view.pendingPlot = null;
    }
    const r = view.lastStep;
    if (r && (view.state === 'running' || view.state === 'paused')) {
      const remaining = Math.max(0, r.totalSteps - r.step);
      const losses = phase === 'pretrain' ? `loss ${r.loss.toFixed(4)} (encoder ${r.encoderLoss.toFixed(4)}, decoder ${r.decoderLoss.toFixed(4)})` : `contrastive loss ${r.loss.toFixed(4)}`;
      element(ids.status).textContent =
        `${view.state === 'paused' ? 'Paused' : ids.verb} on ${ui.backend}: step ${r.step}/${r.totalSteps} · ${losses} · ${Math.round(r.tokensPerSecond).toLocaleString('en')} tokens/s · ` +
        `lr ${r.lr.toExponential(2)} · ETA ${formatSeconds((remaining * r.elapsedSeconds) / Math.max(1, r.runStep))}`;
    }
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function download(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/zip' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  ui.events.push(message.type);
  switch (message.type) {
    case 'ready':
      send({ type: 'backend', request: element<HTMLSelectElement>('backend-select').value as BackendRequest });
      break;
    case 'backend': {
      ui.backend = message.active;
      clearError('backend');
      const used = message.attempts.find((a) => a.ok);
      element('backend-line').textContent = `Backend: ${message.active}${used ? ` — ${used.detail}` : ''}${message.isolated ? ' · cross-origin isolated' : ''}`;
      element('backend-attempts').innerHTML = '';
      for (const attempt of message.attempts) {
        const item = document.createElement('li');
        item.textContent = `${attempt.ok ? '✔' : '✘'} ${attempt.name}: ${attempt.detail}`;
        element('backend-attempts').append(item);
      }
      break;
    }
    case 'model': {
      ui.hasModel = true;
      clearError('model');
      const s = message.summary;
      element('model-summary').textContent =
        `${s.source}: ${s.modelType}, ${s.numLayers} layers, hidden ${s.hiddenSize}, ${s.numHeads} heads, vocab ${s.vocabSize}, ` +
        `${(s.parameters / 1e6).toFixed(2)} M parameters (decoder c_head ${s.hasDecoder ? 'loaded' : 'fresh'}); tokenizer: ${s.tokenizer}` +
        (message.notes.length ? `\n${message.notes.join('\n')}` : '');
      ui.phases = { pretrain: phaseView(), finetune: phaseView() };
      for (const phase of ['pretrain', 'finetune'] as const) {
        element(PHASE_IDS[phase].plot).innerHTML = '';
        element(PHASE_IDS[phase].status).textContent = 'Idle.';
      }
      break;
    }
    case 'corpus-progress': {
      const bar = element<HTMLProgressElement>('corpus-progress');
      bar.hidden = false;
      bar.max = message.documentsTotal;
      bar.value = message.documentsDone;
      element('corpus-summary').textContent = `Tokenizing: ${message.documentsDone}/${message.documentsTotal} documents → ${message.chunks} chunks, ${message.tokens.toLocaleString('en')} tokens`;
      break;
    }
    case 'corpus': {
      ui.hasCorpus = message.documents > 0;
      if (ui.hasCorpus) clearError('corpus');
      const files = message.files.map((f) => `${f.name} (${f.format}, ${f.documents} documents)`).join(', ');
      element('corpus-summary').textContent =
        `${message.documents} documents from ${files}` +
        (message.chunks > 0 ? ` → ${message.chunks} chunks, ${message.tokens.toLocaleString('en')} tokens` : ' (tokenized once a model is loaded or created)');
      const issues = element('corpus-issues');
      issues.innerHTML = '';
      for (const issue of message.files.flatMap((f) => f.issues)) {
        const item = document.createElement('li');
        item.textContent = issue;
        issues.append(item);
      }
      break;
    }
    case 'pairs': {
      ui.hasPairs = true;
      clearError('finetune');
      element('pairs-summary').textContent = `${message.records} ${message.kind === 'pairs' ? 'scored pairs' : 'query/passage triples'} from ${message.files.map((f) => `${f.name} (${f.records})`).join(', ')} → ${message.loss}`;
      break;
    }
    case 'step': {
      const view = ui.phases[message.report.phase];
      view.lastStep = message.report;
      view.steps.push(message.report);
      if (message.plot) view.pendingPlot = message.plot;
      scheduleDraw();
      break;
    }
    case 'train-state': {
      const view = ui.phases[message.phase];
      const ids = PHASE_IDS[message.phase];
      view.state = message.state;
      if (message.plot) view.pendingPlot = message.plot;
      if (message.state === 'failed') showError(message.phase === 'pretrain' ? 'train' : 'finetune', `${ids.verb} failed: ${message.message}`);
      if (message.state === 'done' || message.state === 'idle') {
        const r = view.lastStep;
        element(ids.status).textContent =
          message.state === 'idle' ? 'Idle.' : `Done (${message.message}) on ${ui.backend}${r ? `: step ${r.step}, loss ${r.loss.toFixed(4)}, ${Math.round(r.tokensPerSecond).toLocaleString('en')} tokens/s` : ''}`;
      }
      if (message.phase === 'finetune' && message.state === 'done' && view.lastStep) {
        // Search embeds with what was trained: the fine-tuned pooling, re-indexed on the next search.
        element<HTMLSelectElement>('search-pooling').value = element<HTMLSelectElement>('finetune-pooling').value;
        element('index-status').textContent = 'The model changed: the documents are re-embedded on the next search.';
      }
      scheduleDraw();
      break;
    }
    case 'plot':
      ui.phases[message.phase].pendingPlot = message.plot;
      scheduleDraw();
      break;
    case 'export':
      clearError('export');
      download(message.name, message.bytes);
      break;
    case 'indexed':
      element('index-status').textContent = `Indexed ${message.documents} documents (${message.dim}-d ${message.pooling === 'cls' ? '[CLS]' : 'mean-pooled'} vectors) in ${message.seconds.toFixed(1)} s`;
      break;
    case 'results': {
      clearError('search');
      const body = element('search-results').querySelector('tbody')!;
      body.innerHTML = '';
      message.hits.forEach((hit, rank) => {
        const row = document.createElement('tr');
        for (const [text, cls] of [[String(rank + 1), ''], [hit.score.toFixed(4), 'score'], [hit.text, 'text']]) {
          const cell = document.createElement('td');
          cell.textContent = text;
          if (cls) cell.className = cls;
          row.append(cell);
        }
        row.dataset.index = String(hit.index);
        row.dataset.score = String(hit.score);
        body.append(row);
      });
      break;
    }
    case 'logits':
      ui.requests.get(message.requestId)?.resolve({ shape: message.shape, data: Array.from(message.data), gemm: message.gemm });
      ui.requests.delete(message.requestId);
      break;
    case 'gemm': {
      const { type: _type, requestId, ...info } = message;
      ui.requests.get(requestId)?.resolve(info);
      ui.requests.delete(requestId);
      break;
    }
    case 'error':
      if (message.requestId !== undefined) {
        ui.requests.get(message.requestId)?.reject(new Error(message.message));
        ui.requests.delete(message.requestId);
      }
      showError(PANELS.includes(message.where) ? message.where : 'train', message.message);
      break;
  }
  refreshButtons();
};

worker.onerror = (event) => showError('backend', `The engine worker failed to start: ${event.message || 'see the browser console'}`);

// ---- files ------------------------------------------------------------------------------------
async function readFiles(files: ArrayLike<File>): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const file of Array.from(files)) out.push({ name: file.webkitRelativePath || file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  return out;
}

/** Files of a drop, folders walked (their paths kept, e.g. "my-model/config.json"). */
async function droppedFiles(transfer: DataTransfer): Promise<InputFile[]> {
  const entries = Array.from(transfer.items).map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return readFiles(transfer.files);
  const out: InputFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ name: prefix + file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return out;
}

type FileKind = 'load-model' | 'corpus' | 'pairs';
const PANEL_OF: Record<FileKind, string> = { 'load-model': 'model', corpus: 'corpus', pairs: 'finetune' };
const SUMMARY_OF: Record<FileKind, string> = { 'load-model': 'model-summary', corpus: 'corpus-summary', pairs: 'pairs-summary' };

function sendFiles(type: FileKind, files: InputFile[]): void {
  const where = PANEL_OF[type];
  if (files.length === 0) return showError(where, 'no files were given');
  clearError(where);
  const transfer = files.map((f) => f.bytes.buffer);
  element(SUMMARY_OF[type]).textContent = `${type === 'load-model' ? 'Loading' : 'Reading'} ${files.length} files…`;
  if (type === 'corpus') send({ type, files, maxLength: numberOf('max-length') }, transfer);
  else send({ type, files }, transfer);
}

function dropZone(zoneId: string, type: FileKind): void {
  const zone = element(zoneId);
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    if (event.dataTransfer) droppedFiles(event.dataTransfer).then((files) => sendFiles(type, files), (error) => showError(PANEL_OF[type], String(error)));
  });
}

dropZone('model-drop', 'load-model');
dropZone('corpus-drop', 'corpus');
dropZone('pairs-drop', 'pairs');
for (const [id, type] of [['model-files', 'load-model'], ['model-folder', 'load-model'], ['corpus-files', 'corpus'], ['pairs-files', 'pairs']] as const) {
  input(id).addEventListener('change', async () => {
    // At once, not after reading: a test (or a user) must not see the previous file's error as this one's.
    clearError(PANEL_OF[type]);
    const files = input(id).files;
    if (files) sendFiles(type, await readFiles(files));
    input(id).value = '';
  });
}

async function fetchDemo(path: string): Promise<Uint8Array> {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} (build the app with npm run app:build to create the demo files)`);
  return new Uint8Array(await response.arrayBuffer());
}

element('corpus-demo').addEventListener('click', () => {
  clearError('corpus');
  fetchDemo('demo/corpus.json').then((bytes) => sendFiles('corpus', [{ name: 'demo/corpus.json', bytes }]), (error) => showError('corpus', String(error.message ?? error)));
});
element('pairs-demo').addEventListener('click', () => {
  clearError('finetune');
  fetchDemo('demo/pairs.jsonl').then((bytes) => sendFiles('pairs', [{ name: 'demo/pairs.jsonl', bytes }]), (error) => showError('finetune', String(error.message ?? error)));
});
element('search-demo').addEventListener('click', () => {
  clearError('search');
  fetchDemo('demo/documents.txt').then((bytes) => (element<HTMLTextAreaElement>('search-documents').value = new TextDecoder().decode(bytes)), (error) => showError('search', String(error.message ?? error)));
});

// ---- hidden tab -------------------------------------------------------------------------------
// The worker trains on regardless (its loop yields through a MessageChannel, which browsers do not
// throttle like timers); hidden, it skips making plots nobody sees, and visible again it sends them.
document.addEventListener('visibilitychange', () => {
  ui.visibility.push(document.visibilityState);
  send({ type: 'visibility', hidden: document.visibilityState === 'hidden' });
});

// ---- actions ----------------------------------------------------------------------------------
element('backend-select').addEventListener('change', () => send({ type: 'backend', request: element<HTMLSelectElement>('backend-select').value as BackendRequest }));

element('fresh-create').addEventListener('click', () => {
  clearError('model');
  element('model-summary').textContent = 'Building a vocabulary from the corpus and a fresh model…';
  send({
    type: 'fresh-model',
    settings: {
      hiddenSize: numberOf('fresh-hidden'),
      numLayers: numberOf('fresh-layers'),
      numHeads: numberOf('fresh-heads'),
      intermediateSize: numberOf('fresh-intermediate'),
      maxLength: numberOf('max-length'),
      seed: numberOf('train-seed'),
    },
  });
});

element('train-start').addEventListener('click', () => {
  clearError('train');
  send({
    type: 'train',
    settings: {
      steps: numberOf('train-steps'),
      batchSize: numberOf('train-batch'),
      lr: numberOf('train-lr'),
      warmupSteps: numberOf('train-warmup'),
      encoderMaskRatio: numberOf('train-enc-ratio'),
      decoderMaskRatio: numberOf('train-dec-ratio'),
      seed: numberOf('train-seed'),
    },
  });
});
for (const phase of ['pretrain', 'finetune'] as const) {
  element(PHASE_IDS[phase].pause).addEventListener('click', () => send({ type: 'pause' }));
  element(PHASE_IDS[phase].resume).addEventListener('click', () => send({ type: 'resume' }));
  element(PHASE_IDS[phase].stop).addEventListener('click', () => send({ type: 'stop' }));
}
element('finetune-start').addEventListener('click', () => {
  clearError('finetune');
  send({
    type: 'finetune',
    settings: {
      steps: numberOf('finetune-steps'),
      batchSize: numberOf('finetune-batch'),
      lr: numberOf('finetune-lr'),
      temperature: numberOf('finetune-temperature'),
      pooling: element<HTMLSelectElement>('finetune-pooling').value as 'cls' | 'mean',
      seed: numberOf('train-seed'),
    },
  });
});
element('download').addEventListener('click', () => send({ type: 'export' }));

element('search-index').addEventListener('click', () => {
  clearError('search');
  element('index-status').textContent = 'Embedding…';
  send({ type: 'index', documents: element<HTMLTextAreaElement>('search-documents').value.split('\n'), pooling: element<HTMLSelectElement>('search-pooling').value as 'cls' | 'mean' });
});
const runSearch = () => {
  clearError('search');
  send({ type: 'search', query: input('search-query').value, k: numberOf('search-k') });
};
element('search-run').addEventListener('click', runSearch);
input('search-query').addEventListener('keydown', (event) => {
  if (event.key === 'Enter') runSearch();
});

refreshButtons();

/** Sends a request the worker answers with the same requestId. */
function request(sendIt: (requestId: number) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const requestId = ui.nextRequest++;
    ui.requests.set(requestId, { resolve, reject });
    sendIt(requestId);
  });
}

/** Automation hook (tests, notebooks): inspect the page's state and the model's MLM logits. */
(window as unknown as { retroStudio: unknown }).retroStudio = {
  state: () => {
    const [pretrain, finetune] = [ui.phases.pretrain, ui.phases.finetune];
    return {
      hasModel: ui.hasModel,
      hasCorpus: ui.hasCorpus,
      hasPairs: ui.hasPairs,
      train: pretrain.state,
      lastStep: pretrain.lastStep,
      steps: [...pretrain.steps],
      finetune: { state: finetune.state, steps: [...finetune.steps] },
      backend: ui.backend,
      events: [...ui.events],
      visibility: [...ui.visibility],
    };
  },
  logits: (ids: number[][]) => request((requestId) => send({ type: 'logits', ids, requestId })),
  /** Sets the cpu GEMM's threads (and optionally its parallel threshold); resolves with gemmInfo's answer. */
  gemm: (threads: number, parallelMinMacs?: number) => request((requestId) => send({ type: 'gemm', threads, parallelMinMacs, requestId })),
};
