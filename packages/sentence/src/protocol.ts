/**
 * Messages between a SentenceEncoder and the worker that runs its EncoderCore: the same protocol
 * for Node worker_threads and browser Web Workers, behind two small port adapters.
 */
import { EncoderCore, type BatchSettings, type EncoderInfo } from './core.js';
import type { ModelFiles } from './files.js';

/** Where the worker loads the model from: a folder on its disk (Node), files sent along, or a URL (fetch). */
export type OpenSource = { dir: string } | { files: ModelFiles; source?: string } | { url: string };

export type Request =
  | { type: 'open'; id: number; source: OpenSource }
  | { type: 'encode'; id: number; texts: string[]; settings: BatchSettings };

export type Reply =
  | { id: number; ok: true; info: EncoderInfo }
  | { id: number; ok: true; vectors: Float32Array }
  | { id: number; ok: false; error: string };

/** The worker side of a port: receive requests, post replies (with transferable buffers). */
export interface WorkerSidePort {
  onRequest(handler: (request: Request) => void): void;
  post(reply: Reply, transfer?: ArrayBuffer[]): void;
}

/**
 * Runs an EncoderCore for whoever sends requests on `port`. `open` turns an OpenSource into a
 * core (the Node worker reads folders; a browser worker fetches URLs or takes files).
 */
export function serveEncoder(port: WorkerSidePort, open: (source: OpenSource) => Promise<EncoderCore>): void {
  let core: EncoderCore | undefined;
  port.onRequest(async (request) => {
    try {
      if (request.type === 'open') {
        core = await open(request.source);
        port.post({ id: request.id, ok: true, info: core.info });
        return;
      }
      if (!core) throw new Error('encode before the model was opened');
      const vectors = core.encodeBatch(request.texts, request.settings);
      port.post({ id: request.id, ok: true, vectors }, [vectors.buffer as ArrayBuffer]);
    } catch (error) {
      port.post({ id: request.id, ok: false, error: (error as Error).stack ?? String(error) });
    }
  });
}

/** The caller's side of a port. */
export interface CallerSidePort {
  post(request: Request): void;
  onReply(handler: (reply: Reply) => void): void;
  /** The worker died (uncaught error, exit): every pending call fails with this error. */
  onFailure(handler: (error: Error) => void): void;
  terminate(): Promise<void> | void;
}

/** Request/reply by id over a CallerSidePort. */
export class WorkerClient {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private failure: Error | undefined;

  constructor(private readonly port: CallerSidePort) {
    port.onReply((reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new Error(`SentenceEncoder worker: ${reply.error}`));
    });
    port.onFailure((error) => {
      this.failure = new Error(`SentenceEncoder worker stopped: ${error.message}`);
      for (const { reject } of this.pending.values()) reject(this.failure);
      this.pending.clear();
    });
  }

  call(request: Omit<Extract<Request, { type: 'open' }>, 'id'> | Omit<Extract<Request, { type: 'encode' }>, 'id'>): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.post({ ...request, id } as Request);
    });
  }

  async open(source: OpenSource): Promise<EncoderInfo> {
    const reply = await this.call({ type: 'open', source });
    return (reply as { info: EncoderInfo }).info;
  }

  async encodeBatch(texts: string[], settings: BatchSettings): Promise<Float32Array> {
    const reply = await this.call({ type: 'encode', texts, settings });
    return (reply as { vectors: Float32Array }).vectors;
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('the encoder was closed');
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
    await this.port.terminate();
  }
}
