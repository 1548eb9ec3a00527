/** Options of {@link cleanText}. */
export interface CleanOptions {
  /**
   * Apply Unicode NFKC (full-width -> half-width, compatibility forms folded). Default false:
   * the reference vocabulary (../shared/experiment/vocab.txt) was built from un-normalised text
   * and holds both `，` and `,`, so normalising would change its token stream.
   */
  nfkc?: boolean;
  /** Remove control (Cc), format (Cf, e.g. U+200B, U+FEFF) and lone-surrogate chars and U+FFFD. Default true. */
  removeControl?: boolean;
  /** Collapse every run of whitespace (incl. U+3000, NBSP) to one space and trim. Default true. */
  collapseWhitespace?: boolean;
  /** With collapseWhitespace: a run containing a line break becomes one `\n` (kept as a sentence boundary). Default false. */
  keepNewlines?: boolean;
}

// \t \n \v \f \r are whitespace, handled by the whitespace rule, not deleted as controls.
const CONTROL = /(?![\t\n\v\f\r])[\p{Cc}\p{Cf}\p{Cs}\uFFFD]/gu;
const WHITESPACE = /\s+/g;

/**
 * Cleans one document's text for tokenization. Pure and idempotent.
 * @returns the cleaned text (possibly empty).
 */
export function cleanText(text: string, options: CleanOptions = {}): string {
  const { nfkc = false, removeControl = true, collapseWhitespace = true, keepNewlines = false } = options;
  let s = nfkc ? text.normalize('NFKC') : text;
  if (removeControl) {
    CONTROL.lastIndex = 0;
    if (CONTROL.test(s)) s = s.replace(CONTROL, '');
  }
  if (collapseWhitespace) {
    s = keepNewlines
      ? s.replace(WHITESPACE, (run) => (/[\n\r\u2028\u2029]/.test(run) ? '\n' : ' '))
      : s.replace(WHITESPACE, ' ');
    s = s.trim();
  }
  return s;
}
