import { BYTE_TO_CHAR, splitGpt2 } from './byte-level.js';
import { detach } from './unicode.js';
import { RobertaTokenizer } from './roberta-tokenizer.js';

/** Options of {@link ByteLevelBpeTrainer}. */
export interface BpeTrainerOptions {
  /** Target vocabulary size, specials and the 256 byte symbols included. */
  vocabSize: number;
  /** Stop when the most frequent pair occurs fewer times. Default 2. */
  minFrequency?: number;
  /** Specials before the byte symbols. Default `<s> <pad> </s> <unk>` (ids 0..3, as RoBERTa). */
  specialTokens?: readonly string[];
  /** Appended as the last id, as RoBERTa. Default '<mask>'; null for none. */
  maskToken?: string | null;
  /** Pre-tokenize with a leading space, as the tokenizer will with add_prefix_space. Default false. */
  addPrefixSpace?: boolean;
}

/** Trained vocabulary (`[V]`, id order) and merges (rank order). */
export interface BpeModel {
  vocab: string[];
  merges: [string, string][];
}

/** Max-heap entry: pair count, then the smaller (left, right) ids first for determinism. */
type Entry = [count: number, left: number, right: number];

class PairHeap {
  private readonly a: Entry[] = [];
  get size(): number {
    return this.a.length;
  }
  private less(x: Entry, y: Entry): boolean {
    // "x has lower priority than y"
    if (x[0] !== y[0]) return x[0] < y[0];
    if (x[1] !== y[1]) return x[1] > y[1];
    return x[2] > y[2];
  }
  push(e: Entry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[m]!, a[l]!)) m = l;
        if (r < a.length && this.less(a[m]!, a[r]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A small byte-level BPE trainer (GPT-2 style): texts are split with the GPT-2 pattern and turned
 * into byte symbols; then the most frequent adjacent pair (ties: smaller ids first) is merged
 * until the vocabulary is full. Enough to produce real tokenizer.json files for RoBERTa runs and
 * tests; not tuned for web-scale corpora.
 */
export class ByteLevelBpeTrainer {
  private readonly wordCounts = new Map<string, number>();

  constructor(readonly options: BpeTrainerOptions) {
    const specials = options.specialTokens ?? ['<s>', '<pad>', '</s>', '<unk>'];
    const min = specials.length + 256 + (options.maskToken === null ? 0 : 1);
    if (!Number.isInteger(options.vocabSize) || options.vocabSize < min) {
      throw new Error(`ByteLevelBpeTrainer: vocabSize must be an integer >= ${min} (specials + 256 bytes), found ${options.vocabSize}`);
    }
  }

  /** Counts the pre-tokens of one text. */
  add(text: string): void {
    const source = this.options.addPrefixSpace && text.charCodeAt(0) !== 32 ? ' ' + text : text;
    splitGpt2(source, {
      piece: (t, s, e) => {
        const w = t.slice(s, e);
        const n = this.wordCounts.get(w);
        this.wordCounts.set(n === undefined ? detach(w) : w, (n ?? 0) + 1);
      },
    });
  }

  async addAll(texts: Iterable<string> | AsyncIterable<string>): Promise<void> {
    for await (const t of texts) this.add(t);
  }

  train(): BpeModel {
    const specials = [...(this.options.specialTokens ?? ['<s>', '<pad>', '</s>', '<unk>'])];
    const mask = this.options.maskToken === undefined ? '<mask>' : this.options.maskToken;
    const minFreq = this.options.minFrequency ?? 2;
    const target = this.options.vocabSize - (mask === null ? 0 : 1);
    const tokens: string[] = [...specials, ...BYTE_TO_CHAR];
    const idOf = new Map(tokens.map((t, i) => [t, i]));
    const byteBase = specials.length;
    // Each distinct pre-token as an array of symbol ids, rewritten (shorter) when a merge hits it.
    const enc = new TextEncoder();
    const words: Int32Array[] = [];
    const freq: number[] = [];
    for (const [w, n] of this.wordCounts) {
      const bytes = enc.encode(w);
      const sym = new Int32Array(bytes.length);
      for (let k = 0; k < bytes.length; k++) sym[k] = byteBase + bytes[k]!;
      words.push(sym);
      freq.push(n);
    }
    const KEY = 1 << 22; // ids stay far below 2^22, so left * KEY + right is exact
    const pairCount = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addPair = (a: number, b: number, wi: number, n: number): void => {
      const key = a * KEY + b;
      pairCount.set(key, (pairCount.get(key) ?? 0) + n);
      if (n > 0) {
        let s = pairWords.get(key);
        if (!s) pairWords.set(key, (s = new Set()));
        s.add(wi);
      }
    };
    words.forEach((sym, wi) => {
      for (let k = 0; k + 1 < sym.length; k++) addPair(sym[k]!, sym[k + 1]!, wi, freq[wi]!);
    });
    const heap = new PairHeap();
    for (const [key, c] of pairCount) heap.push([c, Math.floor(key / KEY), key % KEY]);
    const merges: [string, string][] = [];
    while (tokens.length < target && heap.size > 0) {
      const [c, a, b] = heap.pop()!;
      const key = a * KEY + b;
      const current = pairCount.get(key) ?? 0;
      if (current !== c) {
        // Stale entry: the count changed since it was pushed.
        if (current > 0) heap.push([current, a, b]);
        continue;
      }
      if (c < minFreq) break;
      const merged = tokens[a]! + tokens[b]!;
      let m = idOf.get(merged);
      if (m === undefined) {
        m = tokens.length;
        tokens.push(merged);
        idOf.set(merged, m);
      }
      merges.push([tokens[a]!, tokens[b]!]);
      // Only pairs next to an occurrence change: remove the old ones around each occurrence,
      // add the new ones around each merged symbol (positions deduplicated, increasing).
      const touched = new Set<number>();
      for (const wi of pairWords.get(key) ?? []) {
        const live = words[wi]!;
        const len = live.length;
        const occ: number[] = [];
        for (let k = 0; k + 1 < len; k++) {
          if (live[k] === a && live[k + 1] === b) {
            occ.push(k);
            k++;
          }
        }
        if (occ.length === 0) continue;
        const n = freq[wi]!;
        let last = -1;
        for (const k of occ) {
          for (let p = Math.max(k - 1, last + 1); p <= k + 1 && p + 1 < len; p++) {
            const pk = live[p]! * KEY + live[p + 1]!;
            pairCount.set(pk, pairCount.get(pk)! - n);
            last = p;
          }
        }
        const out = new Int32Array(len - occ.length);
        const mergedAt: number[] = [];
        let q = 0;
        for (let k = 0, o = 0; k < len; k++) {
          if (o < occ.length && occ[o] === k) {
            mergedAt.push(q);
            out[q++] = m;
            k++;
            o++;
          } else out[q++] = live[k]!;
        }
        last = -1;
        for (const r0 of mergedAt) {
          for (let r = Math.max(r0 - 1, last + 1); r <= r0 && r + 1 < out.length; r++) {
            addPair(out[r]!, out[r + 1]!, wi, n);
            touched.add(out[r]! * KEY + out[r + 1]!);
            last = r;
          }
        }
        words[wi] = out;
      }
      pairCount.delete(key);
      pairWords.delete(key);
      touched.delete(key);
      for (const pk of touched) {
        const cnt = pairCount.get(pk) ?? 0;
        if (cnt > 0) heap.push([cnt, Math.floor(pk / KEY), pk % KEY]);
      }
    }
    if (mask !== null) tokens.push(mask);
    return { vocab: tokens, merges };
  }

  /** A RobertaTokenizer over the trained model. */
  toTokenizer(): RobertaTokenizer {
    const m = this.train();
    return new RobertaTokenizer(m.vocab, m.merges, { addPrefixSpace: this.options.addPrefixSpace ?? false });
  }
}

/** Trains a byte-level BPE model on a stream of texts. */
export async function trainByteLevelBpe(texts: Iterable<string> | AsyncIterable<string>, options: BpeTrainerOptions): Promise<BpeModel> {
  const t = new ByteLevelBpeTrainer(options);
  await t.addAll(texts);
  return t.train();
}
