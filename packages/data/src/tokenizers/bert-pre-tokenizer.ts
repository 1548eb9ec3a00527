import { normalizeBertText, stripsAccents, type BertNormalizerConfig } from './bert-normalizer.js';
import {
  F_ACCENT_UNSTABLE,
  F_ASCII_UPPER,
  F_CJK,
  F_CONTROL,
  F_LOWER_UNSTABLE,
  F_PUNCT,
  F_SURROGATE,
  F_WHITESPACE,
  LONE_SURROGATE_FLAGS,
  astralFlags,
  bmpFlags,
} from './unicode.js';

/** Receives each pre-tokenizer word as a span `[start, end)` of `text`. */
export interface WordVisitor {
  word(text: string, start: number, end: number): void;
}

/**
 * Flags of characters the normalizer would change under `cfg`. Text without them normalizes to
 * itself (up to the CJK spacing, which the scanner does by isolating CJK characters), so the
 * tokenizer can skip building a normalized copy.
 */
export function unstableMask(cfg: BertNormalizerConfig): number {
  let m = 0;
  if (cfg.cleanText) m |= F_CONTROL;
  if (cfg.lowercase) m |= F_LOWER_UNSTABLE;
  if (stripsAccents(cfg)) m |= F_ACCENT_UNSTABLE;
  return m;
}

/** The union of the flags of `mask` that characters of `text` carry. */
export function flagsIn(text: string, mask: number): number {
  if (mask === 0) return 0;
  const table = bmpFlags();
  const n = text.length;
  let found = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const f = table[c]!;
    if ((f & F_SURROGATE) === 0) {
      found |= f & mask;
      continue;
    }
    if (c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        found |= astralFlags(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) & mask;
        i++;
        continue;
      }
    }
    found |= LONE_SURROGATE_FLAGS & mask;
  }
  return found;
}

/**
 * The text to scan for words: `text` itself when normalization cannot change it, `text` lower-cased
 * when only ASCII capitals would change, else the full HF normalization. All three give the words
 * HF gives (CJK spacing is left to the scan).
 */
export function prepareBertText(text: string, cfg: BertNormalizerConfig, slowMask = unstableMask(cfg)): string {
  const found = flagsIn(text, slowMask | (cfg.lowercase ? F_ASCII_UPPER : 0));
  if (found & slowMask) return normalizeBertText(text, cfg);
  return found & F_ASCII_UPPER ? text.toLowerCase() : text;
}

/**
 * HF's BertPreTokenizer over normalized text: split on whitespace, and make every punctuation
 * character (and, with `isolateCjk`, every CJK character, which the normalizer spaced out) a word
 * of its own. One pass with a table lookup per character.
 */
export function scanBertWords(text: string, isolateCjk: boolean, visitor: WordVisitor): void {
  const table = bmpFlags();
  const isolate = F_PUNCT | (isolateCjk ? F_CJK : 0);
  const n = text.length;
  let ws = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let f = table[c]!;
    let w = 1;
    if (f & F_SURROGATE) {
      f = LONE_SURROGATE_FLAGS;
      if (c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          f = astralFlags(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
          w = 2;
        }
      }
    }
    if (f & F_WHITESPACE) {
      if (ws >= 0) {
        visitor.word(text, ws, i);
        ws = -1;
      }
    } else if (f & isolate) {
      if (ws >= 0) {
        visitor.word(text, ws, i);
        ws = -1;
      }
      visitor.word(text, i, i + w);
    } else if (ws < 0) ws = i;
    i += w - 1;
  }
  if (ws >= 0) visitor.word(text, ws, n);
}

/**
 * The words HF's BertNormalizer + BertPreTokenizer produce for `text` (normalized: lower-cased,
 * accents stripped per `cfg`). Used by the vocabulary builder; the tokenizer uses the same scan.
 */
export function preTokenizeBert(text: string, cfg: BertNormalizerConfig): string[] {
  const out: string[] = [];
  scanBertWords(prepareBertText(text, cfg), cfg.tokenizeChineseChars, {
    word(t, s, e) {
      out.push(t.slice(s, e));
    },
  });
  return out;
}
