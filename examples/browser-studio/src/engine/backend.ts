/**
 * Picks the tensor backend for this page, best first: WebGPU (through the gpujs backend, where
 * its WebGPU mode exists), WebGL2 (gpujs) on a hardware GPU, else the cpu backend (WebAssembly
 * SIMD, on every core through Web Workers when the page is cross-origin isolated, else on one thread
 * with the reason). Every candidate that was tried and not used is reported with its reason, so
 * nothing falls back silently.
 */
import { gemmInfo, gemmReady, registerGpujsBackend, setBackend, setBackendAsync } from '@retro/tensor';
import type { BackendAttempt, BackendRequest } from '../protocol.js';

export interface BackendChoice {
  active: string;
  attempts: BackendAttempt[];
  isolated: boolean;
  threads: number;
}

const registered = new Set<string>();

/** The WebGL2 renderer string, or why there is none (OffscreenCanvas works in workers). */
function webgl2Renderer(): { renderer?: string; reason?: string } {
  if (typeof OffscreenCanvas === 'undefined') return { reason: 'no OffscreenCanvas in this context' };
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
  if (!gl) return { reason: 'the page cannot open a WebGL2 context' };
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { renderer };
}

/** A software rasteriser runs "GPU" kernels on the CPU, far slower than the wasm backend (docs/browser-check.md). */
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

/** Registers gpujs in `mode` under its own name and makes it current (WebGPU starts asynchronously). */
async function tryGpujs(mode: 'webgpu' | 'webgl2'): Promise<string> {
  const name = `gpujs-${mode}`;
  if (!registered.has(name)) {
    registerGpujsBackend({ name, mode });
    registered.add(name);
  }
  await setBackendAsync(name);
  return name;
}

/** The WebGPU adapter's description, or why there is none / why auto skips it. */
async function webGpuAdapter(): Promise<{ description?: string; software?: boolean; reason?: string }> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { reason: 'navigator.gpu is missing (no WebGPU in this browser or context)' };
  const adapter = (await gpu.requestAdapter().catch(() => null)) as { info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null;
  if (!adapter) return { reason: 'navigator.gpu.requestAdapter() found no adapter' };
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter((x) => typeof x === 'string' && x.length > 0).join(' ') || 'unnamed adapter';
  const software = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true || SOFTWARE_GL.test(description);
  return { description, software };
}

export async function chooseBackend(request: BackendRequest): Promise<BackendChoice> {
  const attempts: BackendAttempt[] = [];
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  const done = (active: string): BackendChoice => ({ active, attempts, isolated, threads: active === 'cpu' ? gemmInfo().threads : 0 });

  if (request === 'auto' || request === 'webgpu') {
    const { description, software, reason } = await webGpuAdapter();
    if (!description) {
      attempts.push({ name: 'gpujs-webgpu', ok: false, detail: reason! });
    } else if (request === 'auto' && software) {
      attempts.push({ name: 'gpujs-webgpu', ok: false, detail: `software adapter (${description}): the cpu backend is faster; pick WebGPU to use it anyway` });
    } else {
      try {
        const name = await tryGpujs('webgpu');
        attempts.push({ name, ok: true, detail: `WebGPU through the gpujs backend on ${description}` });
        return done(name);
      } catch (error) {
        attempts.push({ name: 'gpujs-webgpu', ok: false, detail: (error as Error).message });
      }
    }
    if (request === 'webgpu') throw new BackendError('WebGPU was asked for but does not start here', attempts);
  }
  if (request === 'auto' || request === 'webgl2') {
    const { renderer, reason } = webgl2Renderer();
    if (!renderer) {
      attempts.push({ name: 'gpujs-webgl2', ok: false, detail: reason! });
    } else if (request === 'auto' && SOFTWARE_GL.test(renderer)) {
      attempts.push({ name: 'gpujs-webgl2', ok: false, detail: `software renderer (${renderer}): the cpu backend is faster; pick WebGL2 to use it anyway` });
    } else {
      try {
        const name = await tryGpujs('webgl2');
        attempts.push({ name, ok: true, detail: `WebGL2 on ${renderer}` });
        return done(name);
      } catch (error) {
        attempts.push({ name: 'gpujs-webgl2', ok: false, detail: (error as Error).message });
      }
    }
    if (request === 'webgl2') throw new BackendError('WebGL2 was asked for but does not start here', attempts);
  }
  setBackend('cpu');
  // Start the helper threads now, so a worker that cannot start is reported here, not mid-run.
  let failure = '';
  await gemmReady().catch((error: Error) => (failure = `; helper threads failed: ${error.message}`));
  const gemm = gemmInfo();
  const threads =
    gemm.workers === 'web-workers'
      ? `${gemm.threads} thread${gemm.threads === 1 ? '' : 's'} (Web Workers over a shared WebAssembly.Memory; the page is cross-origin isolated)`
      : `1 thread (${gemm.singleThreadReason ?? 'single-threaded'})${failure}`;
  attempts.push({ name: 'cpu', ok: true, detail: `WebAssembly ${gemm.relaxedSimd ? 'relaxed SIMD' : gemm.simd ? 'SIMD' : '(no SIMD)'}, ${threads}` });
  return done('cpu');
}

export class BackendError extends Error {
  constructor(
    message: string,
    readonly attempts: BackendAttempt[],
  ) {
    super(`${message}: ${attempts.map((a) => `${a.name}: ${a.detail}`).join('; ')}`);
  }
}
