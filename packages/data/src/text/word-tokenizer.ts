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
   *   tokenization used at inference. Byte-level BPE tokenizers are always given the whole text
   *   (their merges cross Chinese word boundaries) and word starts are aligned to it by byte offset.
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
 * token starts a word, so `我们` -> `我`(1) `们`(0) and `hello` -> `hel`(1) `##lo`(0); for byte-level
 * BPE (RoBERTa) too, whose Chinese words carry no leading space. Words the 'bert-safe' rule glues
 * together are grouped by the tokenizer's continuation rule after their first token. Without a
 * segmenter, the text's first token and every token the rule does not call a continuation start a
 * word; byte-level BPE under 'bert-safe' (the default) uses BERT's basic words instead (each CJK or
 * punctuation character, runs of other characters), read off the whole-text tokenization.
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
    if (this.tokenizer.byteLevel && this.bertSafe) {
      const aligned = this.encodeByteLevel(text);
      if (aligned) return aligned;
    }
    const ids: number[] = [];
    const wordStarts: number[] = [];
    if (!this.segmenter) {
      const tokens = this.tokenizer.tokenize(text);
      const tids = this.tokenizer.convertTokensToIds(tokens);
      for (let i = 0; i < tokens.length; i++) {
        ids.push(tids[i]);
        // The text's first token starts a word even when the rule calls it a continuation (a
        // byte-level token without its leading space).
        wordStarts.push(i === 0 || !this.isCont(tokens[i]) ? 1 : 0);
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

  /**
   * Byte-level BPE merges across Chinese word boundaries (no spaces separate the words), so the
   * text is tokenized whole, as at inference, and a token starts a word when it begins at a word's
   * byte offset: a segmenter word, or without a segmenter a basic word (a CJK or punctuation
   * character, or a run of other characters). A token spanning a boundary joins the two words.
   * Whitespace belongs to the word after it (byte-level BPE puts the space in front of it).
   * Returns null when the tokens do not cover the text byte for byte (added tokens in the text).
   */
  private encodeByteLevel(text: string): WordTokenized | null {
    const tokens = this.tokenizer.tokenize(text);
    const starts = new Set<number>();
    let at = 0;
    let whitespaceFrom = -1;
    for (const word of this.segmenter ? this.segmenter.cut(text) : basicWords(text)) {
      if (word.length === 0) continue;
      if (WS_ONLY.test(word)) {
        if (whitespaceFrom < 0) whitespaceFrom = at;
      } else {
        starts.add(whitespaceFrom >= 0 ? whitespaceFrom : at);
        whitespaceFrom = -1;
      }
      at += utf8Length(word);
    }
    let covered = 0;
    for (const t of tokens) covered += t.length;
    // `at` is now the text's byte length; 1 byte more covered: the tokenizer added a prefix space
    // (RoBERTa's add_prefix_space). The segmenter must have kept every character for `at` to count.
    const shift = covered - at;
    if (at !== utf8Length(text) || (shift !== 0 && shift !== 1)) return null;
    const wordStarts: number[] = [];
    let offset = -shift;
    for (let i = 0; i < tokens.length; i++) {
      wordStarts.push(i === 0 || starts.has(offset) ? 1 : 0);
      offset += tokens[i].length;
    }
    return { ids: this.tokenizer.convertTokensToIds(tokens), wordStarts };
  }

  private pushGroup(text: string, byPieces: boolean, ids: number[], wordStarts: number[]): void {
    const { ids: wids, pieceStarts } = this.wordIds(text);
    for (let i = 0; i < wids.length; i++) {
      ids.push(wids[i]);
      // A segmenter word always starts a word at its first token: byte-level BPE marks only
      // space-led tokens as starts, and Chinese words have no space before them.
      wordStarts.push(i === 0 ? 1 : byPieces ? pieceStarts[i] : 0);
    }
  }

  /** Ids of one word and the continuation rule per piece (used inside glued groups). */
  private wordIds(word: string): CachedWord {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const tokens = this.tokenizer.tokenize(word);
    const entry: CachedWord = {
      ids: this.tokenizer.convertTokensToIds(tokens),
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
  /** Continuation rule per piece (`##`, or no leading space for byte-level BPE), for groups of several segmenter words. */
  pieceStarts: Array<0 | 1>;
}

/** UTF-8 byte length of `text` (no TextEncoder allocation; lone surrogates count as U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** BERT's basic words: each whitespace, CJK or punctuation character alone, runs of anything else. */
function* basicWords(text: string): Generator<string> {
  let run = '';
  for (const ch of text) {
    if (isBertSplitCodePoint(ch.codePointAt(0)!)) {
      if (run) yield run;
      run = '';
      yield ch;
    } else run += ch;
  }
  if (run) yield run;
}
