/**
 * Post-LN transformer layers with HF names: `encoder.layer.<i>.{attention, intermediate, output}`.
 */
import { Module, Linear, Tensor, gelu, relu } from '@retro/tensor';
import type { HiddenAct } from './config.js';
import type { BuildContext } from './context.js';
import { BertAttention, BertResidualOutput } from './attention.js';

/** The config's `hidden_act`: x [...] -> [...]. */
export function activation(name: HiddenAct): (x: Tensor) => Tensor {
  return name === 'relu' ? relu : gelu;
}

/** Registers modules under 0, 1, ... so names read `layer.0.…` like torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: readonly M[]) {
    super();
    this.items = items.map((item, index) => this.child(index, item));
  }

  get length(): number {
    return this.items.length;
  }
}

/** `intermediate`: act(dense(x)), [B, L, H] -> [B, L, I]. */
export class BertIntermediate extends Module {
  readonly dense: Linear;
  private readonly act: (x: Tensor) => Tensor;

  constructor(context: BuildContext) {
    super();
    const { config, initGenerator } = context;
    this.dense = this.child('dense', new Linear(config.hiddenSize, config.intermediateSize, { std: config.initializerRange, generator: initGenerator }));
    this.act = activation(config.hiddenAct);
  }

  forward(x: Tensor): Tensor {
    return this.act(this.dense.forward(x));
  }
}

/** One encoder layer: a = LN(attn(x) + x); h = LN(out(act(inter(a))) + a). */
export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;

  constructor(context: BuildContext) {
    super();
    this.attention = this.child('attention', new BertAttention(context));
    this.intermediate = this.child('intermediate', new BertIntermediate(context));
    this.output = this.child('output', new BertResidualOutput(context, context.config.intermediateSize));
  }

  /** hidden [B, L, H], additiveMask [B, 1, 1|L, L] -> [B, L, H]. */
  forward(hidden: Tensor, additiveMask: Tensor | null): Tensor {
    const attended = this.attention.forward(hidden, additiveMask);
    return this.output.forward(this.intermediate.forward(attended), attended);
  }
}

/** `encoder`: the stack of layers. */
export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;

  constructor(context: BuildContext) {
    super();
    this.layer = this.child('layer', new ModuleList(Array.from({ length: context.config.numHiddenLayers }, () => new BertLayer(context))));
  }

  /** hidden [B, L, H] -> every layer's output (n x [B, L, H]); the last is the encoder output. */
  forward(hidden: Tensor, additiveMask: Tensor | null): Tensor[] {
    const outputs: Tensor[] = [];
    let current = hidden;
    for (const layer of this.layer.items) {
      current = layer.forward(current, additiveMask);
      outputs.push(current);
    }
    return outputs;
  }
}
