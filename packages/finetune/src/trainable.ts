/**
 * The contrastive objective as @retro/train's loop drives it (its `Trainable`, satisfied
 * structurally): `losses(batch)` returns `{ loss }` and the loop does backward, clipping, AdamW,
 * checkpoints, resume and metrics exactly as in pretraining.
 *
 * With gradient caching (`chunkSize` smaller than the batch) `losses` back-propagates into the
 * parameters itself, sub-batch by sub-batch (see grad-cache.ts), and returns a loss whose graph
 * ends at detached embedding leaves: the loop's own `backward()` on it then reaches no parameter.
 */
import type { MaskedLMModel } from '@retro/bert';
import type { Tensor } from '@retro/tensor';
import type { ContrastiveBatch } from './data/batches.js';
import type { TextEncoder } from './encoder.js';
import { gradCacheStep } from './grad-cache.js';
import { cosent } from './losses/cosent.js';
import { infoNce } from './losses/infonce.js';

export interface ContrastiveLossOptions {
  /** InfoNCE temperature (bge: 0.02). */
  temperature: number;
  /** InfoNCE in both directions. */
  symmetric?: boolean;
  /** CoSENT lambda (default 20). */
  cosentScale?: number;
}

export interface ContrastiveTrainableOptions extends ContrastiveLossOptions {
  /** Texts per encoder pass with gradient caching; undefined or >= the batch: no caching. */
  chunkSize?: number;
  /** The loop's accumulation (cached gradients are scaled by its inverse, as the loop scales losses). Default 1. */
  accumulation?: number;
}

/** The batch's texts in the lists the loss combines, and the loss of their embeddings. */
function plan(batch: ContrastiveBatch, options: ContrastiveLossOptions): { lists: string[][]; loss: (e: Tensor[]) => Tensor } {
  if (batch.kind === 'triples') {
    return {
      lists: [batch.queries, batch.passages],
      loss: ([q, p]) => infoNce(q, p, { temperature: options.temperature, symmetric: options.symmetric }),
    };
  }
  return { lists: [batch.sentences1, batch.sentences2], loss: ([a, b]) => cosent(a, b, batch.scores, { scale: options.cosentScale }) };
}

/** One-element losses of a micro-batch; `loss` is back-propagated by the loop. */
export interface ContrastiveLosses {
  loss: Tensor;
  [name: string]: Tensor;
}

export class ContrastiveTrainable {
  readonly model: MaskedLMModel;

  constructor(
    readonly encoder: TextEncoder,
    readonly options: ContrastiveTrainableOptions,
  ) {
    this.model = encoder.model;
  }

  /** Loss of one batch ([]), computed whole or through the gradient cache. */
  losses(batch: ContrastiveBatch): ContrastiveLosses {
    const { lists, loss } = plan(batch, this.options);
    const size = Math.max(...lists.map((l) => l.length));
    const chunk = this.options.chunkSize;
    if (chunk === undefined || chunk >= size) {
      return { loss: loss(lists.map((texts) => this.encoder.embed(texts))) };
    }
    const value = gradCacheStep((texts) => this.encoder.embed(texts), lists, loss, {
      chunkSize: chunk,
      generator: this.model.generator,
      gradScale: 1 / (this.options.accumulation ?? 1),
    });
    return { loss: value };
  }

  /** Only the encoder body trains; the MLM head (if any) is carried along unchanged. */
  namedParameters(): Array<[string, Tensor]> {
    const prefix = `${this.model.prefix}.`;
    return this.model.namedParameters().filter(([name]) => name.startsWith(prefix));
  }

  train(mode?: boolean): unknown {
    return this.model.train(mode);
  }

  savePretrained(dir: string): void {
    this.model.savePretrained(dir);
  }

  loadPretrained(dir: string): void {
    this.model.loadPretrained(dir);
  }
}
