import { detach } from './unicode.js';

/** Options of the WordPiece model (tokenizer.json `model` fields in the comments). */
export interface WordPieceConfig {
  /** `unk_token`. */
  unkToken: string;
  /** `continuing_subword_prefix`. */
  continuingSubwordPrefix: string;
  /** `max_input_chars_per_word`: longer words (in code points) become the unknown token. */
  maxInputCharsPerWord: number;
}

/**
 * Greedy longest-match-first WordPiece over one pre-tokenized word, as HF: the first piece is
 * looked up bare, later ones with the `##` prefix; if any position has no match the whole word is
 * the unknown token. Results are cached per word (words repeat a lot in real text).
 */
export class WordPiece {
  private readonly unkId: number;
  private readonly unkPieces: Int32Array;
  /** Longest token, in UTF-16 units (prefix excluded): no match can be longer. */
  private readonly maxPieceUnits: number;
  private readonly cache = new Map<string, Int32Array>();

  constructor(
    private readonly tokenToId: ReadonlyMap<string, number>,
    readonly config: WordPieceConfig,
    private readonly cacheCapacity = 200_000,
  ) {
    const unk = tokenToId.get(config.unkToken);
    if (unk === undefined) throw new Error(`WordPiece: unk_token ${JSON.stringify(config.unkToken)} is not in the vocabulary`);
    this.unkId = unk;
    this.unkPieces = Int32Array.of(unk);
    let maxUnits = 1;
    const prefix = config.continuingSubwordPrefix;
    for (const t of tokenToId.keys()) {
      const len = prefix.length > 0 && t.startsWith(prefix) ? t.length - prefix.length : t.length;
      if (len > maxUnits) maxUnits = len;
    }
    this.maxPieceUnits = maxUnits;
  }

  /** Id of a one-code-unit word (no cache needed). */
  single(ch: string): number {
    return this.tokenToId.get(ch) ?? this.unkId;
  }

  /** Piece ids of `word`, `[pieces]` (a shared array: do not modify). */
  tokenize(word: string): Int32Array {
    let pieces = this.cache.get(word);
    if (pieces === undefined) {
      pieces = this.tokenizeUncached(word);
      if (this.cache.size >= this.cacheCapacity) this.cache.clear();
      this.cache.set(detach(word), pieces);
    }
    return pieces;
  }

  private tokenizeUncached(word: string): Int32Array {
    const n = word.length;
    let codePoints = 0;
    for (let i = 0; i < n; i++) {
      const c = word.charCodeAt(i);
      // A high surrogate followed by a low one is one code point.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = word.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      codePoints++;
    }
    if (codePoints > this.config.maxInputCharsPerWord) return this.unkPieces;
    const prefix = this.config.continuingSubwordPrefix;
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxPieceUnits);
      let found = -1;
      while (end > start) {
        // Never cut a surrogate pair.
        const last = word.charCodeAt(end - 1);
        if (end < n && last >= 0xd800 && last <= 0xdbff) {
          const next = word.charCodeAt(end);
          if (next >= 0xdc00 && next <= 0xdfff) {
            end--;
            continue;
          }
        }
        const sub = start === 0 ? word.slice(0, end) : prefix + word.slice(start, end);
        const id = this.tokenToId.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) return this.unkPieces;
      out.push(found);
      start = end;
    }
    return Int32Array.from(out);
  }
}
