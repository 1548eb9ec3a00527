/**
 * Which gpu.js mode the backend runs in, and why a mode cannot start. Modes are probed by
 * building a tiny kernel and checking its values, so "starts" means "computes single-precision
 * floats here", not merely "gpu.js constructed".
 */
import { createGpu, kernelClassMode, type GpujsInstance } from './lib.js';

/** gpu.js modes this backend knows. `webgpu` is listed so that asking for it explains itself. */
export const GPUJS_MODES = ['headlessgl', 'webgl2', 'webgl', 'webgpu', 'webasm', 'cpu'] as const;
export type GpujsMode = (typeof GPUJS_MODES)[number];
/** A request: a concrete mode, or 'gpu' = the best real-GPU mode (GL) that starts. */
export type GpujsModeRequest = GpujsMode | 'gpu';

export const GL_MODES: readonly GpujsMode[] = ['headlessgl', 'webgl2', 'webgl'];
/** Default preference when nothing is requested: GPU modes first, then SIMD wasm, then JS. */
export const DEFAULT_ORDER: readonly GpujsMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

export function isGlMode(mode: GpujsMode): boolean {
  return GL_MODES.includes(mode);
}

export function parseModeRequest(value: string, where: string): GpujsModeRequest {
  const v = value.trim().toLowerCase();
  if (v === 'gpu' || (GPUJS_MODES as readonly string[]).includes(v)) return v as GpujsModeRequest;
  throw new Error(`${where}: unknown gpu.js mode '${value}'; expected one of gpu, ${GPUJS_MODES.join(', ')}`);
}

export interface StartedMode {
  mode: GpujsMode;
  gpu: GpujsInstance;
  /** Largest texture side (GL modes); Infinity where outputs are host arrays. */
  maxTextureSize: number;
  simd: boolean | null;
}

const HINTS: Partial<Record<GpujsMode, string>> = {
  headlessgl: "headless-gl needs the optional native 'gl' package and a display (an X server or xvfb)",
  webgl2: 'needs a browser (or OffscreenCanvas worker) with WebGL2',
  webgl: 'needs a browser (or OffscreenCanvas worker) with WebGL',
};

/**
 * Starts `mode` or throws an Error saying why not. Every successful start has run a probe
 * kernel whose single-precision result was checked.
 */
export function startMode(mode: GpujsMode): StartedMode {
  if (mode === 'webgpu') {
    throw new Error(
      "gpu.js mode 'webgpu' starts asynchronously (WebGPU hands out its device through a Promise): select it with " +
        "RETRO_GPUJS_MODE=webgpu or registerGpujsBackend({ mode: 'webgpu' }) and `await setBackendAsync('gpujs')`",
    );
  }
  let gpu: GpujsInstance;
  try {
    gpu = createGpu(mode);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`gpu.js mode '${mode}' is not supported here (${reason})${HINTS[mode] ? `: ${HINTS[mode]}` : ''}`);
  }
  const actual = kernelClassMode(gpu.Kernel);
  if (actual !== mode) {
    gpu.destroy();
    throw new Error(`gpu.js mode '${mode}' resolved to kernel class '${String(actual)}'`);
  }
  const features = gpu.Kernel.features ?? {};
  if (isGlMode(mode) && (features.isFloatRead === false || features.isTextureFloat === false)) {
    gpu.destroy();
    throw new Error(`gpu.js mode '${mode}' has no float textures here; values would be packed into 8-bit channels`);
  }
  try {
    probe(gpu, mode);
  } catch (error) {
    gpu.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`gpu.js mode '${mode}' failed its probe kernel: ${reason}`);
  }
  return {
    mode,
    gpu,
    maxTextureSize: isGlMode(mode) ? (features.maxTextureSize ?? 4096) : Infinity,
    simd: mode === 'webasm' ? Boolean(gpu.Kernel.isSIMDSupported) : null,
  };
}

/** Runs one kernel whose exact f32 result betrays 8-bit packing, a CPU fallback or a dead context. */
function probe(gpu: GpujsInstance, mode: GpujsMode): void {
  const kernel = gpu.createKernel('function(a) { return a[this.thread.x] * 0.5 + this.constants.c; }', {
    output: [4],
    constants: { c: 0.001 },
    pipeline: isGlMode(mode),
    immutable: true,
    precision: 'single',
  });
  const input = new Float32Array([1, 3.25, 1.0001, -7]);
  let result = kernel(input) as unknown;
  const ran = kernelClassMode(kernel.kernel.constructor);
  if (ran !== mode) {
    throw new Error(`gpu.js ran it on '${ran}': ${kernel.kernel.fallbackReason ?? 'no reason given'}`);
  }
  if (result && typeof (result as { toArray?: unknown }).toArray === 'function') {
    const texture = result as { toArray(): unknown; delete(): void };
    result = texture.toArray();
    texture.delete();
  }
  const values = Array.from(result as ArrayLike<number>);
  for (let i = 0; i < 4; i++) {
    const expected = Math.fround(Math.fround(input[i] * 0.5) + Math.fround(0.001));
    if (!(Math.abs(values[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)))) {
      throw new Error(`cell ${i} came back ${values[i]}, expected ${expected}`);
    }
  }
  kernel.destroy();
}

export interface ModeChoice {
  started: StartedMode;
  requested: GpujsModeRequest | 'default';
  /** Why each mode tried before the chosen one did not start. */
  skipped: Record<string, string>;
}

/**
 * Resolves a request to a started mode. A concrete request either starts or throws (never a
 * silent switch); 'gpu' tries the GL modes; 'default' takes the best mode that starts.
 */
export function chooseMode(request: GpujsModeRequest | 'default'): ModeChoice {
  if (request !== 'gpu' && request !== 'default') {
    return { started: startMode(request), requested: request, skipped: {} };
  }
  const order = request === 'gpu' ? GL_MODES : DEFAULT_ORDER;
  const skipped: Record<string, string> = {};
  for (const mode of order) {
    try {
      return { started: startMode(mode), requested: request, skipped };
    } catch (error) {
      skipped[mode] = error instanceof Error ? error.message : String(error);
    }
  }
  const reasons = Object.values(skipped).join('; ');
  throw new Error(`no gpu.js ${request === 'gpu' ? 'GPU (GL) ' : ''}mode starts here: ${reasons}`);
}

/** Which modes start here, each with 'ok' or the reason it does not (probes every mode). */
export function probeGpujsModes(): Record<GpujsMode, string> {
  const result = {} as Record<GpujsMode, string>;
  for (const mode of GPUJS_MODES) {
    try {
      startMode(mode).gpu.destroy();
      result[mode] = 'ok';
    } catch (error) {
      result[mode] = error instanceof Error ? error.message : String(error);
    }
  }
  return result;
}
