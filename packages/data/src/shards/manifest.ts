import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorpusFormat, CorpusIssue } from '../corpus/types.js';
import { writeFileAtomic } from '@retro/common';
import type { IdType } from './format.js';
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
  validateManifest(m, path);
  return m;
}

/**
 * Checks the fields readers rely on, so a hand-edited or foreign manifest fails here with the
 * field named instead of deep inside training. Shard names must be plain file names: a manifest
 * may never make a reader open (or prepare delete) a file outside its folder.
 */
export function validateManifest(m: ShardManifest, path: string): void {
  const fail = (field: string, found: unknown, expected: string) =>
    new Error(`readManifest: ${path}: field '${field}' is ${describe(found)}, expected ${expected}`);
  if (!Array.isArray(m.shards)) throw fail('shards', m.shards, 'a list');
  if (!Array.isArray(m.sources)) throw fail('sources', m.sources, 'a list');
  const t = m.tokenizer as unknown as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw fail('tokenizer', t, 'an object (the tokenizer the shards were made with; rerun retro prepare)');
  if (typeof t.hash !== 'string') throw fail('tokenizer.hash', t.hash, 'a string');
  if (!isCount(t.vocabSize) || (t.vocabSize as number) < 1) throw fail('tokenizer.vocabSize', t.vocabSize, 'an integer >= 1');
  for (const key of ['clsTokenId', 'sepTokenId', 'padTokenId', 'maskTokenId'] as const) {
    if (!isCount(t[key]) || (t[key] as number) >= (t.vocabSize as number)) throw fail(`tokenizer.${key}`, t[key], `an id in [0, ${t.vocabSize})`);
  }
  if (!Array.isArray(t.specialIds) || !t.specialIds.every(isCount)) throw fail('tokenizer.specialIds', t.specialIds, 'a list of ids');
  if (t.files !== undefined && !Array.isArray(t.files)) throw fail('tokenizer.files', t.files, 'a list');
  const c = m.config as unknown as Record<string, unknown> | undefined;
  if (typeof c !== 'object' || c === null) throw fail('config', c, 'an object');
  if (!isCount(c.maxSeqLength) || (c.maxSeqLength as number) < 2) throw fail('config.maxSeqLength', c.maxSeqLength, 'an integer >= 2');
  m.shards.forEach((s, i) => {
    const field = `shards[${i}]`;
    if (typeof s !== 'object' || s === null) throw fail(field, s, 'an object');
    checkFileName(s.file, `${field}.file`, path);
    if (!isCount(s.chunks)) throw fail(`${field}.chunks`, s.chunks, 'an integer >= 0');
    if (!isCount(s.tokens)) throw fail(`${field}.tokens`, s.tokens, 'an integer >= 0');
    if (s.sha256 !== undefined && (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256))) throw fail(`${field}.sha256`, s.sha256, 'a 64-digit hex sha256');
  });
  m.sources.forEach((s, i) => {
    const field = `sources[${i}]`;
    if (typeof s !== 'object' || s === null) throw fail(field, s, 'an object');
    if (typeof s.path !== 'string') throw fail(`${field}.path`, s.path, 'a string');
    if (!Array.isArray(s.shards)) throw fail(`${field}.shards`, s.shards, 'a list of shard file names');
    s.shards.forEach((f, j) => checkFileName(f, `${field}.shards[${j}]`, path));
  });
}

function checkFileName(name: unknown, field: string, path: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new Error(`readManifest: ${path}: field '${field}' is ${describe(name)}, expected a file name inside the shard folder (no '/', '\\' or '..')`);
  }
}

function isCount(x: unknown): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  const text = JSON.stringify(x);
  return text === undefined ? String(x) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
