/** An entry of tokenizer.json `added_tokens` (HF field names). */
export interface AddedToken {
  id: number;
  content: string;
  /** Not supported for matching (HF: only match as a whole word); kept for round trips. */
  single_word: boolean;
  /** Swallow whitespace on the left of a match (RoBERTa's `<mask>`). */
  lstrip: boolean;
  /** Swallow whitespace on the right of a match. */
  rstrip: boolean;
  /** Matched after normalization in HF; here always matched on the raw text (see splitOnAddedTokens). */
  normalized: boolean;
  special: boolean;
}

/** A special token as HF writes it into `added_tokens` (never normalized, no stripping). */
export function specialAddedToken(id: number, content: string, lstrip = false): AddedToken {
  return { id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true };
}

/** A piece of input: plain text to tokenize, or one added token. */
export type Section = { text: string; token?: undefined } | { text?: undefined; token: AddedToken };

const TRAILING_WS = /\s+$/u;
const LEADING_WS = /^\s+/u;

/**
 * Splits `text` around occurrences of added tokens (leftmost, then longest match, as HF's
 * added-vocabulary matcher), honouring lstrip/rstrip. The contents are matched on the raw text:
 * HF does that for `normalized: false` tokens, which is how BERT and RoBERTa specials are saved;
 * for `normalized: true` tokens under a lower-casing normalizer HF would also match e.g. "[mask]".
 */
export function splitOnAddedTokens(text: string, tokens: readonly AddedToken[]): Section[] {
  // Fast exit: most texts contain no added token at all.
  let any = false;
  for (const t of tokens) {
    if (t.content.length > 0 && text.includes(t.content)) {
      any = true;
      break;
    }
  }
  if (!any) return [{ text }];
  const sections: Section[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    let best: AddedToken | null = null;
    for (const t of tokens) {
      const len = t.content.length;
      if (len > 0 && (best === null || len > best.content.length) && text.startsWith(t.content, i)) best = t;
    }
    if (best === null) {
      i++;
      continue;
    }
    if (i > start) sections.push({ text: text.slice(start, i) });
    sections.push({ token: best });
    i += best.content.length;
    start = i;
  }
  if (start < text.length) sections.push({ text: text.slice(start) });
  for (let k = 0; k < sections.length; k++) {
    const tok = sections[k]!.token;
    if (!tok) continue;
    const prev = sections[k - 1];
    if (tok.lstrip && prev?.text !== undefined) prev.text = prev.text.replace(TRAILING_WS, '');
    const next = sections[k + 1];
    if (tok.rstrip && next?.text !== undefined) next.text = next.text.replace(LEADING_WS, '');
  }
  return sections.filter((s) => s.token !== undefined || s.text.length > 0);
}
