import { cleanText, type CleanOptions } from './clean.js';
import { packSentences } from './chunk.js';
import { splitSentences, type SplitOptions } from './sentences.js';
import type { WordTokenizer } from './word-tokenizer.js';

/** One training sequence: `[CLS] tokens [SEP]`; wordStarts[i] = 1 where token i starts a word. */
export interface Chunk {
  /** Shape [n], n <= maxSeqLength, ids[0] = cls, ids[n-1] = sep. */
  ids: Int32Array;
  /** Shape [n]; the specials are flagged 1 (each is its own one-token "word"). */
  wordStarts: Uint8Array;
}

export interface ChunkerOptions {
  /** Max tokens per chunk, counting [CLS] and [SEP]. Default 128; at least 3. */
  maxSeqLength?: number;
  clean?: CleanOptions;
  split?: SplitOptions;
  /** Put the title (when present) before the text as its own sentence. Default false. */
  includeTitle?: boolean;
  /** Drop chunks with fewer content tokens than this. Default 1. */
  minTokens?: number;
}

/**
 * Text -> chunks: clean, split into sentences, tokenize with word starts, pack sentences into
 * chunks of <= maxSeqLength tokens, add [CLS]/[SEP].
 */
export class DocumentChunker {
  readonly maxSeqLength: number;
  private readonly minTokens: number;

  constructor(
    readonly wordTokenizer: WordTokenizer,
    readonly options: ChunkerOptions = {},
  ) {
    this.maxSeqLength = options.maxSeqLength ?? 128;
    if (!Number.isInteger(this.maxSeqLength) || this.maxSeqLength < 3) {
      throw new Error(`DocumentChunker: maxSeqLength must be an integer >= 3, found ${options.maxSeqLength}`);
    }
    this.minTokens = options.minTokens ?? 1;
  }

  /** Chunks of one document (empty when nothing is left after cleaning). */
  chunk(text: string, title?: string): Chunk[] {
    const cleaned = cleanText(text, this.options.clean);
    const sentences = splitSentences(cleaned, this.options.split);
    if (this.options.includeTitle && title) {
      const t = cleanText(title, this.options.clean);
      if (t) sentences.unshift(t);
    }
    const tokenized = sentences.map((s) => this.wordTokenizer.encode(s));
    const pieces = packSentences(tokenized, this.maxSeqLength - 2);
    const { clsTokenId, sepTokenId } = this.wordTokenizer.tokenizer;
    const out: Chunk[] = [];
    for (const p of pieces) {
      if (p.ids.length < this.minTokens) continue;
      const n = p.ids.length + 2;
      const ids = new Int32Array(n);
      const wordStarts = new Uint8Array(n);
      ids[0] = clsTokenId;
      wordStarts[0] = 1;
      ids.set(p.ids, 1);
      wordStarts.set(p.wordStarts, 1);
      ids[n - 1] = sepTokenId;
      wordStarts[n - 1] = 1;
      out.push({ ids, wordStarts });
    }
    return out;
  }
}
