import {
  F_CJK,
  F_CONTROL,
  F_WHITESPACE,
  bmpFlags,
  codePointFlags,
  stripAccents as stripAccentsText,
} from './unicode.js';

/** Options of HF's `BertNormalizer` (tokenizer.json field names in the comments). */
export interface BertNormalizerConfig {
  /** `clean_text`: drop control characters, U+0000 and U+FFFD; map whitespace to ' '. */
  cleanText: boolean;
  /** `handle_chinese_chars` (`tokenize_chinese_chars`): put spaces around CJK characters. */
  tokenizeChineseChars: boolean;
  /** `lowercase` (`do_lower_case`). */
  lowercase: boolean;
  /** `strip_accents`: null follows `lowercase`, as in HF. */
  stripAccents: boolean | null;
}

export const DEFAULT_BERT_NORMALIZER: BertNormalizerConfig = {
  cleanText: true,
  tokenizeChineseChars: true,
  lowercase: true,
  stripAccents: null,
};

/** Whether accents are stripped under `cfg` (HF: `strip_accents` defaults to `lowercase`). */
export function stripsAccents(cfg: BertNormalizerConfig): boolean {
  return cfg.stripAccents ?? cfg.lowercase;
}

/**
 * The BERT normalizer, step by step as HF does it: clean text, space out CJK characters,
 * lower-case (whole-string `toLowerCase`, so a final Σ becomes ς as in Python's `str.lower`),
 * then NFD and drop Mn. The fast tokenizer path skips this for text it can prove unaffected;
 * this is the exact fallback and the reference for `normalize()`.
 */
export function normalizeBertText(text: string, cfg: BertNormalizerConfig): string {
  const table = bmpFlags();
  if (cfg.cleanText || cfg.tokenizeChineseChars) {
    let out = '';
    let runStart = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      let c = text.charCodeAt(i);
      let width = 1;
      let f: number;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          c = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          width = 2;
        }
      }
      f = width === 2 ? codePointFlags(c) : c >= 0xd800 && c <= 0xdfff ? codePointFlags(c) : table[c]!;
      let replacement: string | null = null;
      if (cfg.cleanText && f & F_CONTROL) replacement = '';
      else if (cfg.cleanText && f & F_WHITESPACE && c !== 32) replacement = ' ';
      else if (cfg.tokenizeChineseChars && f & F_CJK) replacement = ' ' + text.slice(i, i + width) + ' ';
      if (replacement !== null) {
        out += text.slice(runStart, i) + replacement;
        runStart = i + width;
      }
      i += width - 1;
    }
    text = runStart === 0 ? text : out + text.slice(runStart);
  }
  if (cfg.lowercase) text = text.toLowerCase();
  if (stripsAccents(cfg)) text = stripAccentsText(text);
  return text;
}
