/**
 * The slice of gpu.js (2.24.x) this backend talks to, typed locally: the package's own
 * typings predate its webasm/webgpu modes and describe results as nested number arrays.
 */
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';

export interface GpujsKernelInstance {
  readonly constructor: { readonly mode?: string };
  fallbackReason?: string | null;
  /** webasm only: 'simd', 'scalar', 'simd+scalar-tail' or 'threaded'. */
  _lastRunPath?: string | null;
}

/** What `gpu.createKernel` returns: callable, with the built kernel behind `.kernel`. */
export interface GpujsKernel {
  (...args: unknown[]): unknown;
  readonly kernel: GpujsKernelInstance;
  destroy(removeCanvasReferences?: boolean): void;
}

export interface GpujsKernelClass {
  readonly mode: string;
  readonly isSupported: boolean;
  readonly features?: { readonly maxTextureSize?: number; readonly isFloatRead?: boolean; readonly isTextureFloat?: boolean };
  readonly isSIMDSupported?: boolean;
  readonly isThreadsSupported?: boolean;
}

export interface GpujsInstance {
  readonly Kernel: GpujsKernelClass;
  createKernel(source: string, settings: Record<string, unknown>): GpujsKernel;
  destroy(): void;
}

/** `new GPU({ mode })`; gpu.js throws when the mode's kernel class is unsupported here. */
export function createGpu(mode: string): GpujsInstance {
  const Ctor = GPU as unknown as new (settings: { mode: string }) => GpujsInstance;
  return new Ctor({ mode });
}

/**
 * The mode a gpu.js kernel class runs in. gpu.js's GLKernel reports mode 'gpu' for all three GL
 * classes (HeadlessGLKernel, WebGL2Kernel, WebGLKernel), so those are told apart by identity.
 */
export function kernelClassMode(Kernel: unknown): string {
  if (Kernel === HeadlessGLKernel) return 'headlessgl';
  if (Kernel === WebGL2Kernel) return 'webgl2';
  if (Kernel === WebGLKernel) return 'webgl';
  return String((Kernel as { mode?: string } | undefined)?.mode);
}
