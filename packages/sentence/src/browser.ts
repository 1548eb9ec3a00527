/**
 * @retro/sentence for browsers: no Node built-in anywhere below. `SentenceEncoder.fromFiles(files)`
 * (dropped or picked files, fetch results) or `fromPretrained(url)` run on the calling thread;
 * to keep a page responsive, put the encoder in a Web Worker: `serveSentenceEncoderInWorker()`
 * in the worker script and `SentenceEncoder` from `connectWorker(worker, source)` on the page.
 */
import { EncoderCore } from './core.js';
import { MODEL_FILE_NAMES, readModelFiles, type FileContents } from './files.js';
import { serveEncoder, WorkerClient, type OpenSource, type Reply, type Request } from './protocol.js';
import { localEngine, SentenceEncoder, setPlatform, workerEngine } from './sentence-encoder.js';

/** GETs every model file under `url` (absent ones are skipped; config.json and the weights must exist). */
export async function fetchModelFiles(url: string, fetchImpl: typeof fetch = fetch): Promise<Record<string, FileContents>> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const files: Record<string, FileContents> = {};
  await Promise.all(
    MODEL_FILE_NAMES.map(async (name) => {
      const response = await fetchImpl(new URL(name, new URL(base, globalThis.location?.href ?? 'http://localhost/')).href);
      if (response.ok) files[name] = new Uint8Array(await response.arrayBuffer());
      else if (response.status !== 404) throw new Error(`SentenceEncoder: GET ${base}${name}: HTTP ${response.status}`);
    }),
  );
  return files;
}

async function openCore(source: OpenSource): Promise<EncoderCore> {
  if ('url' in source) return EncoderCore.fromFolder(await readModelFiles(await fetchModelFiles(source.url), source.url));
  if ('files' in source) return EncoderCore.fromFolder(await readModelFiles(source.files, source.source));
  throw new Error('a folder on disk is opened in Node; in a browser give a URL or files');
}

setPlatform({
  async openPretrained(url) {
    const core = await openCore({ url });
    return { engine: localEngine(core), info: core.info };
  },
});

/** Call in a Web Worker script: the worker then runs the encoder for `connectWorker` on the page. */
export function serveSentenceEncoderInWorker(scope: { addEventListener(type: 'message', listener: (event: MessageEvent) => void): void; postMessage(message: unknown, transfer: Transferable[]): void } = globalThis as never): void {
  serveEncoder(
    {
      onRequest: (handler) => scope.addEventListener('message', (event) => handler(event.data as Request)),
      post: (reply, transfer) => scope.postMessage(reply, transfer ?? []),
    },
    openCore,
  );
}

/** A SentenceEncoder whose model runs in `worker` (a Web Worker that called serveSentenceEncoderInWorker). */
export async function connectWorker(worker: Worker, source: { url: string } | { files: Record<string, FileContents>; source?: string }): Promise<SentenceEncoder> {
  const client = new WorkerClient({
    post: (request) => worker.postMessage(request),
    onReply: (handler) => worker.addEventListener('message', (event) => handler(event.data as Reply)),
    onFailure: (handler) => worker.addEventListener('error', (event) => handler(new Error(event.message))),
    terminate: () => worker.terminate(),
  });
  const { engine, info } = await workerEngine(client, source);
  return SentenceEncoder.fromEngine(engine, info);
}

export { SentenceEncoder, type SentenceEncodeOptions, type PretrainedOptions } from './sentence-encoder.js';
export { EncoderCore, folderPooling, type EncoderInfo, type Pooling, type BatchSettings } from './core.js';
export { readModelFiles, MODEL_FILE_NAMES, type ModelFiles, type ModelFolder, type FileContents } from './files.js';
