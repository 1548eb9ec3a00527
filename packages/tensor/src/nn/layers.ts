import { Tensor } from '../tensor.js';
import { Generator } from '@retro/random';
import { matmul, embedding, layerNorm, dropout, zeros, ones, randn, fromHostArray } from '../ops/index.js';
import { formatShape } from '../shape.js';
import { Module } from './module.js';

export interface InitOptions {
  /** Std of the normal init of weights (HF initializer_range). */
  std?: number;
  generator?: Generator;
}

/** y = x W^T + b, torch layout: weight [out, in], bias [out]. x [..., in] -> [..., out]. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: InitOptions & { bias?: boolean } = {}) {
    super();
    this.weight = this.parameter('weight', randn([outFeatures, inFeatures], { std: options.std ?? 0.02, generator: options.generator ?? new Generator(0) }));
    this.bias = options.bias === false ? null : this.parameter('bias', zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} -> ${this.outFeatures}): input ${formatShape(x.shape)} has last dim ${x.shape[x.rank - 1]}, expected ${this.inFeatures}`);
    }
    // One kernel: the bias rides in the product's epilogue (its gradient: column sums of dy).
    return matmul(x, this.weight, { transB: true, bias: this.bias ?? undefined });
  }
}

/** torch.nn.LayerNorm over the last axis: weight (gamma) [H], bias (beta) [H]. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly hidden: number, readonly eps = 1e-12) {
    super();
    this.weight = this.parameter('weight', ones([hidden]));
    this.bias = this.parameter('bias', zeros([hidden]));
  }

  /** x [..., H] -> [..., H]. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** torch.nn.Embedding: weight [V, H]; lookups of paddingIdx get no gradient. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, readonly paddingIdx: number | null = null, options: InitOptions = {}) {
    super();
    let weight = randn([numEmbeddings, dim], { std: options.std ?? 0.02, generator: options.generator ?? new Generator(0) });
    if (paddingIdx !== null) {
      // HF zeroes the padding row at init. A new tensor, the drawn one freed (assign would leave
      // its device buffer to GC).
      const values = weight.toFloat32Array();
      values.fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
      weight.dispose();
      weight = fromHostArray(values, [numEmbeddings, dim]);
    }
    this.weight = this.parameter('weight', weight);
  }

  /** ids int32 [...S] -> [...S, H]. */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids, { paddingIdx: this.paddingIdx });
  }
}

/** Inverted dropout driven by an explicit generator; identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p: number, private readonly generator: () => Generator) {
    super();
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { generator: this.generator(), training: this.training });
  }

  /**
   * The seed `forward` would draw for its mask, drawn now (null where forward would be the
   * identity and draw nothing: eval mode or p = 0), for kernels that apply this dropout inside
   * them (FusedAttention), so the generator advances exactly as with `forward`.
   */
  drawSeed(): number | null {
    if (!this.training || this.p === 0) return null;
    return this.generator().nextUint32();
  }
}
