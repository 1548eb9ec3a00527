/**
 * Worker threads that help the calling thread run GEMM jobs over the shared wasm memory.
 *
 * Node: worker_threads. Browsers: Web Workers, where the page (or the worker calling us) is
 * cross-origin isolated, so the shared WebAssembly.Memory can be posted to them; elsewhere no
 * pool is made and the calling thread works alone (runtime.ts says why). The worker source is
 * inlined (Node: `eval: true`; browsers: a Blob URL), so it works unchanged from the tsup and
 * esbuild bundles. Workers spin briefly after each job (waking a sleeping worker with
 * Atomics.notify costs ~25 us, a spinning one ~1 us), then sleep in Atomics.wait. Node workers
 * are unref()'d so they never keep a process alive.
 *
 * Jobs never wait for a worker: items are claimed dynamically, so a worker that is still
 * starting, asleep or descheduled simply claims fewer (a browser starts a Web Worker only once
 * its creator returns to its event loop). Each job names its kernel (CTRL.kernel) and how many
 * workers may join (CTRL.workers), so changing either needs no restart.
 */
import { CTRL } from './wasm-bytes.js';
import { ROW_JOB } from '../parallel/row-layout.js';
import { nodeBuiltin, workerHost } from './runtime.js';

/** How long an idle worker spins before it sleeps; short because the cores are shared. */
export const SPIN_MS = 0.2;

/**
 * The worker's loop, the same in Node and browsers; the host's prologue below hands it the job
 * layout (`workerData`), a way to post to the creator, and (Node) the relaxed-SIMD flag switch.
 * Kept dependency-free: it runs as source text in the worker.
 */
const WORKER_MAIN = `
function retroGemmWorker(workerData, post, enableRelaxed) {
  const { modules, memory, index, GEN, CMD, DONE, KERNEL, WORKERS, spinMs, ROW } = workerData;
  if (modules[1]) enableRelaxed();
  const works = [];
  try {
    for (let i = 0; i < 2; i++) {
      if (modules[i]) works[i] = new WebAssembly.Instance(modules[i], { env: { memory } }).exports.work;
    }
  } catch (e) {
    post({ error: String((e && e.message) || e) });
    return;
  }
  const ctrl = new Int32Array(memory.buffer, 0, 64);
  // Row-block jobs of the non-GEMM SIMD kernels (kernel code ROW.code): see ../parallel/row-jobs.ts,
  // whose runBlocks this mirrors. The claim word is count << 32 | next; a block is ours once the
  // compare-exchange succeeds, and the job cannot be replaced before that block is done, so the
  // descriptor read after claiming belongs to it.
  let rowKernels = null;
  const claim = new BigInt64Array(memory.buffer, ROW.claim, 1);
  const rowDone = new Int32Array(memory.buffer, ROW.done, 1);
  const desc = new Float64Array(memory.buffer, ROW.desc, ROW.descLength);
  const args = [];
  function rowJob() {
    if (!rowKernels) {
      const exports = new WebAssembly.Instance(modules[2], { env: { memory } }).exports;
      rowKernels = ROW.names.map((name) => exports[name]);
    }
    for (;;) {
      const word = Atomics.load(claim, 0);
      const next = Number(word & 0xffffffffn);
      if (next >= Number(word >> 32n)) return;
      if (Atomics.compareExchange(claim, 0, word, word + 1n) !== word) continue;
      const n = desc[1], rowsArg = desc[2], blockRows = desc[3], totalRows = desc[4], pad = desc[5];
      const r0 = next * blockRows;
      const count = Math.min(blockRows, totalRows - r0);
      args.length = n;
      for (let i = 0; i < n; i++) args[i] = desc[8 + i] + r0 * desc[24 + i] + next * desc[40 + i];
      args[rowsArg] = pad ? (count + 3) & ~3 : count;
      rowKernels[desc[0]].apply(null, args);
      Atomics.add(rowDone, 0, 1);
    }
  }
  let seen = Atomics.load(ctrl, GEN);
  post({ ready: true });
  for (;;) {
    let spins = 0;
    let t0 = performance.now();
    while (Atomics.load(ctrl, GEN) === seen) {
      if ((++spins & 1023) === 0 && performance.now() - t0 > spinMs) {
        Atomics.wait(ctrl, GEN, seen);
        t0 = performance.now();
      }
    }
    seen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, CMD) === 1) break;
    if (index >= Atomics.load(ctrl, WORKERS)) continue;
    const code = Atomics.load(ctrl, KERNEL);
    if (code === ROW.code) {
      rowJob();
      Atomics.notify(rowDone, 0);
      continue;
    }
    const work = works[code];
    if (work) work();
    Atomics.notify(ctrl, DONE);
  }
}
`;

/** Node: worker_threads, started with `eval: true`. */
const NODE_WORKER_SOURCE = `'use strict';
${WORKER_MAIN}
const { parentPort, workerData } = require('node:worker_threads');
// V8 flags are per process, but set it here too in case this isolate checks before instantiating.
retroGemmWorker(workerData, (message) => parentPort.postMessage(message), () => {
  try { require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch (e) {}
});
`;

/** Browsers: a classic Web Worker from a Blob URL; its first message is the job layout. */
const WEB_WORKER_SOURCE = `'use strict';
${WORKER_MAIN}
self.onmessageerror = () => self.postMessage({ error: 'could not receive the kernel modules and shared memory (is the page cross-origin isolated?)' });
self.onmessage = (event) => {
  self.onmessage = null;
  retroGemmWorker(event.data, (message) => self.postMessage(message), () => {});
};
`;

/** A started worker, whichever host made it. */
interface PoolWorker {
  /** Keeps the process alive while held (Node; a no-op in browsers). */
  ref(): void;
  unref(): void;
  terminate(): void;
}

interface NodeWorker {
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
  on(event: string, listener: (value: unknown) => void): void;
}
type NodeWorkerCtor = new (code: string, options: { eval: true; workerData: unknown }) => NodeWorker;

interface WebWorker {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}
type WebWorkerCtor = new (url: string, options?: { name?: string }) => WebWorker;

let webWorkerUrl: string | undefined;

/**
 * Starts one worker on this host with `data` (modules, shared memory, layout); `onMessage` gets
 * its ready/error messages, `onError` a failure to run. Throws where it cannot start.
 */
function startWorker(data: { index: number }, onMessage: (message: unknown) => void, onError: (reason: string) => void): PoolWorker {
  const host = workerHost();
  if (host.kind === 'node') {
    const threads = nodeBuiltin<{ Worker: NodeWorkerCtor }>('node:worker_threads')!;
    const worker = new threads.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
    worker.on('message', onMessage);
    worker.on('error', (error) => onError(error instanceof Error ? error.message : String(error)));
    // After the listeners: adding a 'message' listener re-refs an unref()'d worker.
    worker.unref();
    return { ref: () => worker.ref(), unref: () => worker.unref(), terminate: () => void worker.terminate().catch(() => undefined) };
  }
  if (host.kind === 'web') {
    const WorkerClass = (globalThis as unknown as { Worker: WebWorkerCtor }).Worker;
    webWorkerUrl ??= URL.createObjectURL(new Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new WorkerClass(webWorkerUrl, { name: `retro-gemm-${data.index}` });
    worker.onmessage = (event) => onMessage(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      onError(event.message || 'the Web Worker failed to load');
    };
    // Structured clone: the modules compile once; the memory is shared, not copied.
    worker.postMessage(data);
    return { ref: () => undefined, unref: () => undefined, terminate: () => worker.terminate() };
  }
  throw new Error(host.reason);
}

/**
 * Kernel modules by CTRL.kernel code: [simd, relaxed] GEMMs (relaxed absent where it does not
 * validate), then the non-GEMM SIMD kernels over shared memory, whose row-block jobs run under
 * code ROW_JOB.code (instantiated in a worker on its first such job).
 */
export type KernelModules = [simd: WebAssembly.Module, relaxed: WebAssembly.Module | undefined, rowKernels: WebAssembly.Module];

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readyCount = 0;
  private readonly readyWaiters: Array<() => void> = [];
  private readonly ctrl: Int32Array;
  /** Why workers could not start, if they could not. */
  failure: string | undefined;

  /** `memory` must be shared; `modules` are instantiated over it in every worker. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly modules: KernelModules,
  ) {
    this.ctrl = new Int32Array(memory.buffer, 0, CTRL.size / 4);
    Atomics.store(this.ctrl, CTRL.cmd / 4, 0);
  }

  /** Workers started so far (ready or not). */
  get size(): number {
    return this.workers.length;
  }

  /** Workers whose instances are ready (they may still be asleep). */
  get ready(): number {
    return this.readyCount;
  }

  /** Starts workers until there are `count`; returns at once, they join jobs once ready. */
  grow(count: number): void {
    if (this.failure || this.workers.length >= count) return;
    while (this.workers.length < count) {
      const data = {
        modules: this.modules,
        memory: this.memory,
        index: this.workers.length,
        GEN: CTRL.gen / 4,
        CMD: CTRL.cmd / 4,
        DONE: CTRL.done / 4,
        KERNEL: CTRL.kernel / 4,
        WORKERS: CTRL.workers / 4,
        spinMs: SPIN_MS,
        ROW: ROW_JOB,
      };
      const onMessage = (message: unknown): void => {
        const m = message as { ready?: boolean; error?: string };
        if (m.ready) {
          this.readyCount++;
          if (this.readyCount === this.workers.length) this.readyWaiters.splice(0).forEach((f) => f());
        } else if (m.error) {
          this.fail(`gemm worker could not instantiate the kernel: ${m.error}`);
        }
      };
      try {
        this.workers.push(startWorker(data, onMessage, (reason) => this.fail(`gemm worker failed: ${reason}`)));
      } catch (error) {
        this.fail(`cannot start a gemm worker: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    }
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.readyWaiters.splice(0).forEach((f) => f());
  }

  /** Resolves once every started worker is ready (or one has failed; see `failure`). */
  whenReady(): Promise<void> {
    if (this.readyCount === this.workers.length || this.failure) return Promise.resolve();
    // Unref()'d workers would let the process exit with this promise pending: hold them meanwhile.
    const held = [...this.workers];
    for (const w of held) w.ref();
    return new Promise((resolve) =>
      this.readyWaiters.push(() => {
        for (const w of held) w.unref();
        resolve();
      }),
    );
  }

  /** Wakes the workers for the job the caller has just published. */
  wake(): void {
    Atomics.add(this.ctrl, CTRL.gen / 4, 1);
    Atomics.notify(this.ctrl, CTRL.gen / 4);
  }

  /** Asks workers to exit and terminates them; the pool is unusable afterwards. */
  shutdown(): void {
    Atomics.store(this.ctrl, CTRL.cmd / 4, 1);
    this.wake();
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
    this.failure = 'shut down';
  }
}
