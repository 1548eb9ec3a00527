/** Node's fromPretrained: a folder on disk, encoded in a worker thread by default. */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EncoderCore } from './core.js';
import { readModelFolder } from './node-folder.js';
import { WorkerClient } from './protocol.js';
import { localEngine, setPlatform, workerEngine, type Platform } from './sentence-encoder.js';

/** The worker's code beside this module, in whichever form this module runs (src via tsx in tests, ESM or CJS dist). */
function startWorker(): Worker {
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./worker.ts', here);
    const source =
      `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(here)})).catch((e) => ` +
      `{ console.error(e); process.exit(1); });`;
    return new Worker(source, { eval: true });
  }
  return new Worker(new URL(here.endsWith('.cjs') ? './worker.cjs' : './worker.js', here));
}

export const nodePlatform: Platform = {
  async openPretrained(dir, options) {
    if (options.worker === false) {
      const core = EncoderCore.fromFolder(await readModelFolder(dir));
      return { engine: localEngine(core), info: core.info };
    }
    const worker = startWorker();
    // A worker that is only waiting for requests must not keep the process alive.
    worker.unref();
    const client = new WorkerClient({
      post: (request) => worker.postMessage(request),
      onReply: (handler) => worker.on('message', handler),
      onFailure: (handler) => {
        worker.on('error', handler);
        worker.on('exit', (code) => handler(new Error(`exited with code ${code}`)));
      },
      terminate: async () => {
        await worker.terminate();
      },
    });
    return workerEngine(client, { dir });
  },
};

setPlatform(nodePlatform);
