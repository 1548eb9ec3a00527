import { specialAddedToken, type AddedToken } from './added-tokens.js';
import { PreTrainedTokenizer, type SpecialTokenNames } from './base-tokenizer.js';
import { ByteLevelBpe } from './bpe.js';
import { CHAR_TO_BYTE, splitGpt2, type PieceVisitor } from './byte-level.js';
import type { TokenSink } from './encoding.js';
import { readJsonFile, readTextFile, writeHfFiles } from './files.js';
import { parseBpeTokenizerJson, robertaTokenizerJson, type TokenizerJson } from './tokenizer-json.js';
import { checkTokenizerJson } from './tokenizer-json.js';

/** Options of {@link RobertaTokenizer} (HF names in the comments). */
export interface RobertaTokenizerOptions {
  /** `add_prefix_space`: prepend ' ' to each text section that does not start with one. Default false. */
  addPrefixSpace?: boolean;
  /** `bos_token` = `cls_token`. Default '<s>'. */
  bosToken?: string;
  /** `eos_token` = `sep_token`. Default '</s>'. */
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  maskToken?: string;
  /** Default 512. */
  modelMaxLength?: number;
  /** Default false (recent HF RoBERTa configs). */
  cleanUpTokenizationSpaces?: boolean;
  /** Pre-token -> ids cache size. Default 200,000. */
  cacheSize?: number;
}

/** Reads merges.txt: an optional `#version` line, then one "a b" merge per line. */
export function parseMergesTxt(text: string): [string, string][] {
  const out: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp === line.length - 1) throw new Error(`parseMergesTxt: line ${i + 1} must be "a b", found ${JSON.stringify(line)}`);
    out.push([line.slice(0, sp), line.slice(sp + 1)]);
  });
  return out;
}

/**
 * RoBERTa / GPT-2 byte-level BPE tokenizer, equal to HF's (ByteLevel pre-tokenizer with the GPT-2
 * regex, BPE by merge rank, RobertaProcessing `<s> A </s>`, ByteLevel decoder).
 */
export class RobertaTokenizer extends PreTrainedTokenizer implements PieceVisitor {
  readonly model: ByteLevelBpe;
  readonly merges: readonly (readonly [string, string])[];
  readonly addPrefixSpace: boolean;
  /** Each token character is one byte of the text (TokenizerLike.byteLevel). */
  readonly byteLevel = true;
  private sink: TokenSink | null = null;

  /**
   * @param vocab token of each id, `[V]`.
   * @param merges merge list in rank order.
   */
  constructor(
    vocab: readonly string[],
    merges: readonly (readonly [string, string])[],
    options: RobertaTokenizerOptions = {},
    addedTokens?: readonly AddedToken[],
  ) {
    const names: SpecialTokenNames = {
      cls: options.bosToken ?? '<s>',
      sep: options.eosToken ?? '</s>',
      pad: options.padToken ?? '<pad>',
      mask: options.maskToken ?? '<mask>',
      unk: options.unkToken ?? '<unk>',
    };
    const index = new Map(vocab.map((t, i) => [t, i]));
    const added =
      addedTokens ??
      [names.cls, names.pad, names.sep, names.unk, names.mask]
        .filter((t) => index.has(t))
        // <mask> swallows the space before it, so "a <mask>" predicts " word" tokens (HF RoBERTa).
        .map((t) => specialAddedToken(index.get(t)!, t, t === names.mask))
        .sort((a, b) => a.id - b.id);
    super(vocab, added, names, 'roberta', options.modelMaxLength ?? 512, options.cleanUpTokenizationSpaces ?? false, 'RobertaTokenizer');
    this.addPrefixSpace = options.addPrefixSpace ?? false;
    this.merges = merges;
    this.model = new ByteLevelBpe(this.tokenToIdMap, merges, null, options.cacheSize);
  }

  /** From a parsed tokenizer.json (model.type BPE, ByteLevel pre-tokenizer). */
  static fromTokenizerJson(json: TokenizerJson, config: Record<string, unknown> = {}): RobertaTokenizer {
    const p = parseBpeTokenizerJson(json);
    const opts: RobertaTokenizerOptions = { addPrefixSpace: p.addPrefixSpace, bosToken: p.cls, eosToken: p.sep };
    return new RobertaTokenizer(p.vocab, p.merges, { ...opts, ...robertaConfigOptions(config) }, p.addedTokens);
  }

  static async fromTokenizerFile(path: string): Promise<RobertaTokenizer> {
    return RobertaTokenizer.fromTokenizerJson(checkTokenizerJson(await readJsonFile(path, 'RobertaTokenizer.fromTokenizerFile'), `RobertaTokenizer.fromTokenizerFile: ${path}`));
  }

  /** From vocab.json (token -> id) and merges.txt contents. */
  static fromVocabAndMerges(vocabJson: Record<string, number>, mergesTxt: string, options: RobertaTokenizerOptions = {}): RobertaTokenizer {
    const vocab: string[] = [];
    for (const [t, id] of Object.entries(vocabJson)) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`RobertaTokenizer.fromVocabAndMerges: vocab.json[${JSON.stringify(t)}] must be a non-negative integer, found ${id}`);
      vocab[id] = t;
    }
    for (let i = 0; i < vocab.length; i++) {
      if (vocab[i] === undefined) throw new Error(`RobertaTokenizer.fromVocabAndMerges: vocab.json ids must be 0..${vocab.length - 1}; id ${i} is missing`);
    }
    return new RobertaTokenizer(vocab, parseMergesTxt(mergesTxt), options);
  }

  static async fromFiles(vocabPath: string, mergesPath: string, options: RobertaTokenizerOptions = {}): Promise<RobertaTokenizer> {
    const who = 'RobertaTokenizer.fromFiles';
    const vocab = (await readJsonFile(vocabPath, who)) as Record<string, number>;
    return RobertaTokenizer.fromVocabAndMerges(vocab, await readTextFile(mergesPath, who), options);
  }

  protected encodeSection(text: string, sink: TokenSink): void {
    this.sink = sink;
    splitGpt2(this.addPrefixSpace && text.charCodeAt(0) !== 32 ? ' ' + text : text, this);
    this.sink = null;
  }

  /** @internal PieceVisitor: one GPT-2 pre-token `text[start, end)`. */
  piece(text: string, start: number, end: number): void {
    const ids = this.model.encodePiece(text.slice(start, end));
    if (ids.length > 0) this.sink!.pushWord(ids);
  }

  protected decodeTokens(tokens: string[]): string {
    // HF ByteLevel decoder: every char back to its byte (a token with a non-byte char, e.g. an
    // added token, contributes its UTF-8 bytes), then lossy UTF-8 decoding of the whole stream.
    const bytes: number[] = [];
    const enc = new TextEncoder();
    for (const t of tokens) {
      let ok = true;
      const start = bytes.length;
      for (let k = 0; k < t.length; k++) {
        const c = t.charCodeAt(k);
        const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
        if (b < 0) {
          ok = false;
          break;
        }
        bytes.push(b);
      }
      if (!ok) {
        bytes.length = start;
        for (const b of enc.encode(t)) bytes.push(b);
      }
    }
    return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(Uint8Array.from(bytes));
  }

  isContinuation(token: string): boolean {
    // A byte-level word starts with its space ('Ġ'); anything else glues to the previous token.
    return token.length > 0 && token.charCodeAt(0) !== 0x120;
  }

  toTokenizerJson(): TokenizerJson {
    return robertaTokenizerJson(this);
  }

  tokenizerConfig(): Record<string, unknown> {
    const added = this.addedTokensDecoder();
    const n = this.specialTokenNames;
    return {
      add_prefix_space: this.addPrefixSpace,
      added_tokens_decoder: added,
      bos_token: n.cls,
      clean_up_tokenization_spaces: this.cleanUpTokenizationSpaces,
      cls_token: n.cls,
      eos_token: n.sep,
      errors: 'replace',
      mask_token: n.mask,
      model_max_length: this.modelMaxLength,
      pad_token: n.pad,
      sep_token: n.sep,
      tokenizer_class: 'RobertaTokenizer',
      trim_offsets: true,
      unk_token: n.unk,
    };
  }

  /** Writes vocab.json, merges.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json. */
  async save(dir: string): Promise<void> {
    const n = this.specialTokenNames;
    const vocab: Record<string, number> = Object.create(null);
    this.vocab.forEach((t, i) => {
      vocab[t] = i;
    });
    const mask = this.addedTokens.find((a) => a.content === n.mask);
    await writeHfFiles(dir, {
      'vocab.json': JSON.stringify(vocab),
      'merges.txt': '#version: 0.2\n' + this.merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n',
      'tokenizer.json': JSON.stringify(this.toTokenizerJson(), null, 2),
      'tokenizer_config.json': JSON.stringify(this.tokenizerConfig(), null, 2),
      'special_tokens_map.json': JSON.stringify(
        {
          bos_token: n.cls,
          cls_token: n.cls,
          eos_token: n.sep,
          mask_token: { content: n.mask, lstrip: mask?.lstrip ?? true, normalized: false, rstrip: false, single_word: false },
          pad_token: n.pad,
          sep_token: n.sep,
          unk_token: n.unk,
        },
        null,
        2,
      ),
    });
  }
}

/** RobertaTokenizerOptions from a tokenizer_config.json object (only the fields it sets). */
export function robertaConfigOptions(config: Record<string, unknown>): RobertaTokenizerOptions {
  const o: RobertaTokenizerOptions = {};
  if (typeof config.add_prefix_space === 'boolean') o.addPrefixSpace = config.add_prefix_space;
  if (typeof config.model_max_length === 'number' && config.model_max_length < 1e9) o.modelMaxLength = config.model_max_length;
  if (typeof config.clean_up_tokenization_spaces === 'boolean') o.cleanUpTokenizationSpaces = config.clean_up_tokenization_spaces;
  const name = (v: unknown): string | undefined =>
    typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
  const set = <K extends keyof RobertaTokenizerOptions>(k: K, v: RobertaTokenizerOptions[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set('bosToken', name(config.cls_token) ?? name(config.bos_token));
  set('eosToken', name(config.sep_token) ?? name(config.eos_token));
  set('padToken', name(config.pad_token));
  set('unkToken', name(config.unk_token));
  set('maskToken', name(config.mask_token));
  return o;
}
