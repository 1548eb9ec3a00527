/**
 * Resumable batch streams over in-memory examples. Order: a permutation per epoch drawn from
 * (seed, epoch); choices inside an example (which positive, which hard negatives) from
 * (seed, epoch, example index). The state is just {epoch, position}: a resumed run recomputes
 * what it needs instead of replaying earlier draws. The last partial batch of an epoch is
 * dropped so every update sees the same number of in-batch negatives.
 */
import { Generator, deriveSeed, permutation } from '@retro/data';
import type { ScoredPair, Triple } from './readers.js';

/** B queries and B * group passages: row b*group is query b's positive, the next group-1 its hard negatives. */
export interface TripleBatch {
  kind: 'triples';
  /** Real tokens of every text, for tokens/s (the loop's CountedBatch). */
  tokens: number;
  queries: string[];
  passages: string[];
  group: number;
}

/** B scored pairs (CoSENT). */
export interface PairBatch {
  kind: 'pairs';
  tokens: number;
  sentences1: string[];
  sentences2: string[];
  scores: number[];
}

export type ContrastiveBatch = TripleBatch | PairBatch;

export interface StreamState {
  epoch: number;
  /** Examples of this epoch's order already consumed. */
  position: number;
}

const TAG_ORDER = 1;
const TAG_EXAMPLE = 2;

/** Tokens of one text ([CLS] and [SEP] included), e.g. from the encoder's tokenizer. */
export type TokenCounter = (text: string) => number;

/** @retro/train's BatchSource, structurally (objectives do not import the loop). */
abstract class ShuffledStream<T, B> {
  private epoch = 0;
  private position = 0;
  private order: Int32Array;

  constructor(
    protected readonly items: readonly T[],
    protected readonly batchSize: number,
    protected readonly seed: number,
    private readonly what: string,
    protected readonly countTokens: TokenCounter,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${what}: batchSize must be a positive integer, got ${batchSize}`);
    if (items.length < batchSize) throw new Error(`${what}: ${items.length} examples cannot fill one batch of ${batchSize}`);
    this.order = this.orderOf(0);
  }

  private orderOf(epoch: number): Int32Array {
    return permutation(this.items.length, new Generator(deriveSeed(this.seed, TAG_ORDER, epoch)));
  }

  protected abstract build(examples: Array<{ item: T; rng: Generator }>): B;

  next(): B | undefined {
    if (this.position + this.batchSize > this.items.length) {
      this.epoch += 1;
      this.position = 0;
      this.order = this.orderOf(this.epoch);
    }
    const examples = [];
    for (let k = 0; k < this.batchSize; k++) {
      const index = this.order[this.position + k];
      examples.push({ item: this.items[index], rng: new Generator(deriveSeed(this.seed, TAG_EXAMPLE, this.epoch, index)) });
    }
    this.position += this.batchSize;
    return this.build(examples);
  }

  state(): StreamState {
    return { epoch: this.epoch, position: this.position };
  }

  restore(state: unknown): void {
    const s = state as Partial<StreamState> | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.position) || s.epoch! < 0 || s.position! < 0 || s.position! > this.items.length) {
      throw new Error(`${this.what}.restore: expected {epoch, position} with 0 <= position <= ${this.items.length}, found ${JSON.stringify(state)}`);
    }
    this.epoch = s.epoch!;
    this.position = s.position!;
    this.order = this.orderOf(this.epoch);
  }
}

/** `count` distinct draws from `pool` (with repeats only when the pool is smaller), FlagEmbedding's sampling. */
function sample(pool: readonly string[], count: number, rng: Generator): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const order = permutation(pool.length, rng);
    for (let i = 0; i < order.length && out.length < count; i++) out.push(pool[order[i]]);
  }
  return out;
}

export interface TripleStreamOptions {
  batchSize: number;
  countTokens: TokenCounter;
  /** Passages per query: 1 positive + group-1 hard negatives (1 = in-batch negatives only). */
  group: number;
  seed: number;
  /** Prepended to every query (bge: "为这个句子生成表示以用于检索相关文章："). */
  queryInstruction?: string;
}

/** Triples -> TripleBatch: one random positive and group-1 random listed negatives per query. */
export class TripleStream extends ShuffledStream<Triple, TripleBatch> {
  private readonly group: number;
  private readonly instruction: string;

  constructor(triples: readonly Triple[], options: TripleStreamOptions) {
    super(triples, options.batchSize, options.seed, 'TripleStream', options.countTokens);
    if (!Number.isInteger(options.group) || options.group < 1) throw new Error(`TripleStream: group must be a positive integer, got ${options.group}`);
    if (options.group > 1) {
      const bare = triples.findIndex((t) => t.neg.length === 0);
      if (bare >= 0) throw new Error(`TripleStream: group ${options.group} needs hard negatives, but triple ${bare} (query ${JSON.stringify(triples[bare].query)}) lists none; use group 1 or mine some with \`retro mine\``);
    }
    this.group = options.group;
    this.instruction = options.queryInstruction ?? '';
  }

  protected build(examples: Array<{ item: Triple; rng: Generator }>): TripleBatch {
    const queries: string[] = [];
    const passages: string[] = [];
    for (const { item, rng } of examples) {
      queries.push(this.instruction + item.query);
      passages.push(item.pos[rng.randint(item.pos.length)]);
      if (this.group > 1) passages.push(...sample(item.neg, this.group - 1, rng));
    }
    return { kind: 'triples', queries, passages, group: this.group, tokens: [...queries, ...passages].reduce((n, t) => n + this.countTokens(t), 0) };
  }
}

/** Scored pairs -> PairBatch. */
export class PairStream extends ShuffledStream<ScoredPair, PairBatch> {
  constructor(pairs: readonly ScoredPair[], options: { batchSize: number; seed: number; countTokens: TokenCounter }) {
    super(pairs, options.batchSize, options.seed, 'PairStream', options.countTokens);
  }

  protected build(examples: Array<{ item: ScoredPair }>): PairBatch {
    const sentences1 = examples.map((e) => e.item.sentence1);
    const sentences2 = examples.map((e) => e.item.sentence2);
    const tokens = [...sentences1, ...sentences2].reduce((n, t) => n + this.countTokens(t), 0);
    return { kind: 'pairs', sentences1, sentences2, scores: examples.map((e) => e.item.score), tokens };
  }
}
