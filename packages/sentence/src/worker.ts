/** The Node worker thread of a SentenceEncoder: opens the folder it is told, encodes batches. */
import { parentPort } from 'node:worker_threads';
import { EncoderCore } from './core.js';
import { readModelFiles } from './files.js';
import { readModelFolder } from './node-folder.js';
import { serveEncoder, type Request } from './protocol.js';

if (!parentPort) throw new Error('@retro/sentence worker: run as a worker thread');
const port = parentPort;
serveEncoder(
  {
    onRequest: (handler) => port.on('message', (request: Request) => handler(request)),
    post: (reply, transfer) => port.postMessage(reply, transfer),
  },
  async (source) => {
    if ('dir' in source) return EncoderCore.fromFolder(await readModelFolder(source.dir));
    if ('files' in source) return EncoderCore.fromFolder(await readModelFiles(source.files, source.source));
    throw new Error('a URL is opened in browsers; in Node give a folder');
  },
);
