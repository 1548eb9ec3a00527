import { splitOnAddedTokens, type AddedToken } from './added-tokens.js';
import {
  longestFirstLengths,
  TokenSink,
  type BatchEncodeOptions,
  type BatchEncoding,
  type DecodeOptions,
  type EncodeOptions,
  type Encoding,
} from './encoding.js';

/** Names of the special tokens a tokenizer needs. */
export interface SpecialTokenNames {
  cls: string;
  sep: string;
  pad: string;
  mask: string;
  unk: string;
}

/**
 * How specials wrap the text: BERT `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` (B has type 1);
 * RoBERTa `<s> A </s>` / `<s> A </s></s> B </s>` (all type 0: RoBERTa has one token type).
 */
export type TemplateKind = 'bert' | 'roberta';

/** HF `clean_up_tokenization`: removes the spaces decoding puts before punctuation/contractions. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/**
 * Shared encode/decode machinery: added-token splitting, truncation, the special-token template,
 * padding and batching. Subclasses supply the model: how a plain text section becomes ids
 * ({@link encodeSection}) and how tokens become text ({@link decodeTokens}).
 */
export abstract class PreTrainedTokenizer {
  /** Token of each id, `[V]`. */
  readonly vocab: readonly string[];
  protected readonly tokenToIdMap: Map<string, number>;
  readonly addedTokens: readonly AddedToken[];
  readonly specialTokenNames: SpecialTokenNames;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  readonly maskTokenId: number;
  readonly unkTokenId: number;
  /** Ids of all special added tokens (never masked, dropped by `skipSpecialTokens`). */
  readonly specialIds: readonly number[];
  /** HF `model_max_length`, informational (no implicit truncation). */
  modelMaxLength: number;
  /** Default of {@link DecodeOptions.cleanUpTokenizationSpaces}. */
  cleanUpTokenizationSpaces: boolean;
  private readonly specialIdSet: Set<number>;
  private readonly sinkA = new TokenSink();
  private readonly sinkB = new TokenSink();


  /** tokenizer_config.json's `added_tokens_decoder`: id -> the added token's settings, as transformers writes it. */
  protected addedTokensDecoder(): Record<string, unknown> {
    const added: Record<string, unknown> = {};
    for (const a of this.addedTokens) {
      added[String(a.id)] = { content: a.content, lstrip: a.lstrip, normalized: a.normalized, rstrip: a.rstrip, single_word: a.single_word, special: a.special };
    }
    return added;
  }

  protected constructor(
    vocab: readonly string[],
    addedTokens: readonly AddedToken[],
    names: SpecialTokenNames,
    private readonly template: TemplateKind,
    modelMaxLength: number,
    cleanUp: boolean,
    who: string,
  ) {
    this.vocab = vocab;
    this.tokenToIdMap = new Map();
    vocab.forEach((t, i) => {
      if (this.tokenToIdMap.has(t)) throw new Error(`${who}: token ${JSON.stringify(t)} appears twice (ids ${this.tokenToIdMap.get(t)} and ${i})`);
      this.tokenToIdMap.set(t, i);
    });
    for (const a of addedTokens) {
      if (this.tokenToIdMap.get(a.content) !== a.id) {
        throw new Error(`${who}: added token ${JSON.stringify(a.content)} has id ${a.id}, vocabulary says ${this.tokenToIdMap.get(a.content)}`);
      }
    }
    this.addedTokens = addedTokens;
    this.specialTokenNames = names;
    const need = (name: string, field: string): number => {
      const id = this.tokenToIdMap.get(name);
      if (id === undefined) throw new Error(`${who}: ${field} ${JSON.stringify(name)} is not in the vocabulary`);
      return id;
    };
    this.clsTokenId = need(names.cls, 'cls_token');
    this.sepTokenId = need(names.sep, 'sep_token');
    this.padTokenId = need(names.pad, 'pad_token');
    this.maskTokenId = need(names.mask, 'mask_token');
    this.unkTokenId = need(names.unk, 'unk_token');
    const specials = new Set(addedTokens.filter((a) => a.special).map((a) => a.id));
    for (const id of [this.clsTokenId, this.sepTokenId, this.padTokenId, this.maskTokenId, this.unkTokenId]) specials.add(id);
    this.specialIds = [...specials].sort((a, b) => a - b);
    this.specialIdSet = specials;
    this.modelMaxLength = modelMaxLength;
    this.cleanUpTokenizationSpaces = cleanUp;
  }

  /** Number of ids (added tokens included): every id is in [0, vocabSize). */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Appends the ids of a text section that contains no added token. */
  protected abstract encodeSection(text: string, sink: TokenSink): void;

  /** The model decoder: tokens (specials already filtered) to text, before clean-up. */
  protected abstract decodeTokens(tokens: string[]): string;

  /** Does `token` continue the previous token's word (WordPiece `##x`; BPE: no leading `Ġ`)? */
  abstract isContinuation(token: string): boolean;

  /** Writes the HF files of this tokenizer into `dir` (created if missing). */
  abstract save(dir: string): Promise<void>;

  /** Ids of `text` without specials, with the word index of every token. */
  private encodeContent(text: string, sink: TokenSink): void {
    sink.reset();
    if (text.length === 0) return;
    const sections = this.addedTokens.length > 0 ? splitOnAddedTokens(text, this.addedTokens) : [{ text }];
    for (const s of sections) {
      if (s.token) sink.pushWord1(s.token.id);
      else this.encodeSection(s.text, sink);
    }
  }

  /**
   * Encodes one text (or pair) into ids `[L]`, HF-style.
   * @example tok.encode('你好 world', { maxLength: 8 }).ids
   */
  encode(text: string, options: EncodeOptions = {}): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const pair = options.textPair;
    this.encodeContent(text, this.sinkA);
    if (pair !== undefined) this.encodeContent(pair, this.sinkB);
    const a = this.sinkA;
    const b = pair !== undefined ? this.sinkB : null;
    const nSpecial = !addSpecial ? 0 : b === null ? 2 : this.template === 'bert' ? 3 : 4;
    let nA = a.length;
    let nB = b ? b.length : 0;
    const max = options.maxLength;
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
      throw new Error(`encode: maxLength must be a non-negative integer, found ${max}`);
    }
    if (max !== undefined && (options.truncation ?? true)) {
      const budget = max - nSpecial;
      if (budget < 0) throw new Error(`encode: maxLength ${max} is shorter than the ${nSpecial} special tokens`);
      [nA, nB] = longestFirstLengths(nA, nB, budget);
    }
    const real = nA + nB + nSpecial;
    const total = options.padding === 'max_length' && max !== undefined ? Math.max(max, real) : real;
    const enc = this.allocate(total, real);
    const typeB = this.template === 'bert' ? 1 : 0;
    let p = 0;
    if (addSpecial) p = this.putSpecial(enc, p, this.clsTokenId, 0);
    p = this.putSequence(enc, p, a, nA, 0);
    if (addSpecial) p = this.putSpecial(enc, p, this.sepTokenId, 0);
    if (b) {
      if (addSpecial && this.template === 'roberta') p = this.putSpecial(enc, p, this.sepTokenId, 0);
      p = this.putSequence(enc, p, b, nB, typeB);
      if (addSpecial) p = this.putSpecial(enc, p, this.sepTokenId, typeB);
    }
    const padToken = this.vocab[this.padTokenId]!;
    for (; p < total; p++) {
      enc.ids[p] = this.padTokenId;
      enc.tokens[p] = padToken;
      enc.tokenTypeIds[p] = 0;
      enc.wordIds[p] = null;
      enc.specialTokensMask[p] = 1;
    }
    return enc;
  }

  /** Writes one template special at position p; returns the next position. */
  private putSpecial(enc: Encoding, p: number, id: number, type: number): number {
    enc.ids[p] = id;
    enc.tokens[p] = this.vocab[id]!;
    enc.tokenTypeIds[p] = type;
    enc.wordIds[p] = null;
    enc.specialTokensMask[p] = 1;
    return p + 1;
  }

  /** Writes the first n tokens of a sequence from p on; returns the next position. */
  private putSequence(enc: Encoding, p: number, s: TokenSink, n: number, type: number): number {
    const ids = s.ids;
    const words = s.words;
    const vocab = this.vocab;
    let prev = -1;
    for (let k = 0; k < n; k++, p++) {
      const id = ids[k]!;
      const w = words[k]!;
      enc.ids[p] = id;
      enc.tokens[p] = vocab[id]!;
      enc.tokenTypeIds[p] = type;
      enc.wordIds[p] = w;
      enc.wordStarts[p] = w !== prev ? 1 : 0;
      prev = w;
    }
    return p;
  }

  private allocate(total: number, real: number): Encoding {
    const attentionMask = new Array<number>(total);
    for (let k = 0; k < total; k++) attentionMask[k] = k < real ? 1 : 0;
    return {
      ids: new Array<number>(total),
      tokens: new Array<string>(total),
      attentionMask,
      tokenTypeIds: new Array<number>(total),
      wordIds: new Array<number | null>(total),
      wordStarts: new Uint8Array(total),
      specialTokensMask: new Uint8Array(total),
      length: real,
    };
  }

  /**
   * Encodes a batch and pads it: `inputIds`/`attentionMask`/`tokenTypeIds` are `[B, L]` row-major,
   * L = the longest item ('longest') or `maxLength` ('max_length').
   */
  encodeBatch(texts: readonly string[], options: BatchEncodeOptions = {}): BatchEncoding {
    const padding = options.padding ?? 'longest';
    if (padding === 'max_length' && options.maxLength === undefined) {
      throw new Error(`encodeBatch: padding 'max_length' needs maxLength`);
    }
    if (options.textPairs && options.textPairs.length !== texts.length) {
      throw new Error(`encodeBatch: textPairs has ${options.textPairs.length} entries, texts has ${texts.length}`);
    }
    const encodings = texts.map((t, i) =>
      this.encode(t, {
        addSpecialTokens: options.addSpecialTokens,
        maxLength: options.maxLength,
        truncation: options.truncation,
        textPair: options.textPairs?.[i],
        padding: padding === 'max_length' ? 'max_length' : false,
      }),
    );
    let L = 0;
    for (const e of encodings) L = Math.max(L, e.ids.length);
    if (padding === 'longest') for (let i = 0; i < encodings.length; i++) encodings[i] = this.pad(encodings[i]!, L);
    const ragged = encodings.some((e) => e.ids.length !== L);
    const B = encodings.length;
    const inputIds = new Int32Array(ragged ? 0 : B * L);
    const attentionMask = new Int32Array(ragged ? 0 : B * L);
    const tokenTypeIds = new Int32Array(ragged ? 0 : B * L);
    if (!ragged) {
      encodings.forEach((e, b) => {
        inputIds.set(e.ids, b * L);
        attentionMask.set(e.attentionMask, b * L);
        tokenTypeIds.set(e.tokenTypeIds, b * L);
      });
    }
    return { encodings, inputIds, attentionMask, tokenTypeIds, batchSize: B, seqLength: ragged ? -1 : L };
  }

  /** Right-pads an encoding to `length` tokens (no-op when already as long). */
  pad(e: Encoding, length: number): Encoding {
    const n = e.ids.length;
    if (n >= length) return e;
    const extra = length - n;
    const grow = (u: Uint8Array, fill: number): Uint8Array => {
      const out = new Uint8Array(length).fill(fill);
      out.set(u);
      return out;
    };
    return {
      ids: e.ids.concat(new Array<number>(extra).fill(this.padTokenId)),
      tokens: e.tokens.concat(new Array<string>(extra).fill(this.vocab[this.padTokenId]!)),
      attentionMask: e.attentionMask.concat(new Array<number>(extra).fill(0)),
      tokenTypeIds: e.tokenTypeIds.concat(new Array<number>(extra).fill(0)),
      wordIds: e.wordIds.concat(new Array<null>(extra).fill(null)),
      wordStarts: grow(e.wordStarts, 0),
      specialTokensMask: grow(e.specialTokensMask, 1),
      length: e.length,
    };
  }

  /** Word pieces of `text`, no specials (`[UNK]` for unknown words). */
  tokenize(text: string): string[] {
    this.encodeContent(text, this.sinkA);
    const out = new Array<string>(this.sinkA.length);
    for (let k = 0; k < out.length; k++) out[k] = this.vocab[this.sinkA.ids[k]!]!;
    return out;
  }

  /**
   * Ids of `text` without specials, `[n]`, plus the word index of each token — the cheapest call
   * (no token strings, no masks); the array views are only valid until the next encode.
   */
  encodeIds(text: string): { ids: Int32Array; words: Int32Array } {
    this.encodeContent(text, this.sinkA);
    return { ids: this.sinkA.ids.subarray(0, this.sinkA.length), words: this.sinkA.words.subarray(0, this.sinkA.length) };
  }

  /** Id of each token; tokens outside the vocabulary map to the unknown id. */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((t) => this.tokenToIdMap.get(t) ?? this.unkTokenId);
  }

  /** Id of `token`, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  /** Token of each id; throws for ids outside [0, vocabSize). */
  convertIdsToTokens(ids: ArrayLike<number>): string[] {
    const out = new Array<string>(ids.length);
    for (let k = 0; k < ids.length; k++) {
      const t = this.vocab[ids[k]!];
      if (t === undefined) throw new Error(`convertIdsToTokens: id ${ids[k]} at position ${k} is outside [0, ${this.vocab.length})`);
      out[k] = t;
    }
    return out;
  }

  /** Is `id` one of the special tokens? */
  isSpecialId(id: number): boolean {
    return this.specialIdSet.has(id);
  }

  /** Text of `ids` (HF `decode`). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let kept: number[] = Array.from(ids);
    if (options.skipSpecialTokens) kept = kept.filter((id) => !this.specialIdSet.has(id));
    const text = this.decodeTokens(this.convertIdsToTokens(kept));
    return options.cleanUpTokenizationSpaces ?? this.cleanUpTokenizationSpaces ? cleanUpTokenization(text) : text;
  }

  /** Decodes every row of a batch. */
  decodeBatch(batch: readonly ArrayLike<number>[], options: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, options));
  }

  /** Token -> id map (a copy). */
  getVocab(): Map<string, number> {
    return new Map(this.tokenToIdMap);
  }
}
