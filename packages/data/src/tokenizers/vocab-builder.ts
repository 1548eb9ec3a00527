import { DEFAULT_BERT_NORMALIZER, type BertNormalizerConfig } from './bert-normalizer.js';
import { preTokenizeBert } from './bert-pre-tokenizer.js';
import { BertTokenizer } from './bert-tokenizer.js';
import { F_CJK, F_PUNCT, codePointFlags, detach } from './unicode.js';

/** Options of the BERT-Chinese-style vocabulary builder. */
export interface WordPieceVocabOptions {
  /** A character is kept when it occurs this often as a token or as the first character of a word. Default 3. */
  minCharFrequency?: number;
  /** A multi-character token (latin/digit word, symbol run, ...) is kept whole this often. Default 20. */
  minWordFrequency?: number;
  /**
   * Specials, ids 0.. in this order. Default `[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0..4), the
   * reference run's order; bert-base-chinese instead has [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102,
   * [MASK]=103 after 99 [unused] slots. Special names must stay BERT's for `tokenizerFor`.
   */
  specialTokens?: readonly string[];
  /**
   * Which `##c` continuations to add:
   * - 'observed': `##c` for each character seen inside words (not first) at least
   *   minCharFrequency times — the reference run's rule (shared/experiment/vocab.txt).
   * - 'cover-kept-chars' (default): 'observed', plus `##c` for every other kept character that can
   *   appear inside a word (not CJK, not punctuation), so any word of kept characters tokenizes.
   */
  continuations?: 'observed' | 'cover-kept-chars';
  /** Basic tokenization (default: lower-case, strip accents, CJK split, clean text). */
  normalizer?: Partial<BertNormalizerConfig>;
  /** Words longer than this (code points) are never kept: WordPiece maps them to [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
}

/** A built vocabulary: tokens in id order and how many came from each rule. */
export interface WordPieceVocab {
  /** Token of each id, `[V]`: specials, characters, `##` continuations, extra continuations, words. */
  vocab: string[];
  counts: { specials: number; chars: number; continuations: number; extraContinuations: number; words: number };
  /** Texts seen, basic tokens seen, distinct basic tokens. */
  stats: { texts: number; tokens: number; distinctTokens: number };
  normalizer: BertNormalizerConfig;
}

const DEFAULT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/**
 * Streaming BERT-Chinese-style vocabulary builder. Feed texts with {@link add}, then
 * {@link build}. Counting follows the reference run exactly:
 * 1. every text is basic-tokenized as the BertTokenizer will (CJK chars alone, punctuation
 *    split, lower-cased / accents stripped per config), and each distinct token is counted;
 * 2. character frequency = occurrences as a one-character token plus as the first character of a
 *    longer token; continuation frequency = occurrences at later positions of longer tokens;
 * 3. vocab = specials, kept characters, `##` continuations, kept words — each group by frequency,
 *    descending; ties keep first-seen order (one-character tokens first, then word-initial ones).
 */
export class WordPieceVocabBuilder {
  private readonly counts = new Map<string, number>();
  private texts = 0;
  private tokens = 0;
  readonly normalizer: BertNormalizerConfig;

  constructor(readonly options: WordPieceVocabOptions = {}) {
    this.normalizer = { ...DEFAULT_BERT_NORMALIZER, ...options.normalizer };
  }

  /** Counts the basic tokens of one text. */
  add(text: string): void {
    this.texts++;
    for (const t of preTokenizeBert(text, this.normalizer)) {
      const n = this.counts.get(t);
      this.counts.set(n === undefined ? detach(t) : t, (n ?? 0) + 1);
      this.tokens++;
    }
  }

  /** Counts every text of a (possibly async) stream. */
  async addAll(texts: Iterable<string> | AsyncIterable<string>): Promise<void> {
    for await (const t of texts) this.add(t);
  }

  build(): WordPieceVocab {
    const minChar = this.options.minCharFrequency ?? 3;
    const minWord = this.options.minWordFrequency ?? 20;
    const maxChars = this.options.maxInputCharsPerWord ?? 100;
    const specials = [...(this.options.specialTokens ?? DEFAULT_SPECIALS)];
    const charFreq = new Map<string, number>();
    const contFreq = new Map<string, number>();
    const words: [string, number][] = [];
    for (const [t, n] of this.counts) {
      if (isOneCodePoint(t)) charFreq.set(t, (charFreq.get(t) ?? 0) + n);
    }
    for (const [t, n] of this.counts) {
      if (isOneCodePoint(t)) continue;
      const cps = Array.from(t);
      charFreq.set(cps[0]!, (charFreq.get(cps[0]!) ?? 0) + n);
      for (let k = 1; k < cps.length; k++) contFreq.set(cps[k]!, (contFreq.get(cps[k]!) ?? 0) + n);
      if (n >= minWord && cps.length <= maxChars) words.push([t, n]);
    }
    const byFreq = (m: Map<string, number>, min: number): string[] =>
      [...m].filter(([, n]) => n >= min).sort((a, b) => b[1] - a[1]).map(([c]) => c);
    const vocab: string[] = [];
    const seen = new Set<string>();
    const push = (t: string): boolean => {
      if (seen.has(t)) return false;
      seen.add(t);
      vocab.push(t);
      return true;
    };
    specials.forEach(push);
    const chars = byFreq(charFreq, minChar);
    let nChars = 0;
    for (const c of chars) if (push(c)) nChars++;
    let nCont = 0;
    for (const c of byFreq(contFreq, minChar)) if (push('##' + c)) nCont++;
    let nExtra = 0;
    if ((this.options.continuations ?? 'cover-kept-chars') === 'cover-kept-chars') {
      // Characters that are always split off (punctuation, CJK when spaced out) never continue a word.
      const isolated = F_PUNCT | (this.normalizer.tokenizeChineseChars ? F_CJK : 0);
      for (const c of chars) {
        if (codePointFlags(c.codePointAt(0)!) & isolated) continue;
        if (push('##' + c)) nExtra++;
      }
    }
    let nWords = 0;
    for (const [w] of words.sort((a, b) => b[1] - a[1])) if (push(w)) nWords++;
    return {
      vocab,
      counts: { specials: specials.length, chars: nChars, continuations: nCont, extraContinuations: nExtra, words: nWords },
      stats: { texts: this.texts, tokens: this.tokens, distinctTokens: this.counts.size },
      normalizer: { ...this.normalizer },
    };
  }

  /** A BertTokenizer over the built vocabulary, with the same basic tokenization. */
  toTokenizer(): BertTokenizer {
    return tokenizerFor(this.build());
  }
}

function isOneCodePoint(t: string): boolean {
  if (t.length === 1) return true;
  if (t.length !== 2) return false;
  const c = t.charCodeAt(0);
  const d = t.charCodeAt(1);
  return c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff;
}

/** A BertTokenizer for a built vocabulary (its normalizer settings; specials must be BERT's names). */
export function tokenizerFor(v: WordPieceVocab): BertTokenizer {
  return new BertTokenizer(v.vocab, {
    doLowerCase: v.normalizer.lowercase,
    stripAccents: v.normalizer.stripAccents,
    tokenizeChineseChars: v.normalizer.tokenizeChineseChars,
    cleanText: v.normalizer.cleanText,
  });
}

/** Writes vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json for `v` into `dir`. */
export async function writeWordPieceVocab(v: WordPieceVocab, dir: string): Promise<BertTokenizer> {
  const tok = tokenizerFor(v);
  await tok.save(dir);
  return tok;
}

/**
 * Builds a vocabulary from a stream of texts (e.g. the `content` of WuDao documents).
 * Save it with {@link writeWordPieceVocab} (vocab.txt + tokenizer.json + configs).
 */
export async function buildWordPieceVocab(
  texts: Iterable<string> | AsyncIterable<string>,
  options: WordPieceVocabOptions = {},
): Promise<WordPieceVocab> {
  const b = new WordPieceVocabBuilder(options);
  await b.addAll(texts);
  return b.build();
}
