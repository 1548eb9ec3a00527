import type { AddedToken } from './added-tokens.js';
import type { BertNormalizerConfig } from './bert-normalizer.js';
import type { WordPieceConfig } from './wordpiece.js';

/**
 * The parts of HF's tokenizer.json this package reads and writes (format "1.0"). Unknown
 * components are rejected with an error naming the field, rather than silently ignored.
 */
export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: AddedToken[];
  normalizer: Record<string, unknown> | null;
  pre_tokenizer: Record<string, unknown> | null;
  post_processor: Record<string, unknown> | null;
  decoder: Record<string, unknown> | null;
  model: Record<string, unknown> & { type?: string };
}

interface SpecialTemplateSource {
  vocab: readonly string[];
  addedTokens: readonly AddedToken[];
  specialTokenNames: { cls: string; sep: string; pad: string; mask: string; unk: string };
  clsTokenId: number;
  sepTokenId: number;
}

/** model.vocab: every token, specials included (they are ordinary entries of vocab.txt). */
function vocabObject(vocab: readonly string[]): Record<string, number> {
  // No prototype, so a token named "__proto__" is an ordinary key.
  const out: Record<string, number> = Object.create(null);
  vocab.forEach((t, i) => {
    out[t] = i;
  });
  return out;
}

/** tokenizer.json of a BERT WordPiece tokenizer, as HF `BertTokenizerFast.save_pretrained` writes it. */
export function bertTokenizerJson(
  tok: SpecialTemplateSource & { normalizer: BertNormalizerConfig; model: { config: WordPieceConfig } },
): TokenizerJson {
  const cls = tok.specialTokenNames.cls;
  const sep = tok.specialTokenNames.sep;
  const special = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  const seq = (id: 'A' | 'B', type_id: number) => ({ Sequence: { id, type_id } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...tok.addedTokens].sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: tok.normalizer.cleanText,
      handle_chinese_chars: tok.normalizer.tokenizeChineseChars,
      strip_accents: tok.normalizer.stripAccents,
      lowercase: tok.normalizer.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), seq('A', 0), special(sep, 0)],
      pair: [special(cls, 0), seq('A', 0), special(sep, 0), seq('B', 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [tok.clsTokenId], tokens: [cls] },
        [sep]: { id: sep, ids: [tok.sepTokenId], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: tok.model.config.continuingSubwordPrefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: tok.model.config.unkToken,
      continuing_subword_prefix: tok.model.config.continuingSubwordPrefix,
      max_input_chars_per_word: tok.model.config.maxInputCharsPerWord,
      vocab: vocabObject(tok.vocab),
    },
  };
}

/** tokenizer.json of a byte-level BPE (RoBERTa) tokenizer, as HF `RobertaTokenizerFast` writes it. */
export function robertaTokenizerJson(
  tok: SpecialTemplateSource & { addPrefixSpace: boolean; merges: readonly (readonly [string, string])[] },
): TokenizerJson {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...tok.addedTokens].sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: tok.addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [tok.specialTokenNames.sep, tok.sepTokenId],
      cls: [tok.specialTokenNames.cls, tok.clsTokenId],
      trim_offsets: true,
      add_prefix_space: tok.addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: vocabObject(tok.vocab),
      merges: tok.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** `[V]` token list from model.vocab plus added tokens; ids must be exactly 0..V-1. */
export function denseVocab(vocab: unknown, addedTokens: readonly AddedToken[], who: string): string[] {
  if (!vocab || typeof vocab !== 'object') throw new Error(`${who}: model.vocab must be an object token -> id`);
  const entries = Object.entries(vocab as Record<string, unknown>);
  const byId: (string | undefined)[] = [];
  for (const [t, id] of entries) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${who}: model.vocab[${JSON.stringify(t)}] must be a non-negative integer, found ${String(id)}`);
    if (byId[id as number] !== undefined) throw new Error(`${who}: id ${id} is used by ${JSON.stringify(byId[id as number])} and ${JSON.stringify(t)}`);
    byId[id as number] = t;
  }
  for (const a of addedTokens) {
    if (byId[a.id] === undefined) byId[a.id] = a.content;
    else if (byId[a.id] !== a.content) throw new Error(`${who}: added token ${JSON.stringify(a.content)} has id ${a.id}, which model.vocab gives to ${JSON.stringify(byId[a.id])}`);
  }
  for (let i = 0; i < byId.length; i++) {
    if (byId[i] === undefined) throw new Error(`${who}: vocabulary ids must be 0..${byId.length - 1} without gaps; id ${i} is missing`);
  }
  return byId as string[];
}

/**
 * Checks the shape of a parsed tokenizer.json before any field is used, so a hand-edited or
 * foreign file fails with the field named (never a TypeError deep in a constructor).
 * `source` names the file in the message.
 */
export function checkTokenizerJson(json: unknown, source: string): TokenizerJson {
  const fail = (field: string, found: unknown, expected: string) =>
    new Error(`${source}: field '${field}' is ${describeValue(found)}, expected ${expected}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${source}: the top level is ${describeValue(json)}, expected an object (an HF tokenizer.json)`);
  const j = json as Record<string, unknown>;
  const model = j.model as Record<string, unknown> | null | undefined;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) throw fail('model', model, 'an object with type and vocab');
  if (model.type !== 'WordPiece' && model.type !== 'BPE') throw fail('model.type', model.type, '"WordPiece" or "BPE"');
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw fail('model.vocab', vocab, 'an object token -> id');
  if (Object.keys(vocab).length === 0) throw fail('model.vocab', vocab, 'a non-empty vocabulary');
  if (model.unk_token !== undefined && model.unk_token !== null) {
    if (typeof model.unk_token !== 'string') throw fail('model.unk_token', model.unk_token, 'a string or null');
    if (!Object.prototype.hasOwnProperty.call(vocab, model.unk_token)) {
      const added = Array.isArray(j.added_tokens) && j.added_tokens.some((a) => (a as { content?: unknown })?.content === model.unk_token);
      if (!added) throw fail('model.unk_token', model.unk_token, 'a token of model.vocab (unknown words map to it)');
    }
  }
  if (j.added_tokens !== undefined && j.added_tokens !== null) {
    if (!Array.isArray(j.added_tokens)) throw fail('added_tokens', j.added_tokens, 'a list of {id, content, ...}');
    j.added_tokens.forEach((a, i) => {
      const t = a as Record<string, unknown> | null;
      if (typeof t !== 'object' || t === null || Array.isArray(t)) throw fail(`added_tokens[${i}]`, a, 'an object {id, content, ...}');
      if (!Number.isInteger(t.id) || (t.id as number) < 0) throw fail(`added_tokens[${i}].id`, t.id, 'an integer >= 0');
      if (typeof t.content !== 'string' || t.content === '') throw fail(`added_tokens[${i}].content`, t.content, 'a non-empty string');
      for (const flag of ['single_word', 'lstrip', 'rstrip', 'normalized', 'special']) {
        if (t[flag] !== undefined && typeof t[flag] !== 'boolean') throw fail(`added_tokens[${i}].${flag}`, t[flag], 'true or false');
      }
    });
  }
  for (const part of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    const v = j[part];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) throw fail(part, v, 'an object or null');
  }
  const pp = j.post_processor as Record<string, unknown> | null | undefined;
  if (pp && (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing')) {
    for (const key of ['cls', 'sep']) {
      const pair = pp[key];
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !Number.isInteger(pair[1])) throw fail(`post_processor.${key}`, pair, '["token", id]');
    }
  }
  if (pp && pp.type === 'TemplateProcessing') {
    if (!Array.isArray(pp.single)) throw fail('post_processor.single', pp.single, 'a list of template pieces');
    pp.single.forEach((piece, i) => {
      const special = (piece as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken;
      if (special !== undefined && typeof special?.id !== 'string') throw fail(`post_processor.single[${i}].SpecialToken.id`, special?.id, 'a token string');
    });
  }
  for (const key of ['max_input_chars_per_word'] as const) {
    if (model[key] !== undefined && !(Number.isInteger(model[key]) && (model[key] as number) > 0)) throw fail(`model.${key}`, model[key], 'an integer >= 1');
  }
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] !== undefined && model[key] !== null && typeof model[key] !== 'string') throw fail(`model.${key}`, model[key], 'a string');
  }
  return json as TokenizerJson;
}

/** A short JSON rendering of a found value for error messages. */
export function describeValue(x: unknown): string {
  if (x === undefined) return 'missing';
  let text: string | undefined;
  try {
    text = JSON.stringify(x);
  } catch {
    text = String(x);
  }
  if (text === undefined) return String(x);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Added tokens with HF defaults filled in. */
export function parseAddedTokens(json: TokenizerJson): AddedToken[] {
  return (json.added_tokens ?? []).map((a) => ({
    id: a.id,
    content: a.content,
    single_word: a.single_word ?? false,
    lstrip: a.lstrip ?? false,
    rstrip: a.rstrip ?? false,
    normalized: a.normalized ?? !(a.special ?? false),
    special: a.special ?? false,
  }));
}

/** cls/sep token names from a TemplateProcessing, BertProcessing or RobertaProcessing post-processor. */
export function templateSpecials(pp: Record<string, unknown> | null, who: string): { cls?: string; sep?: string } {
  if (!pp) return {};
  if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
    return { cls: (pp.cls as [string, number])[0], sep: (pp.sep as [string, number])[0] };
  }
  if (pp.type === 'TemplateProcessing') {
    const single = (pp.single as Array<{ SpecialToken?: { id: string } }>).filter((x) => x.SpecialToken);
    return { cls: single[0]?.SpecialToken!.id, sep: single[single.length - 1]?.SpecialToken!.id };
  }
  if (pp.type === 'ByteLevel') return {};
  throw new Error(`${who}: post_processor.type ${JSON.stringify(pp.type)} is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel)`);
}

/** Vocabulary, options and added tokens of a WordPiece tokenizer.json. */
export function parseBertTokenizerJson(json: TokenizerJson): {
  vocab: string[];
  addedTokens: AddedToken[];
  options: {
    doLowerCase?: boolean;
    stripAccents?: boolean | null;
    tokenizeChineseChars?: boolean;
    cleanText?: boolean;
    unkToken?: string;
    clsToken?: string;
    sepToken?: string;
    maxInputCharsPerWord?: number;
    continuingSubwordPrefix?: string;
  };
} {
  const who = 'BertTokenizer.fromTokenizerJson';
  const m = json.model;
  if (m?.type !== 'WordPiece') throw new Error(`${who}: model.type must be "WordPiece", found ${JSON.stringify(m?.type)}`);
  const n = json.normalizer;
  if (n !== null && n?.type !== 'BertNormalizer') throw new Error(`${who}: normalizer.type must be "BertNormalizer" or null, found ${JSON.stringify(n?.type)}`);
  const pt = json.pre_tokenizer;
  if (pt?.type !== 'BertPreTokenizer') throw new Error(`${who}: pre_tokenizer.type must be "BertPreTokenizer", found ${JSON.stringify(pt?.type)}`);
  const addedTokens = parseAddedTokens(json);
  const specials = templateSpecials(json.post_processor, who);
  const lowercase = n ? (n.lowercase as boolean | undefined) ?? true : false;
  return {
    vocab: denseVocab(m.vocab, addedTokens, who),
    addedTokens,
    options: {
      doLowerCase: lowercase,
      stripAccents: n ? ((n.strip_accents as boolean | null | undefined) ?? null) : false,
      tokenizeChineseChars: n ? ((n.handle_chinese_chars as boolean | undefined) ?? true) : false,
      cleanText: n ? ((n.clean_text as boolean | undefined) ?? true) : false,
      unkToken: (m.unk_token as string | undefined) ?? '[UNK]',
      clsToken: specials.cls,
      sepToken: specials.sep,
      maxInputCharsPerWord: (m.max_input_chars_per_word as number | undefined) ?? 100,
      continuingSubwordPrefix: (m.continuing_subword_prefix as string | undefined) ?? '##',
    },
  };
}

/** Vocabulary, merges, options and added tokens of a byte-level BPE tokenizer.json. */
export function parseBpeTokenizerJson(json: TokenizerJson): {
  vocab: string[];
  merges: [string, string][];
  addedTokens: AddedToken[];
  addPrefixSpace: boolean;
  cls?: string;
  sep?: string;
} {
  const who = 'RobertaTokenizer.fromTokenizerJson';
  const m = json.model;
  if (m?.type !== 'BPE') throw new Error(`${who}: model.type must be "BPE", found ${JSON.stringify(m?.type)}`);
  const pt = json.pre_tokenizer;
  if (pt?.type !== 'ByteLevel') throw new Error(`${who}: pre_tokenizer.type must be "ByteLevel", found ${JSON.stringify(pt?.type)}`);
  if (pt.use_regex === false) throw new Error(`${who}: pre_tokenizer.use_regex false is not supported`);
  if (json.normalizer !== null && json.normalizer !== undefined) {
    throw new Error(`${who}: normalizer must be null for a byte-level BPE tokenizer, found type ${JSON.stringify(json.normalizer.type)}`);
  }
  for (const f of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (m[f]) throw new Error(`${who}: model.${f} ${JSON.stringify(m[f])} is not supported (must be empty)`);
  }
  if (m.dropout) throw new Error(`${who}: model.dropout ${String(m.dropout)} is not supported`);
  const addedTokens = parseAddedTokens(json);
  const rawMerges = m.merges;
  if (!Array.isArray(rawMerges)) throw new Error(`${who}: model.merges must be an array`);
  const merges = rawMerges.map((x: unknown, i: number): [string, string] => {
    if (Array.isArray(x) && x.length === 2) return [String(x[0]), String(x[1])];
    if (typeof x === 'string') {
      const sp = x.indexOf(' ');
      if (sp > 0) return [x.slice(0, sp), x.slice(sp + 1)];
    }
    throw new Error(`${who}: model.merges[${i}] must be "a b" or ["a", "b"], found ${JSON.stringify(x)}`);
  });
  const specials = templateSpecials(json.post_processor, who);
  return {
    vocab: denseVocab(m.vocab, addedTokens, who),
    merges,
    addedTokens,
    addPrefixSpace: (pt.add_prefix_space as boolean | undefined) ?? false,
    cls: specials.cls,
    sep: specials.sep,
  };
}
