/** Options of {@link splitSentences}. */
export interface SplitOptions {
  /**
   * Characters that end a sentence. Default `。！？；…!?;` (Chinese full-width plus latin
   * `! ? ;`; `.` is left out because of decimals and abbreviations). The reference experiment
   * used `。！？`.
   */
  terminators?: string;
  /** Closing quotes/brackets that stay with the sentence they follow, e.g. `。”`. */
  closers?: string;
}

export const DEFAULT_TERMINATORS = '。！？；…!?;';
export const DEFAULT_CLOSERS = '”’"\'」』）)》】〕]';

/**
 * Splits text into sentences. A sentence ends after a run of terminators (`！？`, `……`) and any
 * closing quotes/brackets right after it; a line break always ends one. Whitespace between
 * sentences is dropped; no character other than that whitespace is lost, so
 * `sentences.join('')` equals the input without inter-sentence whitespace.
 * @returns non-empty sentences, in order.
 */
export function splitSentences(text: string, options: SplitOptions = {}): string[] {
  const terms = new Set(options.terminators ?? DEFAULT_TERMINATORS);
  const closers = new Set(options.closers ?? DEFAULT_CLOSERS);
  const out: string[] = [];
  let start = 0;
  const n = text.length;
  const push = (end: number) => {
    const s = text.slice(start, end).trim();
    if (s.length > 0) out.push(s);
    start = end;
  };
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === '\n' || c === '\r') {
      push(i);
      i++;
      start = i;
    } else if (terms.has(c)) {
      i++;
      while (i < n && terms.has(text[i])) i++;
      while (i < n && closers.has(text[i])) i++;
      push(i);
    } else {
      i++;
    }
  }
  push(n);
  return out;
}
