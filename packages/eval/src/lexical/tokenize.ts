export interface CharTokenOptions {
  /** Emit single characters. Default true. */
  unigrams?: boolean;
  /** Emit adjacent character pairs. Default true. */
  bigrams?: boolean;
  /** Lower-case first (matters for the Latin names and abbreviations in Chinese STS text). Default true. */
  lowercase?: boolean;
  /** Drop whitespace before tokenising, so bigrams span it. Default true. */
  dropWhitespace?: boolean;
}

/**
 * Character tokens for Chinese, where words are not space-delimited: characters (Unicode code
 * points, so astral characters stay whole) followed by character bigrams. With the defaults this is
 * the tokenisation of cmteb-lite's "BM25 chars+bigrams" reference baseline.
 */
export function charTokens(text: string, options: CharTokenOptions = {}): string[] {
  const { unigrams = true, bigrams = true, lowercase = true, dropWhitespace = true } = options;
  let t = lowercase ? text.toLowerCase() : text;
  if (dropWhitespace) t = t.replace(/\s+/gu, '');
  const chars = Array.from(t);
  const out: string[] = unigrams ? chars.slice() : [];
  if (bigrams) for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}
