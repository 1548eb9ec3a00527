import { specialAddedToken, type AddedToken } from './added-tokens.js';
import { PreTrainedTokenizer, type SpecialTokenNames } from './base-tokenizer.js';
import { DEFAULT_BERT_NORMALIZER, normalizeBertText, type BertNormalizerConfig } from './bert-normalizer.js';
import { prepareBertText, scanBertWords, unstableMask, type WordVisitor } from './bert-pre-tokenizer.js';
import type { TokenSink } from './encoding.js';
import { readTextFile, readJsonFile, writeHfFiles } from './files.js';
import { bertTokenizerJson, parseBertTokenizerJson, type TokenizerJson } from './tokenizer-json.js';
import { checkTokenizerJson } from './tokenizer-json.js';
import { WordPiece } from './wordpiece.js';

/** Options of {@link BertTokenizer} (HF `tokenizer_config.json` names in the comments). */
export interface BertTokenizerOptions {
  /** `do_lower_case`. Default true. */
  doLowerCase?: boolean;
  /** `strip_accents`: null/undefined follows `doLowerCase`. */
  stripAccents?: boolean | null;
  /** `tokenize_chinese_chars`. Default true. */
  tokenizeChineseChars?: boolean;
  /** BertNormalizer `clean_text`. Default true. */
  cleanText?: boolean;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Default 100. */
  maxInputCharsPerWord?: number;
  /** Default '##'. */
  continuingSubwordPrefix?: string;
  /** `model_max_length`. Default 512. */
  modelMaxLength?: number;
  /** Default true (BERT's HF default). */
  cleanUpTokenizationSpaces?: boolean;
  /** Word -> pieces cache size. Default 200,000 words. */
  cacheSize?: number;
}

const DEFAULT_NAMES: SpecialTokenNames = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', mask: '[MASK]', unk: '[UNK]' };

/** Reads a `vocab.txt` (one token per line, id = line number; a final newline is optional). */
export function parseVocabTxt(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  // Only strip a CR left by Windows line ends: other whitespace can be a real token (HF rstrips "\n" only).
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/**
 * BERT WordPiece tokenizer, equal to HF's (`BertTokenizerFast` / tokenizer.json with
 * BertNormalizer + BertPreTokenizer + WordPiece): clean text, CJK characters as single tokens,
 * lower-casing and accent stripping per config, punctuation split, greedy longest-match WordPiece
 * with `##` continuations, `[UNK]` for words that fail or exceed 100 characters.
 */
export class BertTokenizer extends PreTrainedTokenizer implements WordVisitor {
  readonly normalizer: BertNormalizerConfig;
  readonly model: WordPiece;
  readonly continuingSubwordPrefix: string;
  private readonly mask: number;
  /** Id of each one-code-unit word, `[65536]`: most Chinese tokens never touch a Map or a string. */
  private readonly charIds: Int32Array;
  private sink: TokenSink | null = null;

  /**
   * @param vocab token of each id, `[V]` (vocab.txt order).
   * @param addedTokens tokenizer.json `added_tokens`; default: the five specials, as HF saves them.
   */
  constructor(vocab: readonly string[], options: BertTokenizerOptions = {}, addedTokens?: readonly AddedToken[]) {
    const names: SpecialTokenNames = {
      cls: options.clsToken ?? DEFAULT_NAMES.cls,
      sep: options.sepToken ?? DEFAULT_NAMES.sep,
      pad: options.padToken ?? DEFAULT_NAMES.pad,
      mask: options.maskToken ?? DEFAULT_NAMES.mask,
      unk: options.unkToken ?? DEFAULT_NAMES.unk,
    };
    const index = new Map(vocab.map((t, i) => [t, i]));
    const added =
      addedTokens ??
      [names.pad, names.unk, names.cls, names.sep, names.mask]
        .filter((t) => index.has(t))
        .map((t) => specialAddedToken(index.get(t)!, t))
        .sort((a, b) => a.id - b.id);
    super(vocab, added, names, 'bert', options.modelMaxLength ?? 512, options.cleanUpTokenizationSpaces ?? true, 'BertTokenizer');
    this.normalizer = {
      cleanText: options.cleanText ?? DEFAULT_BERT_NORMALIZER.cleanText,
      tokenizeChineseChars: options.tokenizeChineseChars ?? DEFAULT_BERT_NORMALIZER.tokenizeChineseChars,
      lowercase: options.doLowerCase ?? DEFAULT_BERT_NORMALIZER.lowercase,
      stripAccents: options.stripAccents ?? null,
    };
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? '##';
    this.model = new WordPiece(
      this.tokenToIdMap,
      {
        unkToken: names.unk,
        continuingSubwordPrefix: this.continuingSubwordPrefix,
        maxInputCharsPerWord: options.maxInputCharsPerWord ?? 100,
      },
      options.cacheSize,
    );
    this.mask = unstableMask(this.normalizer);
    this.charIds = new Int32Array(0x10000).fill(this.unkTokenId);
    vocab.forEach((t, id) => {
      if (t.length === 1) this.charIds[t.charCodeAt(0)] = id;
    });
  }

  /** From the lines of a vocab.txt file. */
  static fromVocabText(text: string, options: BertTokenizerOptions = {}): BertTokenizer {
    const vocab = parseVocabTxt(text);
    if (vocab.length === 0) throw new Error('BertTokenizer.fromVocabText: the vocabulary is empty (vocab.txt needs one token per line)');
    return new BertTokenizer(vocab, options);
  }

  /** From a vocab.txt path. */
  static async fromVocabFile(path: string, options: BertTokenizerOptions = {}): Promise<BertTokenizer> {
    return BertTokenizer.fromVocabText(await readTextFile(path, 'BertTokenizer.fromVocabFile'), options);
  }

  /** From a parsed HF tokenizer.json (model.type WordPiece, BertNormalizer/BertPreTokenizer). */
  static fromTokenizerJson(json: TokenizerJson, config: Record<string, unknown> = {}): BertTokenizer {
    const p = parseBertTokenizerJson(json);
    return new BertTokenizer(p.vocab, { ...p.options, ...configOptions(config) }, p.addedTokens);
  }

  /** From a tokenizer.json path. */
  static async fromTokenizerFile(path: string): Promise<BertTokenizer> {
    return BertTokenizer.fromTokenizerJson(checkTokenizerJson(await readJsonFile(path, 'BertTokenizer.fromTokenizerFile'), `BertTokenizer.fromTokenizerFile: ${path}`));
  }

  /** The text the HF normalizer would produce (CJK spaced out, lower-cased, accents stripped). */
  normalize(text: string): string {
    return normalizeBertText(text, this.normalizer);
  }

  protected encodeSection(text: string, sink: TokenSink): void {
    this.sink = sink;
    scanBertWords(prepareBertText(text, this.normalizer, this.mask), this.normalizer.tokenizeChineseChars, this);
    this.sink = null;
  }

  /** @internal WordVisitor: one pre-tokenizer word `text[start, end)`. */
  word(text: string, start: number, end: number): void {
    const sink = this.sink!;
    if (end - start === 1) sink.pushWord1(this.charIds[text.charCodeAt(start)]!);
    else sink.pushWord(this.model.tokenize(text.slice(start, end)));
  }

  protected decodeTokens(tokens: string[]): string {
    // HF WordPiece decoder: drop the prefix of continuations, space before other tokens, and
    // clean up each token (decoder `cleanup: true`).
    const prefix = this.continuingSubwordPrefix;
    let out = '';
    for (let i = 0; i < tokens.length; i++) {
      let t = tokens[i]!;
      if (i > 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
      out += t;
    }
    return out;
  }

  isContinuation(token: string): boolean {
    return token.length > this.continuingSubwordPrefix.length && token.startsWith(this.continuingSubwordPrefix);
  }

  /** tokenizer.json contents for this tokenizer. */
  toTokenizerJson(): TokenizerJson {
    return bertTokenizerJson(this);
  }

  /** tokenizer_config.json contents, as transformers writes for BertTokenizer(Fast). */
  tokenizerConfig(): Record<string, unknown> {
    const added = this.addedTokensDecoder();
    const n = this.specialTokenNames;
    return {
      added_tokens_decoder: added,
      clean_up_tokenization_spaces: this.cleanUpTokenizationSpaces,
      cls_token: n.cls,
      do_basic_tokenize: true,
      do_lower_case: this.normalizer.lowercase,
      mask_token: n.mask,
      model_max_length: this.modelMaxLength,
      never_split: null,
      pad_token: n.pad,
      sep_token: n.sep,
      strip_accents: this.normalizer.stripAccents,
      tokenize_chinese_chars: this.normalizer.tokenizeChineseChars,
      tokenizer_class: 'BertTokenizer',
      unk_token: n.unk,
    };
  }

  /** Writes vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json. */
  async save(dir: string): Promise<void> {
    await writeHfFiles(dir, this.hfFiles());
  }

  /** What `save` writes, file name -> text (for callers without a file system, e.g. a browser download). */
  hfFiles(): Record<string, string> {
    const n = this.specialTokenNames;
    return {
      'vocab.txt': this.vocab.join('\n') + '\n',
      'tokenizer.json': JSON.stringify(this.toTokenizerJson(), null, 2),
      'tokenizer_config.json': JSON.stringify(this.tokenizerConfig(), null, 2),
      'special_tokens_map.json': JSON.stringify(
        { cls_token: n.cls, mask_token: n.mask, pad_token: n.pad, sep_token: n.sep, unk_token: n.unk },
        null,
        2,
      ),
    };
  }
}

/** BertTokenizerOptions from a tokenizer_config.json object (only the fields it sets). */
export function configOptions(config: Record<string, unknown>): BertTokenizerOptions {
  const o: BertTokenizerOptions = {};
  if (typeof config.do_lower_case === 'boolean') o.doLowerCase = config.do_lower_case;
  if (typeof config.strip_accents === 'boolean' || config.strip_accents === null) o.stripAccents = config.strip_accents as boolean | null;
  if (typeof config.tokenize_chinese_chars === 'boolean') o.tokenizeChineseChars = config.tokenize_chinese_chars;
  if (typeof config.model_max_length === 'number' && config.model_max_length < 1e9) o.modelMaxLength = config.model_max_length;
  if (typeof config.clean_up_tokenization_spaces === 'boolean') o.cleanUpTokenizationSpaces = config.clean_up_tokenization_spaces;
  for (const [k, f] of [
    ['unk_token', 'unkToken'],
    ['cls_token', 'clsToken'],
    ['sep_token', 'sepToken'],
    ['pad_token', 'padToken'],
    ['mask_token', 'maskToken'],
  ] as const) {
    const v = config[k];
    if (typeof v === 'string') o[f] = v;
    else if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') o[f] = (v as { content: string }).content;
  }
  return o;
}
