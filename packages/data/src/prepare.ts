import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ProgressLine, type ProgressStream } from '@retro/common';
import { CorpusError, type CorpusFormat, type CorpusIssue } from './corpus/types.js';
import type { CleanOptions } from './text/clean.js';
import { DocumentChunker } from './text/pipeline.js';
import { JiebaSegmenter, type WordSegmenter } from './text/segment.js';
import { DEFAULT_CLOSERS, DEFAULT_TERMINATORS, type SplitOptions } from './text/sentences.js';
import { checkTokenizer, specialIdsOf, type TokenizerLike } from './text/tokenizer-like.js';
import { WordTokenizer } from './text/word-tokenizer.js';
import type { IdType } from './shards/format.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  readManifest,
  writeManifest,
  type ManifestShard,
  type ManifestSource,
  type ShardManifest,
} from './shards/manifest.js';
import { availableParallelism } from 'node:os';
import { ChunkPool } from './prepare-pool.js';
import { prepareFile, type FileHooks, type FileJob, type FileOutcome } from './prepare-file.js';

export interface PrepareOptions {
  /** Corpus files (WuDao JSON arrays, JSONL, text). */
  inputs: readonly string[];
  /** Output directory for shards and manifest.json (created if missing). */
  outDir: string;
  tokenizer: TokenizerLike;
  /** Files defining the tokenizer (vocab.txt / tokenizer.json); their sha256 is the tokenizer hash. */
  tokenizerFiles?: readonly string[];
  /** Tokenizer hash to record instead of hashing `tokenizerFiles`. */
  tokenizerHash?: string;
  format?: 'auto' | CorpusFormat;
  /** Malformed records/files: 'skip' (default, reported in the manifest) or 'fail'. */
  onError?: 'skip' | 'fail';
  /** Tokens per chunk including [CLS]/[SEP]. Default 128. */
  maxSeqLength?: number;
  clean?: CleanOptions;
  split?: SplitOptions;
  includeTitle?: boolean;
  /** Drop chunks with fewer content tokens. Default 1. */
  minTokens?: number;
  /** Word grouping for whole-word masking: 'jieba' (default), 'none' (`##` only) or a custom segmenter. */
  segmenter?: 'jieba' | 'none' | WordSegmenter;
  /** Names a custom segmenter in the config hash (required with a custom one). */
  segmenterId?: string;
  /** jieba HMM for unknown words. Default true. */
  jiebaHmm?: boolean;
  /** Stored id width; 'auto' (default): uint16 when vocabSize <= 65536. */
  idType?: 'auto' | IdType;
  /** Default 4M tokens per shard. */
  maxTokensPerShard?: number;
  /** Distinct words whose pieces are cached (speed vs memory; see WordTokenizerOptions). */
  wordCacheSize?: number;
  /**
   * Worker threads. With at least as many files to prepare as workers, each worker prepares whole
   * files (reads, chunks and writes their shards) and the calling thread only records them; with
   * fewer, the calling thread reads and writes and the workers chunk batches of documents. Shards
   * are byte-identical for any count either way.
   * Default: every core when `tokenizerDir` is given and the segmenter is 'jieba' or 'none', else 1.
   * More than 1 needs `tokenizerDir` (workers load the tokenizer from it) and no custom segmenter.
   */
  workers?: number;
  /** Folder the workers load the tokenizer from (AutoTokenizer.fromPretrained); it must be `tokenizer`. */
  tokenizerDir?: string;
  /** Rebuild everything even if the manifest says the files are prepared. */
  force?: boolean;
  /**
   * What to do when `outDir` holds shards made with another tokenizer or chunking config (they
   * would all be deleted): 'rebuild' (default) or 'fail' with an error saying so (the CLI's
   * choice unless --overwrite). `force` always rebuilds.
   */
  onStaleManifest?: 'rebuild' | 'fail';
  /** Drop manifest entries (and shards) of files that are not in `inputs`. Default false (keep them). */
  prune?: boolean;
  /** Progress meter on stderr (default true), or another stream, or false. */
  progress?: boolean | NodeJS.WritableStream;
  /** Meter/callback period. Default 1000 ms. */
  progressIntervalMs?: number;
  onProgress?: (p: PrepareProgress) => void;
  /** Every malformed record/file (also counted in the manifest). */
  onIssue?: (issue: CorpusIssue) => void;
}

export interface PrepareProgress {
  /** 'file' while reading, 'done' once at the end. */
  phase: 'file' | 'done';
  file?: string;
  filesDone: number;
  /** Files that need processing in this run (up-to-date ones excluded). */
  filesTotal: number;
  filesUpToDate: number;
  documents: number;
  chunks: number;
  tokens: number;
  bytesDone: number;
  bytesTotal: number;
  elapsedSeconds: number;
  mbPerSecond: number;
  /** Seconds left at the current rate (NaN before any byte was read). */
  etaSeconds: number;
}

export interface PrepareResult {
  outDir: string;
  manifest: ShardManifest;
  /** Files read in this run. */
  processed: string[];
  /** Files skipped because the manifest already had them (same size and mtime/sha256, same tokenizer/config). */
  upToDate: string[];
  /** Counts of this run only (manifest.totals has the whole set). */
  documents: number;
  chunks: number;
  tokens: number;
  bytes: number;
  seconds: number;
  /** Problems met in this run (first 1000). */
  issues: CorpusIssue[];
}

/**
 * Corpus files -> pre-tokenized binary shards + manifest.json.
 *
 * Each input file gets its own shards (so files can be added/replaced independently). A file
 * already in the manifest with the same size and mtime (or, when the mtime changed, the same
 * sha256), made with the same tokenizer hash and chunking config, is skipped. A changed
 * tokenizer or config rebuilds everything. Shards and manifest are written atomically and the
 * manifest is updated after every file, so an interrupted run loses at most the file in progress.
 */
export async function prepare(options: PrepareOptions): Promise<PrepareResult> {
  const t0 = Date.now();
  const who = 'prepare';
  const { tokenizer } = options;
  checkTokenizer(tokenizer, who);
  if (!options.inputs?.length) throw new Error(`${who}: inputs must list at least one corpus file`);
  if (!options.outDir) throw new Error(`${who}: outDir is required`);
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });

  const tokenizerInfo = await tokenizerRecord(options);
  const config = configRecord(options);
  const idType = config.idType as IdType;
  let manifest = readManifest(outDir);
  const stale =
    !manifest || options.force || manifest.tokenizer.hash !== tokenizerInfo.hash || manifest.config.hash !== config.hash;
  const now = new Date().toISOString();
  if (stale && manifest && !options.force && options.onStaleManifest === 'fail' && manifest.shards.length > 0) {
    const what = manifest.tokenizer.hash !== tokenizerInfo.hash ? `another tokenizer (hash ${manifest.tokenizer.hash.slice(0, 12)}, this one ${tokenizerInfo.hash.slice(0, 12)})` : 'another chunking config (max length, cleaning, sentence split or word grouping)';
    throw new Error(
      `${who}: ${join(outDir, 'manifest.json')} lists ${manifest.shards.length} shard(s) of ${manifest.sources.length} file(s) made with ${what}; ` +
        `rebuilding would delete them: rebuild on purpose (retro prepare --overwrite) or choose another output folder`,
    );
  }
  if (stale) {
    const old = manifest;
    manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      createdAt: now,
      updatedAt: now,
      tokenizer: tokenizerInfo,
      config,
      totals: { sources: 0, failedSources: 0, records: 0, documents: 0, chunks: 0, tokens: 0, skippedRecords: 0, emptyRecords: 0 },
      sources: [],
      shards: [],
    };
    writeManifest(outDir, manifest);
    if (old) for (const s of old.shards) rmSync(join(outDir, s.file), { force: true });
  }
  const m = manifest!;

  const inputs = [...new Set(options.inputs.map((p) => resolve(p)))];
  const issues: CorpusIssue[] = [];
  const onIssue = (issue: CorpusIssue) => {
    if (issues.length < 1000) issues.push(issue);
    options.onIssue?.(issue);
  };

  // Decide which files need work.
  const todo: Array<{ path: string; size: number; mtimeMs: number }> = [];
  const upToDate: string[] = [];
  for (const path of inputs) {
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      const issue: CorpusIssue = { kind: 'io', file: path, index: 0, message: (e as Error).message, fatalToFile: true };
      onIssue(issue);
      if ((options.onError ?? 'skip') === 'fail') throw new CorpusError(issue);
      continue;
    }
    const entry = m.sources.find((s) => s.path === path);
    if (entry && (await isUpToDate(entry, st.size, st.mtimeMs, outDir))) {
      if (entry.mtimeMs !== st.mtimeMs) entry.mtimeMs = st.mtimeMs;
      upToDate.push(path);
    } else {
      todo.push({ path, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  if (options.prune) {
    const keep = new Set(inputs);
    const dropped = m.sources.filter((s) => !keep.has(s.path));
    m.sources = m.sources.filter((s) => keep.has(s.path));
    m.shards = m.shards.filter((s) => keep.has(s.source));
    if (dropped.length) {
      writeManifest(outDir, m);
      for (const s of dropped) for (const f of s.shards) rmSync(join(outDir, f), { force: true });
    }
  }

  const meter = new ProgressMeter(options, todo.length, upToDate.length, todo.reduce((a, f) => a + f.size, 0), t0);

  const workers = workerCount(options);
  const chunkerOptions = {
    maxSeqLength: options.maxSeqLength ?? 128,
    clean: options.clean,
    split: options.split,
    includeTitle: options.includeTitle ?? false,
    minTokens: options.minTokens ?? 1,
  };
  const pool =
    workers > 1 && todo.length > 0
      ? await ChunkPool.start(
          workers,
          {
            tokenizerDir: resolve(options.tokenizerDir!),
            segmenter: options.segmenter === 'none' ? 'none' : 'jieba',
            jiebaHmm: options.jiebaHmm ?? true,
            wordCacheSize: options.wordCacheSize,
            chunker: chunkerOptions,
          },
          { vocabSize: tokenizer.vocabSize, specials: [tokenizer.clsTokenId, tokenizer.sepTokenId, tokenizer.padTokenId, tokenizer.maskTokenId] },
        )
      : undefined;

  // In-process chunking only without workers (each worker holds its own jieba dictionary).
  const segmenter =
    pool || options.segmenter === 'none' ? null : typeof options.segmenter === 'object' ? options.segmenter : new JiebaSegmenter(options.jiebaHmm ?? true);
  const chunker = pool ? undefined : new DocumentChunker(new WordTokenizer(tokenizer, segmenter, { cacheSize: options.wordCacheSize }), chunkerOptions);

  const processed: string[] = [];
  let documents = 0;
  let chunks = 0;
  let tokens = 0;
  const jobs = todo.map((file) => {
    const previous = m.sources.find((s) => s.path === file.path);
    const generation = (previous ? generationOf(previous) : 0) + 1;
    const stem = basename(file.path).replace(/[^A-Za-z0-9._-]/g, '_');
    const tag = createHash('sha256').update(file.path).digest('hex').slice(0, 8);
    const job: FileJob = {
      path: file.path,
      outDir,
      shardPrefix: `${stem}-${tag}-g${generation}-`,
      idType,
      maxTokensPerShard: options.maxTokensPerShard,
      format: options.format ?? 'auto',
      onError: options.onError ?? 'skip',
    };
    return { file, previous, generation, job };
  });
  /** Puts a finished file into the manifest (written at once) and drops its replaced shards. */
  const record = (i: number, outcome: FileOutcome): void => {
    const { file, previous, generation } = jobs[i];
    const fs = outcome.summary;
    const entry: ManifestSource = {
      path: file.path,
      size: file.size,
      mtimeMs: file.mtimeMs,
      ...(fs.sha256 ? { sha256: fs.sha256 } : {}),
      format: fs.format,
      records: fs.records,
      documents: fs.documents,
      chunks: outcome.chunks,
      tokens: outcome.tokens,
      skippedRecords: fs.skipped,
      emptyRecords: fs.empty,
      ...(fs.failed ? { failed: fs.failed } : {}),
      shards: outcome.shards.map((s) => s.file),
      generation,
    };
    const newShards: ManifestShard[] = outcome.shards.map((s) => ({ ...s, source: file.path }));
    if (previous) m.sources[m.sources.indexOf(previous)] = entry;
    else m.sources.push(entry);
    m.shards = m.sources.flatMap((s) =>
      s.path === file.path ? newShards : m.shards.filter((sh) => sh.source === s.path),
    );
    m.updatedAt = new Date().toISOString();
    writeManifest(outDir, m);
    if (previous) for (const f of previous.shards) if (!entry.shards.includes(f)) rmSync(join(outDir, f), { force: true });
    processed.push(file.path);
    documents += fs.documents;
    chunks += outcome.chunks;
    tokens += outcome.tokens;
    meter.fileDone();
  };
  const hooks: FileHooks = {
    onIssue,
    onBytes: (n) => meter.bytes(n),
    onDocuments: (d, c, t) => {
      meter.count(d, c, t);
      meter.tick();
    },
  };
  try {
    if (pool && todo.length >= pool.size) {
      await prepareFilesOnWorkers(pool, jobs.map((j) => j.job), hooks, record, (job) => (meter.file = job.path));
    } else {
      for (let i = 0; i < jobs.length; i++) {
        meter.file = jobs[i].file.path;
        record(i, await prepareFile(jobs[i].job, pool ? { batches: pool } : { chunker: chunker! }, hooks));
      }
    }
  } catch (e) {
    // Nothing of an unrecorded file stays on disk; the manifest still lists its previous shards.
    meter.finish(false);
    await pool?.close();
    const recorded = new Set(processed);
    for (const { job } of jobs) if (!recorded.has(job.path)) removeShardsOf(job);
    throw e;
  }
  await pool?.close();
  if (todo.length === 0) {
    m.updatedAt = new Date().toISOString();
    writeManifest(outDir, m);
  }
  meter.finish(true);
  return {
    outDir,
    manifest: m,
    processed,
    upToDate,
    documents,
    chunks,
    tokens,
    bytes: meter.bytesDone,
    seconds: (Date.now() - t0) / 1000,
    issues,
  };
}

/**
 * With at least as many files as workers, each worker takes the next file when it is free and
 * prepares it whole (the prepare thread only records). Finished files are recorded in input
 * order, so the manifest always lists a prefix of the work, as the one-thread loop does.
 */
async function prepareFilesOnWorkers(
  pool: ChunkPool,
  jobs: FileJob[],
  hooks: FileHooks,
  record: (index: number, outcome: FileOutcome) => void,
  onStart: (job: FileJob) => void,
): Promise<void> {
  const outcomes: Array<FileOutcome | undefined> = new Array(jobs.length);
  let next = 0;
  let recorded = 0;
  let failed = false;
  const lane = async (worker: number): Promise<void> => {
    while (!failed && next < jobs.length) {
      const i = next++;
      onStart(jobs[i]);
      try {
        outcomes[i] = await pool.runFile(worker, jobs[i], hooks);
      } catch (error) {
        failed = true;
        throw error;
      }
      while (recorded < jobs.length && outcomes[recorded]) record(recorded, outcomes[recorded++]!);
    }
  };
  await Promise.all(Array.from({ length: pool.size }, (_, w) => lane(w)));
}

/** Deletes a job's shards and their temp files (a worker stopped mid-file leaves both). */
function removeShardsOf(job: FileJob): void {
  let names: string[];
  try {
    names = readdirSync(job.outDir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(job.shardPrefix) || name.startsWith(`.${job.shardPrefix}`)) rmSync(join(job.outDir, name), { force: true });
}

/** The worker count `options` ask for, checked (see PrepareOptions.workers). */
function workerCount(o: PrepareOptions): number {
  const custom = typeof o.segmenter === 'object';
  if (o.workers === undefined) return o.tokenizerDir && !custom ? Math.max(1, availableParallelism()) : 1;
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error(`prepare: workers must be an integer >= 1, found ${o.workers}`);
  if (o.workers > 1 && !o.tokenizerDir) throw new Error(`prepare: workers ${o.workers} needs tokenizerDir (the folder each worker loads the tokenizer from)`);
  if (o.workers > 1 && custom) throw new Error(`prepare: workers ${o.workers} cannot run a custom segmenter ('${o.segmenterId}') in worker threads; use workers: 1`);
  return o.workers;
}

function generationOf(s: ManifestSource): number {
  return Number.isInteger(s.generation) ? (s.generation as number) : 0;
}

async function isUpToDate(entry: ManifestSource, size: number, mtimeMs: number, outDir: string): Promise<boolean> {
  if (entry.size !== size) return false;
  if (!entry.shards.every((f) => existsSync(join(outDir, f)))) return false;
  if (entry.mtimeMs === mtimeMs) return true;
  // Same size, new mtime (copied/touched): trust the content hash.
  return entry.sha256 !== undefined && (await sha256File(entry.path)) === entry.sha256;
}

/** sha256 hex of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function tokenizerRecord(o: PrepareOptions): Promise<ShardManifest['tokenizer']> {
  const t = o.tokenizer;
  const files: Array<{ path: string; sha256: string }> = [];
  for (const f of o.tokenizerFiles ?? []) files.push({ path: resolve(f), sha256: await sha256File(f) });
  let hash = o.tokenizerHash;
  if (!hash) {
    if (files.length === 0) {
      throw new Error('prepare: pass tokenizerFiles (vocab.txt / tokenizer.json) or tokenizerHash, so reruns can tell tokenizers apart');
    }
    hash = files.length === 1 ? files[0].sha256 : createHash('sha256').update(files.map((f) => f.sha256).join('\n')).digest('hex');
  }
  return {
    hash,
    files,
    vocabSize: t.vocabSize,
    clsTokenId: t.clsTokenId,
    sepTokenId: t.sepTokenId,
    padTokenId: t.padTokenId,
    maskTokenId: t.maskTokenId,
    specialIds: specialIdsOf(t),
  };
}

function configRecord(o: PrepareOptions): ShardManifest['config'] {
  if (o.segmenter && typeof o.segmenter === 'object' && !o.segmenterId) {
    throw new Error('prepare: a custom segmenter needs a segmenterId (recorded in the manifest config)');
  }
  const idType: IdType = !o.idType || o.idType === 'auto' ? (o.tokenizer.vocabSize <= 65536 ? 'uint16' : 'int32') : o.idType;
  if (idType === 'uint16' && o.tokenizer.vocabSize > 65536) {
    throw new Error(`prepare: idType uint16 cannot hold vocabSize ${o.tokenizer.vocabSize}`);
  }
  const body = {
    maxSeqLength: o.maxSeqLength ?? 128,
    clean: {
      nfkc: o.clean?.nfkc ?? false,
      removeControl: o.clean?.removeControl ?? true,
      collapseWhitespace: o.clean?.collapseWhitespace ?? true,
      keepNewlines: o.clean?.keepNewlines ?? false,
    },
    split: { terminators: o.split?.terminators ?? DEFAULT_TERMINATORS, closers: o.split?.closers ?? DEFAULT_CLOSERS },
    includeTitle: o.includeTitle ?? false,
    minTokens: o.minTokens ?? 1,
    segmenter: o.segmenter === 'none' ? 'none' : typeof o.segmenter === 'object' ? o.segmenterId! : 'jieba',
    jiebaHmm: o.jiebaHmm ?? true,
    idType,
    pipelineVersion: 1,
    // Byte-level BPE word starts are read off the whole-text tokenization since version 2 (before,
    // a Chinese word's first token counted as a continuation and whole words spanned whole chunks).
    ...(o.tokenizer.byteLevel ? { byteLevelWordStarts: 2 } : {}),
  };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  return { ...body, hash };
}

/** Throttled progress on a stream and/or a callback. */
class ProgressMeter {
  file?: string;
  bytesDone = 0;
  private docs = 0;
  private chunks = 0;
  private tokens = 0;
  private filesDone = 0;
  private lastEmit = 0;
  private readonly output: ProgressLine | null;
  private readonly interval: number;

  constructor(
    private readonly o: PrepareOptions,
    private readonly filesTotal: number,
    private readonly filesUpToDate: number,
    private readonly bytesTotal: number,
    private readonly t0: number,
  ) {
    const stream = o.progress === false ? null : o.progress === undefined || o.progress === true ? process.stderr : o.progress;
    this.interval = o.progressIntervalMs ?? 1000;
    // Every emit is already throttled (or a milestone), so the line prints whenever it is shown.
    this.output = stream ? new ProgressLine(stream as ProgressStream, 0) : null;
    this.lastEmit = t0;
  }

  bytes(n: number): void {
    this.bytesDone += n;
  }

  count(docs: number, chunks: number, tokens: number): void {
    this.docs += docs;
    this.chunks += chunks;
    this.tokens += tokens;
  }

  fileDone(): void {
    this.filesDone++;
    this.emit('file');
  }

  tick(): void {
    const now = Date.now();
    if (now - this.lastEmit >= this.interval) this.emit('file');
  }

  finish(ok: boolean): void {
    if (ok) this.emit('done');
    this.output?.finish();
  }

  private snapshot(phase: 'file' | 'done'): PrepareProgress {
    const elapsed = (Date.now() - this.t0) / 1000;
    const rate = elapsed > 0 ? this.bytesDone / elapsed : 0;
    return {
      phase,
      file: this.file,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      filesUpToDate: this.filesUpToDate,
      documents: this.docs,
      chunks: this.chunks,
      tokens: this.tokens,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      elapsedSeconds: elapsed,
      mbPerSecond: rate / 1e6,
      etaSeconds: rate > 0 ? Math.max(0, this.bytesTotal - this.bytesDone) / rate : NaN,
    };
  }

  private emit(phase: 'file' | 'done'): void {
    this.lastEmit = Date.now();
    const p = this.snapshot(phase);
    this.o.onProgress?.(p);
    if (!this.output) return;
    const line =
      `prepare: files ${p.filesDone}/${p.filesTotal}` +
      (p.filesUpToDate ? ` (+${p.filesUpToDate} up to date)` : '') +
      ` | docs ${p.documents.toLocaleString('en-US')} | chunks ${p.chunks.toLocaleString('en-US')}` +
      ` | tokens ${p.tokens.toLocaleString('en-US')} | ${p.mbPerSecond.toFixed(2)} MB/s` +
      (phase === 'done' ? ` | ${p.elapsedSeconds.toFixed(1)} s` : ` | ETA ${Number.isFinite(p.etaSeconds) ? p.etaSeconds.toFixed(0) + ' s' : '?'}`);
    this.output.show(line, this.lastEmit / 1000, true);
  }
}
