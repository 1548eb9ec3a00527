import { F_LETTER, F_NUMBER, F_SURROGATE, F_WHITESPACE, LONE_SURROGATE_FLAGS, astralFlags, bmpFlags } from './unicode.js';

/**
 * GPT-2's reversible byte -> printable character map: printable Latin-1 bytes map to themselves,
 * the other 68 bytes to U+0100.. in byte order (so ' ' is 'Ġ' and '\n' is 'Ċ'). `[256]`.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(keep(b) ? b : 256 + n++);
  return out;
})();

/** Inverse of {@link BYTE_TO_CHAR}: char code -> byte, -1 where the char is not a byte char. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(324).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => {
    t[c.charCodeAt(0)] = b;
  });
  return t;
})();

/** Receives each pre-token as a span `[start, end)` of `text`. */
export interface PieceVisitor {
  piece(text: string, start: number, end: number): void;
}

const CLASS_WS = 1;
const CLASS_L = 2;
const CLASS_N = 3;
const CLASS_OTHER = 4;

/**
 * Splits `text` exactly like GPT-2's pattern
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
 * (leftmost alternative wins; `\s` is Unicode White_Space as in HF's Oniguruma regex), without a
 * regex: one class lookup per character. A run of n > 1 spaces before a word yields n-1 spaces,
 * and the last space goes with the word.
 */
export function splitGpt2(text: string, visitor: PieceVisitor): void {
  const table = bmpFlags();
  const n = text.length;
  // Class and width of the code point at i (0 past the end).
  let width = 1;
  const classAt = (i: number): number => {
    width = 1;
    if (i >= n) return 0;
    const c = text.charCodeAt(i);
    let f = table[c]!;
    if (f & F_SURROGATE) {
      f = LONE_SURROGATE_FLAGS;
      if (c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          f = astralFlags(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
          width = 2;
        }
      }
    }
    if (f & F_WHITESPACE) return CLASS_WS;
    if (f & F_LETTER) return CLASS_L;
    if (f & F_NUMBER) return CLASS_N;
    return CLASS_OTHER;
  };
  // End of the run of class `cls` starting at i.
  const runEnd = (i: number, cls: number): number => {
    let j = i;
    while (j < n && classAt(j) === cls) j += width;
    return j;
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 39 /* ' */ && i + 1 < n) {
      const c1 = text.charCodeAt(i + 1);
      let len = 0;
      if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) len = 2; // 's 't 'm 'd
      else if (i + 2 < n) {
        const c2 = text.charCodeAt(i + 2);
        if ((c1 === 114 && c2 === 101) || (c1 === 118 && c2 === 101) || (c1 === 108 && c2 === 108)) len = 3; // 're 've 'll
      }
      if (len > 0) {
        visitor.piece(text, i, i + len);
        i += len;
        continue;
      }
    }
    const start = i;
    const body = c === 32 ? i + 1 : i;
    const cls = classAt(body);
    if (cls === CLASS_L || cls === CLASS_N || cls === CLASS_OTHER) {
      // ` ?X+` for the class of the first character after the optional space.
      const end = runEnd(body, cls);
      visitor.piece(text, start, end);
      i = end;
      continue;
    }
    // Whitespace at i (a lone ' ' followed by whitespace also lands here).
    const end = runEnd(i, CLASS_WS);
    if (end === n || end - i === 1) {
      visitor.piece(text, i, end);
      i = end;
    } else {
      // \s+(?!\S): leave the last whitespace character for the following word.
      visitor.piece(text, i, end - 1);
      i = end - 1;
    }
  }
}
