import { firstCodePoint, isBertSplitCodePoint, lastCodePoint } from './boundaries.js';
import type { WordSegmenter } from './segment.js';
import type { TokenizerLike } from './tokenizer-like.js';

/** Token ids of a piece of text and, per token, 1 when it starts a word (else 0). */
export interface WordTokenized {
  ids: number[];
  wordStarts: number[];
}

export interface WordTokenizerOptions {
  /**
   * Distinct words whose pieces are cached. Default 0 (off): BertTokenizer caches words itself,
   * and on the shared corpus and the 1 GB synthetic one this cache only added memory (+60-140 MB
   * peak RSS) without speeding anything up. Worth enabling for a slow tokenizer without a cache.
   */
  cacheSize?: number;
  /**
   * Which segmenter boundaries to tokenize at.
   * - 'bert-safe' (default): only where BERT's basic tokenizer splits anyway (next to CJK,
   *   punctuation or whitespace); segmenter words glued by other boundaries (e.g. `2`|`∶`|`1`,
   *   `140`|`W`) are tokenized together and grouped by the `##` rule. The ids then equal
   *   `tokenizer.tokenize(text)` exactly for WordPiece tokenizers, so pretraining sees the
   *   tokenization used at inference.
   * - 'segmenter': every segmenter word is tokenized on its own (can differ from whole-text
   *   tokenization on symbol/latin runs, about 0.05% of tokens on the shared corpus).
   */
  boundaries?: 'bert-safe' | 'segmenter';
}

const WS_ONLY = /^\s+$/;

/**
 * Tokenizes text and records whole-word boundaries for whole-word masking.
 *
 * With a segmenter (jieba for Chinese): each segmenter word is tokenized on its own and its first
 * token starts a word, so `我们` -> `我`(1) `们`(0) and `hello` -> `hel`(1) `##lo`(0). Words the
 * 'bert-safe' rule glues together are grouped by the `##` rule. Without a segmenter, a token
 * starts a word unless it is a continuation (`##`) piece. A continuation piece never starts a word.
 *
 * Whitespace-only segments are glued to the following word before tokenizing, so byte-level BPE
 * tokenizers still see the leading space that marks a word start (WordPiece ignores it).
 */
export class WordTokenizer {
  private readonly cache = new Map<string, CachedWord>();
  private readonly cacheSize: number;
  private readonly isCont: (t: string) => boolean;
  private readonly bertSafe: boolean;

  constructor(
    readonly tokenizer: TokenizerLike,
    readonly segmenter: WordSegmenter | null,
    options: WordTokenizerOptions = {},
  ) {
    this.cacheSize = options.cacheSize ?? 0;
    this.bertSafe = (options.boundaries ?? 'bert-safe') === 'bert-safe';
    this.isCont = tokenizer.isContinuation
      ? (t) => tokenizer.isContinuation!(t)
      : (t) => t.length > 2 && t.charCodeAt(0) === 35 && t.charCodeAt(1) === 35;
  }

  /** Tokenizes `text` (no specials added). ids and wordStarts have equal length. */
  encode(text: string): WordTokenized {
    const ids: number[] = [];
    const wordStarts: number[] = [];
    if (!this.segmenter) {
      const tokens = this.tokenizer.tokenize(text);
      const tids = this.tokenizer.convertTokensToIds(tokens);
      for (let i = 0; i < tokens.length; i++) {
        ids.push(tids[i]);
        wordStarts.push(this.isCont(tokens[i]) ? 0 : 1);
      }
      return { ids, wordStarts };
    }
    // Group segmenter words: whitespace-only words become the prefix of the next group; a group
    // of several words (glued at unsafe boundaries) is grouped by the `##` rule instead.
    let group = '';
    let groupWords = 0;
    let pending = '';
    const flush = () => {
      if (groupWords > 0) this.pushGroup(group, groupWords > 1, ids, wordStarts);
      group = '';
      groupWords = 0;
    };
    for (const w of this.segmenter.cut(text)) {
      if (w.length === 0) continue;
      if (WS_ONLY.test(w)) {
        flush();
        pending += w;
        continue;
      }
      const glue =
        this.bertSafe && groupWords > 0 && !isBertSplitCodePoint(lastCodePoint(group)) && !isBertSplitCodePoint(firstCodePoint(w));
      if (!glue) {
        flush();
        group = pending;
        pending = '';
      }
      group += w;
      groupWords++;
    }
    flush();
    return { ids, wordStarts };
  }

  private pushGroup(text: string, byPieces: boolean, ids: number[], wordStarts: number[]): void {
    const { ids: wids, start, pieceStarts } = this.wordIds(text);
    for (let i = 0; i < wids.length; i++) {
      ids.push(wids[i]);
      wordStarts.push(byPieces ? pieceStarts[i] : i === 0 ? start : 0);
    }
  }

  /** Ids of one word and whether its first piece starts a word (not when it is a `##` piece). */
  private wordIds(word: string): CachedWord {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const tokens = this.tokenizer.tokenize(word);
    const entry: CachedWord = {
      ids: this.tokenizer.convertTokensToIds(tokens),
      start: tokens.length > 0 && this.isCont(tokens[0]) ? 0 : 1,
      pieceStarts: tokens.map((t) => (this.isCont(t) ? 0 : 1)),
    };
    if (this.cacheSize > 0) {
      // Clearing (not LRU) keeps this O(1) and bounded; hot words come back within a few documents.
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(word, entry);
    }
    return entry;
  }
}

interface CachedWord {
  ids: number[];
  /** Word-start flag of the first piece (0 only for a `##` piece). */
  start: 0 | 1;
  /** `##` rule per piece, for groups of several segmenter words. */
  pieceStarts: Array<0 | 1>;
}
