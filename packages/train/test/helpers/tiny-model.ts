/**
 * Tiny stand-ins for RetroMAEForPretraining and the data loader, built only from @retro/tensor,
 * so the loop can be tested without the real model. The model has every source of randomness a
 * real run has: seeded init, dropout, random masks and a shuffled data order.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dropout, Embedding, LayerNorm, Linear, Module, add, crossEntropy, matmul, tensor, zeros, type Generator, type Tensor } from '@retro/tensor';
import { encodeSafetensors, type BatchSource, type StepLosses, type TrainerRng } from '../../src/index.js';

export const VOCAB = 24;
export const MASK_ID = 1;

export interface TinyBatch {
  /** [B, L] encoder ids (masked), decoder ids (original), labels with -100 at unmasked places. */
  inputIds: Int32Array;
  decoderIds: Int32Array;
  labels: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  length: number;
  /** Real tokens (every position: no padding here). */
  tokens: number;
  /** Test hook: forward returns NaN loss for this batch. */
  poison?: boolean;
}

/** Encoder: embedding -> dense -> LayerNorm -> dropout -> tied head; "decoder": a second dense over the original ids. */
export class TinyRetroModel extends Module {
  readonly embeddings: Embedding;
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly decoderDense: Linear;
  readonly headBias: Tensor;
  private readonly drop: Dropout;

  constructor(rng: TrainerRng, readonly options: { hidden?: number; dropout?: number; mlmOnly?: boolean } = {}) {
    super();
    const hidden = options.hidden ?? 8;
    const generator: Generator = rng.stream('init');
    this.embeddings = this.child('embeddings', new Embedding(VOCAB, hidden, null, { std: 0.5, generator }));
    this.dense = this.child('dense', new Linear(hidden, hidden, { std: 0.3, generator }));
    this.norm = this.child('LayerNorm', new LayerNorm(hidden, 1e-5));
    this.decoderDense = this.child('decoder', new Linear(hidden, hidden, { std: 0.3, generator }));
    this.headBias = this.parameter('head.bias', zeros([VOCAB]));
    this.drop = this.child('dropout', new Dropout(options.dropout ?? 0.1, () => rng.dropout));
  }

  private head(h: Tensor): Tensor {
    return add(matmul(h, this.embeddings.weight, { transB: true }), this.headBias);
  }

  /** The objective's step: scalar losses of one batch. */
  losses(batch: TinyBatch): StepLosses {
    const shape = [batch.batchSize, batch.length];
    const ids = tensor(batch.inputIds, shape, { dtype: 'int32' });
    const labels = tensor(batch.labels, [batch.batchSize * batch.length], { dtype: 'int32' });
    const hidden = this.drop.forward(this.norm.forward(this.dense.forward(this.embeddings.forward(ids)).gelu()));
    const encoderLoss = crossEntropy(this.head(hidden).reshape([batch.batchSize * batch.length, VOCAB]), labels);
    const poisoned = batch.poison ? encoderLoss.mul(Number.NaN) : encoderLoss;
    if (this.options.mlmOnly) return { loss: poisoned };
    const original = tensor(batch.decoderIds, shape, { dtype: 'int32' });
    const decoded = this.decoderDense.forward(add(this.embeddings.forward(original), hidden)).tanh();
    const decoderLoss = crossEntropy(this.head(decoded).reshape([batch.batchSize * batch.length, VOCAB]), tensor(batch.decoderIds, [batch.batchSize * batch.length], { dtype: 'int32' }));
    return { loss: add(poisoned, decoderLoss), encoderLoss: poisoned, decoderLoss };
  }

  /** model.safetensors (every parameter by its module name) + config.json. */
  savePretrained(dir: string): void {
    const tensors = new Map(this.namedParameters().map(([name, t]) => [name, { shape: [...t.shape], data: t.toFloat32Array() }]));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'tiny-retro', vocab_size: VOCAB, ...this.options }));
  }
}

interface TinyBatchesState {
  epoch: number;
  position: number;
  order: number[];
}

/**
 * `count` fixed sequences (made from a constant seed, not the run's rng), visited in an order
 * reshuffled each epoch with rng.stream('data'), masked 30% at `next()` with rng.stream('masks').
 * `poisonAt`: the batch number (0-based, across epochs) whose forward yields NaN.
 */
export class TinyBatches implements BatchSource<TinyBatch> {
  private readonly sequences: Int32Array[];
  private epoch = 0;
  private position = 0;
  private order: number[] = [];
  private served = 0;

  constructor(
    private readonly rng: TrainerRng,
    private readonly options: { count?: number; batchSize?: number; length?: number; epochs?: number; poisonAt?: number } = {},
  ) {
    const count = options.count ?? 10;
    const length = options.length ?? 6;
    let s = 12345;
    const next = (): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s >>> 8;
    };
    this.sequences = Array.from({ length: count }, () => Int32Array.from({ length }, () => 2 + (next() % (VOCAB - 2))));
    this.shuffle();
  }

  private shuffle(): void {
    this.order = this.sequences.map((_, i) => i);
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = this.rng.stream('data').randint(i + 1);
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }

  next(): TinyBatch | undefined {
    const batchSize = this.options.batchSize ?? 2;
    const length = this.options.length ?? 6;
    const rows: Int32Array[] = [];
    while (rows.length < batchSize) {
      if (this.position >= this.order.length) {
        if (this.epoch + 1 >= (this.options.epochs ?? Number.POSITIVE_INFINITY)) return undefined;
        this.epoch += 1;
        this.position = 0;
        this.shuffle();
      }
      rows.push(this.sequences[this.order[this.position++]]);
    }
    const decoderIds = new Int32Array(batchSize * length);
    rows.forEach((row, b) => decoderIds.set(row, b * length));
    const inputIds = Int32Array.from(decoderIds);
    const labels = new Int32Array(decoderIds.length).fill(-100);
    for (let i = 0; i < inputIds.length; i++) {
      if (this.rng.stream('masks').random() < 0.3) {
        labels[i] = inputIds[i];
        inputIds[i] = MASK_ID;
      }
    }
    const poison = this.served === this.options.poisonAt;
    this.served++;
    return { inputIds, decoderIds, labels, attentionMask: new Int32Array(inputIds.length).fill(1), batchSize, length, tokens: inputIds.length, poison };
  }

  state(): TinyBatchesState & { served: number } {
    return { epoch: this.epoch, position: this.position, order: [...this.order], served: this.served };
  }

  restore(state: unknown): void {
    const s = state as TinyBatchesState & { served: number };
    // A batch source checks the position it is given, as BatchLoader.restore does (the fuzz suite feeds damaged ones).
    for (const key of ['epoch', 'position', 'served'] as const) {
      if (!Number.isSafeInteger(s?.[key]) || s[key] < 0) throw new Error(`TinyBatches.restore: dataLoader.${key} is ${JSON.stringify(s?.[key])}, expected an integer >= 0`);
    }
    if (!Array.isArray(s.order) || !s.order.every((i) => Number.isInteger(i) && i >= 0 && i < this.sequences.length)) {
      throw new Error(`TinyBatches.restore: dataLoader.order is not a permutation of 0..${this.sequences.length - 1}`);
    }
    this.epoch = s.epoch;
    this.position = s.position;
    this.order = [...s.order];
    this.served = s.served;
  }
}
