import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusFormat, CorpusIssue } from '../corpus/types.js';
import { writeFileAtomic, type IdType } from './format.js';
import type { ShardInfo } from './writer.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'retro-shards';
export const MANIFEST_VERSION = 1;

/** The tokenizer the shards were made with; `hash` decides whether shards can be reused. */
export interface ManifestTokenizer {
  /** sha256 over the tokenizer files (vocab.txt / tokenizer.json), or as given by the caller. */
  hash: string;
  files: Array<{ path: string; sha256: string }>;
  vocabSize: number;
  clsTokenId: number;
  sepTokenId: number;
  padTokenId: number;
  maskTokenId: number;
  specialIds: number[];
}

/** One input file and what it produced. */
export interface ManifestSource {
  /** Absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 of the file bytes (absent when the file could not be read to the end). */
  sha256?: string;
  format: CorpusFormat;
  records: number;
  documents: number;
  chunks: number;
  tokens: number;
  skippedRecords: number;
  emptyRecords: number;
  /** Set when the rest of the file could not be read; its earlier records are kept. */
  failed?: CorpusIssue;
  shards: string[];
  /** Bumped each time the file is re-processed; part of its shard names so new shards never overwrite listed ones. */
  generation?: number;
}

export interface ManifestShard extends ShardInfo {
  /** Absolute path of the source file. */
  source: string;
}

export interface ShardManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  createdAt: string;
  updatedAt: string;
  tokenizer: ManifestTokenizer;
  /** Everything that changes the token stream (chunking, cleaning, segmenter); `hash` over it. */
  config: Record<string, unknown> & { hash: string; maxSeqLength: number; idType: IdType };
  totals: {
    sources: number;
    failedSources: number;
    records: number;
    documents: number;
    chunks: number;
    tokens: number;
    skippedRecords: number;
    emptyRecords: number;
  };
  sources: ManifestSource[];
  /** In a fixed order (sources in input order, then part number). */
  shards: ManifestShard[];
}

/** Loads `dir/manifest.json`, or returns null when there is none. Throws on a foreign/corrupt one. */
export function readManifest(dir: string): ShardManifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  let m: ShardManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`readManifest: ${path}: not valid JSON: ${(e as Error).message}`);
  }
  if (m?.format !== MANIFEST_FORMAT || m.version !== MANIFEST_VERSION) {
    throw new Error(`readManifest: ${path}: format ${m?.format} v${m?.version}, expected ${MANIFEST_FORMAT} v${MANIFEST_VERSION}`);
  }
  if (!Array.isArray(m.shards) || !Array.isArray(m.sources)) throw new Error(`readManifest: ${path}: missing shards/sources lists`);
  return m;
}

/** Recomputes `totals` from `sources` and writes the manifest atomically. */
export function writeManifest(dir: string, m: ShardManifest): void {
  m.totals = {
    sources: m.sources.length,
    failedSources: m.sources.filter((s) => s.failed).length,
    records: sum(m.sources, 'records'),
    documents: sum(m.sources, 'documents'),
    chunks: sum(m.sources, 'chunks'),
    tokens: sum(m.sources, 'tokens'),
    skippedRecords: sum(m.sources, 'skippedRecords'),
    emptyRecords: sum(m.sources, 'emptyRecords'),
  };
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(m, null, 1) + '\n');
}

function sum(xs: ManifestSource[], k: 'records' | 'documents' | 'chunks' | 'tokens' | 'skippedRecords' | 'emptyRecords'): number {
  let s = 0;
  for (const x of xs) s += x[k];
  return s;
}
