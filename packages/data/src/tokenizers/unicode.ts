/**
 * Character classes used by the BERT normalizer / pre-tokenizer and the GPT-2 splitter.
 *
 * Every class is decided once per BMP code unit into a flag table, so the hot loops do one array
 * read per character instead of a regex test. Astral code points (rare in practice) are classified
 * with the same regexes and memoised.
 *
 * Definitions follow HF `tokenizers` (the reference implementation of `tokenizer.json`) and
 * `transformers`' BasicTokenizer, evaluated with this Node's Unicode tables:
 * - whitespace: the Unicode White_Space property (Rust `char::is_whitespace`), plus \t \n \r.
 * - control (dropped by clean_text): general category C* (Cc Cf Cs Co Cn) except \t \n \r
 *   (HF Rust `is_other`, transformers `cat.startswith("C")`). U+0000 and U+FFFD are dropped too.
 * - punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or general category P*.
 * - CJK: the code point ranges of transformers' `_is_chinese_char` (0x2B820 start of Ext. E;
 *   HF Rust has a typo 0x2B920 there).
 */

export const F_WHITESPACE = 1 << 0;
export const F_CONTROL = 1 << 1;
export const F_PUNCT = 1 << 2;
export const F_CJK = 1 << 3;
/** `toLowerCase` changes the character (when alone). */
export const F_LOWER_UNSTABLE = 1 << 4;
/** NFD + removal of Mn changes it, or it is a combining mark (could reorder under NFD). */
export const F_ACCENT_UNSTABLE = 1 << 5;
export const F_LETTER = 1 << 6;
export const F_NUMBER = 1 << 7;
/** A UTF-16 surrogate code unit: the caller must decode the pair and use {@link astralFlags}. */
export const F_SURROGATE = 1 << 8;
/** ASCII A-Z: lower-cased by a plain `toLowerCase`, no full normalization needed (not in F_LOWER_UNSTABLE). */
export const F_ASCII_UPPER = 1 << 9;

const RE_WS = /^\s$/u;
const RE_CONTROL = /^\p{C}$/u;
const RE_PUNCT = /^\p{P}$/u;
const RE_MN = /\p{Mn}/gu;
const RE_MARK = /^\p{M}$/u;
const RE_LETTER = /^\p{L}$/u;
const RE_NUMBER = /^\p{N}$/u;

/** True for the CJK code points of transformers' `BasicTokenizer._is_chinese_char`. */
export function isCjkCodePoint(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * A copy of `s` that does not keep a larger string alive: V8 makes slices of 13+ units views into
 * their parent, so caching a slice of a document would pin the whole document in memory.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** Removes accents the BERT way: NFD, then drop nonspacing marks (Mn). */
export function stripAccents(text: string): string {
  return text.normalize('NFD').replace(RE_MN, '');
}

function classify(ch: string, cp: number): number {
  let f = 0;
  // \s in JS is White_Space plus U+FEFF; Rust's is_whitespace (White_Space) also has U+0085.
  if ((RE_WS.test(ch) && cp !== 0xfeff) || cp === 0x85) f |= F_WHITESPACE;
  if (cp === 9 || cp === 10 || cp === 13) f |= F_WHITESPACE;
  else if (cp === 0 || cp === 0xfffd || RE_CONTROL.test(ch)) f |= F_CONTROL;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    f |= F_PUNCT;
  } else if (RE_PUNCT.test(ch)) f |= F_PUNCT;
  if (isCjkCodePoint(cp)) f |= F_CJK;
  if (cp >= 65 && cp <= 90) f |= F_ASCII_UPPER;
  else if (ch.toLowerCase() !== ch) f |= F_LOWER_UNSTABLE;
  if (RE_MARK.test(ch) || stripAccents(ch) !== ch) f |= F_ACCENT_UNSTABLE;
  if (RE_LETTER.test(ch)) f |= F_LETTER;
  if (RE_NUMBER.test(ch)) f |= F_NUMBER;
  return f;
}

let bmpTable: Uint16Array | null = null;

/**
 * Flags of every BMP code unit, `[65536]`. Built on first use (tens of ms), then shared.
 * Surrogates carry only {@link F_SURROGATE}.
 */
export function bmpFlags(): Uint16Array {
  if (bmpTable) return bmpTable;
  const t = new Uint16Array(0x10000);
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) {
      t[cp] = F_SURROGATE;
      continue;
    }
    t[cp] = classify(String.fromCharCode(cp), cp);
  }
  bmpTable = t;
  return t;
}

const astralCache = new Map<number, number>();

/** Flags of a code point above U+FFFF (memoised). */
export function astralFlags(cp: number): number {
  let f = astralCache.get(cp);
  if (f === undefined) {
    f = classify(String.fromCodePoint(cp), cp);
    astralCache.set(cp, f);
  }
  return f;
}

/** Flags of a lone surrogate: a control character (category Cs). */
export const LONE_SURROGATE_FLAGS = F_CONTROL | F_ACCENT_UNSTABLE;

/** Flags of any code point. */
export function codePointFlags(cp: number): number {
  if (cp >= 0x10000) return astralFlags(cp);
  if (cp >= 0xd800 && cp <= 0xdfff) return LONE_SURROGATE_FLAGS;
  return bmpFlags()[cp]!;
}
