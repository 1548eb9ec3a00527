/**
 * Data-side comparisons with the reference run: our vocabulary builder vs the reference vocab.txt,
 * and chunk/token counts of `retro prepare` vs the reference's 114,909 chunks / 6.41M tokens.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, buildWordPieceVocab, prepare, writeWordPieceVocab } from '@retro/data';

/** `content` of every document of corpus/part-*.json, in file order (each part ~6 MB, parsed whole). */
export function corpusContents(corpusDir: string): string[] {
  const parts = readdirSync(corpusDir).filter((f) => /^part-.*\.json$/.test(f)).sort();
  if (parts.length === 0) throw new Error(`corpusContents: ${corpusDir} holds no part-*.json`);
  const texts: string[] = [];
  for (const part of parts) {
    const docs = JSON.parse(readFileSync(join(corpusDir, part), 'utf8')) as Array<{ content: string }>;
    for (const d of docs) texts.push(d.content);
  }
  return texts;
}

export interface VocabComparison {
  builtSize: number;
  referenceSize: number;
  counts: unknown;
  onlyInBuilt: string[];
  onlyInReference: string[];
  /** Same token at the same id (the reference's ids are its line numbers). */
  sameId: number;
  seconds: number;
}

/**
 * Builds the BERT-Chinese-style vocab (chars >= 3, words >= 20, observed `##` continuations) from
 * the corpus contents into `outDir`, and compares it token by token with the reference vocab.txt.
 */
export async function buildAndCompareVocab(corpusDir: string, referenceVocab: string, outDir: string): Promise<VocabComparison> {
  const t0 = Date.now();
  const built = await buildWordPieceVocab(corpusContents(corpusDir), { minCharFrequency: 3, minWordFrequency: 20, continuations: 'observed' });
  await writeWordPieceVocab(built, outDir);
  const reference = readFileSync(referenceVocab, 'utf8').split('\n');
  if (reference[reference.length - 1] === '') reference.pop();
  const refSet = new Set(reference);
  const builtSet = new Set(built.vocab);
  let sameId = 0;
  built.vocab.forEach((tok, i) => (sameId += reference[i] === tok ? 1 : 0));
  const show = (s: string) => `${s} (U+${[...s].map((c) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')).join(' U+')})`;
  return {
    builtSize: built.vocab.length,
    referenceSize: reference.length,
    counts: built.counts,
    onlyInBuilt: built.vocab.filter((t) => !refSet.has(t)).map(show),
    onlyInReference: reference.filter((t) => !builtSet.has(t)).map(show),
    sameId,
    seconds: (Date.now() - t0) / 1000,
  };
}

export interface ChunkCounts {
  terminators: string;
  documents: number;
  chunks: number;
  /** Tokens in chunks, [CLS] and [SEP] included. */
  tokens: number;
  /** tokens - 2 x chunks: the text tokens alone. */
  contentTokens: number;
  seconds: number;
}

/**
 * `@retro/data` prepare() with the reference's sentence terminators (。！？ only) instead of
 * prepare's default (。！？；…!?;), to show how much of the chunk-count gap that choice explains.
 * `retro prepare` itself has no flag for the terminators.
 */
export async function countChunksWithTerminators(corpusFiles: string[], tokenizerDir: string, outDir: string, terminators: string): Promise<ChunkCounts> {
  const t0 = Date.now();
  const tokenizer = await AutoTokenizer.fromPretrained(tokenizerDir);
  const result = await prepare({
    inputs: corpusFiles,
    outDir,
    tokenizer,
    tokenizerFiles: await AutoTokenizer.filesIn(tokenizerDir),
    maxSeqLength: 128,
    split: { terminators },
    progress: false,
  });
  const t = result.manifest.totals;
  return { terminators, documents: t.documents, chunks: t.chunks, tokens: t.tokens, contentTokens: t.tokens - 2 * t.chunks, seconds: (Date.now() - t0) / 1000 };
}
