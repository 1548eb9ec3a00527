import { KERNELS, getBackend, keep, noGrad, runKernel, stateTensor, type Tensor } from '@retro/tensor';
import type { NamedArray } from '../io/safetensors.js';
import { groupByWeightDecay, hfNoDecay, type ParamGroup } from './weight-decay.js';

export interface AdamWConfig {
  /** Peak learning rate; a schedule scales it per step. */
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay for the decayed group (PyTorch/HF default 0; RetroMAE uses 0.01). */
  weightDecay?: number;
  /** Names exempt from weight decay; defaults to HF Trainer's bias/LayerNorm rule. */
  noDecay?: (name: string) => boolean;
}

interface ParamState {
  /** Updates applied to this parameter so far (PyTorch keeps one per parameter). */
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Everything needed to continue exactly: per-parameter step counts and both moments. */
export interface AdamWStateDict {
  /** name -> updates applied so far. */
  steps: Record<string, number>;
  /** `exp_avg.<name>` and `exp_avg_sq.<name>` -> values, the layout of optimizer.safetensors. */
  tensors: Map<string, NamedArray>;
}

/**
 * torch.optim.AdamW (decoupled weight decay, no amsgrad) over named parameters, grouped by
 * weight decay as HF Trainer does. Per parameter and step t (m = v = 0 at first):
 *   p = p (1 - lr wd);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p = p - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 * run by the backend's in-place `AdamW` kernel. Parameters whose `.grad` is null are skipped
 * (their step does not advance), as PyTorch does.
 */
export class AdamW {
  readonly groups: ParamGroup[];
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly params: Map<string, Tensor>;
  private readonly state = new Map<string, ParamState>();

  constructor(namedParameters: ReadonlyArray<readonly [string, Tensor]>, config: AdamWConfig) {
    this.params = new Map();
    for (const [name, tensor] of namedParameters) {
      if (this.params.has(name)) throw new Error(`AdamW: parameter name '${name}' appears twice`);
      if (tensor.dtype !== 'float32') throw new Error(`AdamW: parameter '${name}' is ${tensor.dtype}, expected float32`);
      this.params.set(name, tensor);
    }
    if (!(config.lr >= 0)) throw new Error(`AdamW: lr must be >= 0, got ${config.lr}`);
    this.lr = config.lr;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    for (const [key, value] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(value >= 0 && value < 1)) throw new Error(`AdamW: ${key} must be in [0, 1), got ${value}`);
    }
    this.groups = groupByWeightDecay([...this.params.keys()], config.weightDecay ?? 0, config.noDecay ?? hfNoDecay);
  }

  /** Weight decay applied to `name` (0 for the exempt group). */
  weightDecayOf(name: string): number {
    const group = this.groups.find((g) => g.names.includes(name));
    if (!group) throw new Error(`AdamW.weightDecayOf: no parameter '${name}'`);
    return group.weightDecay;
  }

  /**
   * One update of every parameter that has a gradient, at learning rate `lr` (default: config lr).
   * `gradScale` (default 1) updates with gradScale * grad instead of grad, as if every gradient had
   * been scaled first: how the training loop applies global-norm clipping without rewriting them.
   */
  step(lr = this.lr, options: { gradScale?: number } = {}): void {
    const gradScale = options.gradScale ?? 1;
    if (!(gradScale > 0 && Number.isFinite(gradScale))) throw new Error(`AdamW.step: gradScale must be a finite number > 0, got ${gradScale}`);
    const backend = getBackend().name;
    noGrad(() => {
      for (const group of this.groups) {
        for (const name of group.names) {
          const param = this.params.get(name)!;
          const grad = param.grad;
          if (!grad) continue;
          if (grad.size !== param.size) {
            throw new Error(`AdamW.step: gradient of '${name}' has ${grad.size} elements, parameter has ${param.size}`);
          }
          // The kernel writes in place; storage on another backend would be copied and the update lost.
          if (param.info.backend !== backend) param.toActiveBackend();
          const state = this.stateOf(name, param);
          if (state.expAvg.info.backend !== backend) state.expAvg.toActiveBackend();
          if (state.expAvgSq.info.backend !== backend) state.expAvgSq.toActiveBackend();
          state.step += 1;
          runKernel(KERNELS.AdamW, [param.info, grad.info, state.expAvg.info, state.expAvgSq.info], {
            lr,
            beta1: this.beta1,
            beta2: this.beta2,
            eps: this.eps,
            weightDecay: group.weightDecay,
            step: state.step,
            gradScale,
          });
        }
      }
    });
  }

  /** Drops every parameter's gradient (the next backward starts from zero). */
  zeroGrad(): void {
    for (const param of this.params.values()) param.zeroGrad();
  }

  private stateOf(name: string, param: Tensor): ParamState {
    let state = this.state.get(name);
    if (!state) {
      // The moments live as long as the optimizer, past the scope of the update that made them;
      // stateTensor places them where the AdamW kernel updates them in place (cpu: wasm memory).
      state = { step: 0, expAvg: keep(stateTensor([...param.shape])), expAvgSq: keep(stateTensor([...param.shape])) };
      this.state.set(name, state);
    }
    return state;
  }

  /**
   * Both moments of every parameter with state: on an asynchronous device, `await
   * readTensors(optimizer.stateTensors())` brings them to the host in one transfer so that
   * `stateDict()` can then read them synchronously.
   */
  stateTensors(): Tensor[] {
    return [...this.state.values()].flatMap((state) => [state.expAvg, state.expAvgSq]);
  }

  /** A copy of the optimizer state, named as optimizer.safetensors stores it. */
  stateDict(): AdamWStateDict {
    const steps: Record<string, number> = {};
    const tensors = new Map<string, NamedArray>();
    for (const [name, state] of this.state) {
      steps[name] = state.step;
      tensors.set(`exp_avg.${name}`, { shape: [...state.expAvg.shape], data: state.expAvg.toFloat32Array() });
      tensors.set(`exp_avg_sq.${name}`, { shape: [...state.expAvgSq.shape], data: state.expAvgSq.toFloat32Array() });
    }
    return { steps, tensors };
  }

  /**
   * Replaces the state with `dict` (from `stateDict()` or a checkpoint). Every entry must name a
   * parameter of this optimizer with the same shape; `source` names the file in errors.
   */
  loadStateDict(dict: AdamWStateDict, source = 'optimizer state'): void {
    const next = new Map<string, ParamState>();
    for (const [name, step] of Object.entries(dict.steps)) {
      const param = this.params.get(name);
      if (!param) throw new Error(`AdamW.loadStateDict(${source}): state for '${name}', which is not a parameter of this model`);
      if (!Number.isInteger(step) || step < 0) throw new Error(`AdamW.loadStateDict(${source}): step of '${name}' is ${step}, expected a non-negative integer`);
      const moment = (key: string): Tensor => {
        const entry = dict.tensors.get(`${key}.${name}`);
        if (!entry) throw new Error(`AdamW.loadStateDict(${source}): missing tensor '${key}.${name}'`);
        if (entry.shape.length !== param.shape.length || entry.shape.some((d, i) => d !== param.shape[i])) {
          throw new Error(`AdamW.loadStateDict(${source}): '${key}.${name}' has shape [${entry.shape.join(', ')}], parameter has [${param.shape.join(', ')}]`);
        }
        if (entry.data.length !== param.size) {
          throw new Error(`AdamW.loadStateDict(${source}): '${key}.${name}' holds ${entry.data.length} values for shape [${entry.shape.join(', ')}] (${param.size} elements)`);
        }
        // stateTensor copies the values itself
        return keep(stateTensor([...param.shape], entry.data instanceof Float32Array ? entry.data : Float32Array.from(entry.data)));
      };
      next.set(name, { step, expAvg: moment('exp_avg'), expAvgSq: moment('exp_avg_sq') });
    }
    const stray = [...dict.tensors.keys()].filter((key) => {
      const name = key.replace(/^exp_avg(_sq)?\./, '');
      return key === name || !(name in dict.steps);
    });
    if (stray.length > 0) throw new Error(`AdamW.loadStateDict(${source}): tensors without a step entry: ${stray.slice(0, 5).join(', ')}`);
    this.state.clear();
    for (const [name, state] of next) this.state.set(name, state);
  }
}
