/**
 * Which implementation the cpu backend's non-GEMM hot kernels (Gelu, GeluGrad, Softmax,
 * SoftmaxGrad, LayerNorm, LayerNormGrad, CrossEntropy, CrossEntropyGrad, AdamW, Dropout, and Add of same shapes or a bias row) run:
 * 'wasm-simd' where the runtime validates WebAssembly SIMD, else the plain-JS loops. Decided once;
 * on a runtime with SIMD the wasm path is used and its failures are errors, never a quiet switch
 * to JS. RETRO_CPU_SIMD=0 (environment) or setCpuKernelPath('js') opt out, for comparisons.
 */
import { envVar } from '../gemm/runtime.js';
import { simdKernelsSupported } from './runtime.js';

export type CpuKernelPath = 'wasm-simd' | 'js';

export interface CpuKernelInfo {
  /** The path the kernels run now. */
  path: CpuKernelPath;
  /** Whether this runtime validates the WebAssembly SIMD module. */
  simdAvailable: boolean;
  /** Why `path` was chosen, in words. */
  reason: string;
}

let choice: 'auto' | CpuKernelPath = 'auto';
let active: boolean | undefined;

function autoChoice(): { path: CpuKernelPath; reason: string } {
  if (envVar('RETRO_CPU_SIMD') === '0') return { path: 'js', reason: 'RETRO_CPU_SIMD=0 in the environment' };
  if (!simdKernelsSupported()) return { path: 'js', reason: 'this runtime does not validate WebAssembly SIMD (v128)' };
  return { path: 'wasm-simd', reason: 'WebAssembly SIMD validates on this runtime' };
}

/** The hot check each kernel makes: true when the wasm SIMD path runs. */
export function simdKernelsActive(): boolean {
  active ??= (choice === 'auto' ? autoChoice().path : choice) === 'wasm-simd';
  return active;
}

/** Which path the cpu backend's non-GEMM kernels run, and why. */
export function cpuKernelInfo(): CpuKernelInfo {
  const simdAvailable = simdKernelsSupported();
  if (choice !== 'auto') return { path: choice, simdAvailable, reason: `set by setCpuKernelPath('${choice}')` };
  return { ...autoChoice(), simdAvailable };
}

/**
 * Forces a path ('auto' restores the default choice); for tests and benchmarks. Forcing
 * 'wasm-simd' on a runtime without WebAssembly SIMD throws.
 */
export function setCpuKernelPath(path: 'auto' | CpuKernelPath): void {
  if (path !== 'auto' && path !== 'wasm-simd' && path !== 'js') {
    throw new Error(`setCpuKernelPath: path must be 'auto', 'wasm-simd' or 'js', found ${String(path)}`);
  }
  if (path === 'wasm-simd' && !simdKernelsSupported()) {
    throw new Error("setCpuKernelPath: 'wasm-simd' needs WebAssembly SIMD (v128), which this runtime does not validate");
  }
  choice = path;
  active = undefined;
}

export {
  simdGelu,
  simdGeluGrad,
  simdSoftmax,
  simdSoftmaxGrad,
  simdLayerNorm,
  simdLayerNormGrad,
  simdCrossEntropy,
  simdCrossEntropyGrad,
  simdAdamW,
  simdDropout,
  simdAdd,
  simdAddRow,
  type AdamWHyper,
} from './kernels.js';
