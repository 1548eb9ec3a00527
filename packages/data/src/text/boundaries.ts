import { isCjkCodePoint } from '../tokenizers/unicode.js';
/**
 * Characters at which BERT's basic tokenizer always splits: whitespace, punctuation (ASCII
 * 33-47, 58-64, 91-96, 123-126 or Unicode P*) and CJK ideographs (transformers'
 * `_is_chinese_char` ranges). Cutting text next to such a character never changes how a
 * WordPiece tokenizer tokenizes the two sides, so word-by-word tokenization stays identical to
 * tokenizing the whole text.
 */
export function isBertSplitCodePoint(cp: number): boolean {
  if (cp < 0x10000) {
    table ??= buildTable();
    return table[cp] === 1;
  }
  return isCjkCodePoint(cp) || /^\p{P}$/u.test(String.fromCodePoint(cp));
}

let table: Uint8Array | null = null;

function buildTable(): Uint8Array {
  const t = new Uint8Array(0x10000);
  const punct = /^\p{P}$/u;
  const ws = /^\s$/;
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCharCode(cp);
    const asciiPunct = (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
    if (asciiPunct || isCjkCodePoint(cp) || ws.test(ch) || punct.test(ch)) t[cp] = 1;
  }
  return t;
}

/** First / last code point of a non-empty string. */
export function firstCodePoint(s: string): number {
  return s.codePointAt(0)!;
}
export function lastCodePoint(s: string): number {
  const c = s.charCodeAt(s.length - 1);
  if (c >= 0xdc00 && c <= 0xdfff && s.length > 1) return s.codePointAt(s.length - 2)!;
  return c;
}
