/**
 * Corpus streaming memory and throughput: synthesises a ~1 GB WuDao-format file (a JSON array of
 * {id, uniqueKey, titleUkey, dataType, title, content}) in /tmp from generated text (no shared
 * data), then streams it through @retro/data and reports peak RSS and MB/s per stage:
 *
 * - read:     readDocuments only (JSON scanning + UTF-8 checks + record validation);
 * - pipeline: read + cleanText + splitSentences + a simple per-character tokenizer;
 * - prepare:  the full prepare(): jieba word segmentation, WordTokenizer, chunking, shard writing.
 *
 *   node --import tsx benchmarks/corpus-memory.ts [--size-mb N] [--json FILE]
 *                                                 [--file PATH[,PATH..]] [--files N] [--keep] [--vocab vocab.txt] [--seed N] [--workers 1,2]
 *                                                 [--modes read,pipeline,prepare,cli,processes]
 *
 * Each stage runs in a fresh child process, so its peak RSS (getrusage maxRSS, the true peak of
 * the process) is not inflated by generation or by the other stages. `--vocab` runs `prepare`
 * with the real BertTokenizer of that vocab.txt instead of the character tokenizer. `--workers 1,2`
 * runs `prepare` once per worker-thread count (rows prepare-w1, prepare-w2, ...) with a
 * BertTokenizer loaded from a folder (the --vocab file, else the generator's characters as a
 * vocab.txt), reports each run's shards' sha256 and says whether they are identical, and the speed-up over one worker.
 * `--modes cli` runs `retro prepare --workers W` through the package bin (node on the built
 * packages, as a user runs it), timed by /usr/bin/time (rows cli-wW).
 * `--modes cli,processes` adds, after each cli run with W > 1 workers, W independent one-worker
 * `retro prepare` processes started together on the files shared round robin (rows processes-W):
 * what this machine gives W cores on this work when nothing but the hardware is shared, the
 * ceiling for the W-worker run's speed-up (needs at least W files).
 * `--files N` generates the same total size as N files (WuDao ships in parts): with at least as
 * many files as workers, each worker prepares whole files; one file is shared in batches.
 * The stages import the built @retro/data (run `npm run build` first), as `retro prepare` does.
 * JSON: {config, file: {path, bytes, docs}, rows: [{mode, docs, chars, tokens, chunks, seconds, mbPerS, peakRssMB, peakHeapMB, workers?, shardsSha256?}]}.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fmt, formatTable } from './lib/table.js';
import { parseArgs, writeJson } from './lib/io.js';

interface Row {
  mode: string;
  docs: number;
  chars: number;
  tokens: number;
  chunks: number;
  seconds: number;
  mbPerS: number;
  peakRssMB: number;
  peakHeapMB: number;
  workers?: number;
  /** processes-N rows: N independent one-worker runs side by side. */
  processes?: number;
  shardsSha256?: string;
}

type Mode = 'read' | 'pipeline' | 'prepare' | 'cli' | 'processes';

/** Common CJK block slice, punctuation and a few latin words: what the generator draws from. */
const CJK_FIRST = 0x4e00;
const CJK_COUNT = 3500;
const LATIN = ['iPhone', 'Hello', 'world', 'GPU', 'JSON', 'WuDao', '2024', '128', 'ok', 'NBA'];

/** Deterministic text generator over a fixed pool of "words" (1-4 characters). */
async function generate(path: string, targetBytes: number, seed: number): Promise<{ bytes: number; docs: number }> {
  const { Generator } = await import('../packages/random/src/index.js');
  const rng = new Generator(seed);
  const pool: string[] = [];
  for (let i = 0; i < 20000; i++) {
    if (i % 200 === 0) {
      pool.push(LATIN[rng.randint(LATIN.length)]);
      continue;
    }
    const len = 1 + rng.randint(4);
    let w = '';
    for (let k = 0; k < len; k++) w += String.fromCharCode(CJK_FIRST + rng.randint(CJK_COUNT));
    pool.push(w);
  }
  const terms = ['。', '。', '。', '！', '？', '；', '…'];
  const types = ['新闻', '评论', '句子'];
  const hex = () => rng.nextUint32().toString(16).padStart(8, '0');
  const fd = openSync(path, 'w');
  let buf = '[\n';
  let bytes = 0;
  let docs = 0;
  let pending = 0; // bytes in buf (tracked per record: measuring the whole buffer each time is quadratic)
  const flush = () => {
    bytes += writeSync(fd, buf);
    buf = '';
    pending = 0;
  };
  while (bytes + pending < targetBytes) {
    const sentences = 1 + rng.randint(20);
    let content = '';
    for (let s = 0; s < sentences; s++) {
      const words = 3 + rng.randint(25);
      for (let w = 0; w < words; w++) {
        content += pool[rng.randint(pool.length)];
        if (w > 0 && w % 7 === 0) content += '，';
      }
      content += terms[rng.randint(terms.length)];
    }
    const rec = {
      id: docs,
      uniqueKey: hex() + hex() + hex() + hex(),
      titleUkey: hex() + hex() + hex() + hex(),
      dataType: types[rng.randint(3)],
      title: pool[rng.randint(pool.length)] + pool[rng.randint(pool.length)],
      content,
    };
    const piece = (docs ? ',\n' : '') + JSON.stringify(rec);
    buf += piece;
    pending += Buffer.byteLength(piece);
    docs++;
    if (buf.length > 1 << 20) flush();
  }
  buf += '\n]\n';
  flush();
  closeSync(fd);
  return { bytes, docs };
}

/** Character tokenizer over the generator's alphabet (the "simple tokenizer" of the pipeline stage). */
function charVocab(): string[] {
  const v = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '，', '。', '！', '？', '；', '…'];
  for (let i = 0; i < CJK_COUNT; i++) v.push(String.fromCharCode(CJK_FIRST + i));
  for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') v.push(c);
  return v;
}

/** The tokenizer folder every `retro prepare` run of this benchmark uses (the --vocab file, else the generator's characters). */
function cliTokenizer(vocab: string | undefined): string {
  const tokenizerDir = join(tmpdir(), 'retro-corpus-memory-cli-tokenizer');
  mkdirSync(tokenizerDir, { recursive: true });
  writeFileSync(join(tokenizerDir, 'vocab.txt'), vocab ? readFileSync(vocab) : charVocab().join('\n') + '\n');
  return tokenizerDir;
}

interface CliRun {
  seconds: number;
  peakRssMB: number;
  totals: { documents: number; tokens: number; chunks: number };
  shardsSha256: string;
}

/** Arguments of one timed `retro prepare` (GNU time prints "TIME wall peakKiB" last on stderr). */
function cliArgs(files: string[], tokenizerDir: string, out: string, workers: number): string[] {
  const bin = join(dirname(resolve(process.argv[1])), '..', 'packages', 'cli', 'bin', 'retro.js');
  return ['-f', 'TIME %e %M', bin, 'prepare', '--input', files.join(','), '--tokenizer', tokenizerDir, '--output', out, '--max-length', '128', '--workers', String(workers)];
}

/** Reads one finished run: its timing line, its manifest's totals and its shards' sha256; removes its output. */
function cliResult(status: number | null, stderr: string, out: string, what: string): CliRun {
  const timing = /TIME ([\d.]+) (\d+)\s*$/.exec(stderr);
  if (status !== 0 || !timing) throw new Error(`bench:corpus-memory: ${what} failed (status ${status}): ${stderr.slice(-2000)}`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { totals: CliRun['totals']; shards: Array<{ file: string }> };
  const hash = createHash('sha256');
  for (const s of manifest.shards) hash.update(readFileSync(join(out, s.file)));
  rmSync(out, { recursive: true, force: true });
  // GNU time's %M is the peak RSS in KiB
  return { seconds: Number(timing[1]), peakRssMB: (Number(timing[2]) * 1024) / 1e6, totals: manifest.totals, shardsSha256: hash.digest('hex') };
}

function requireTime(mode: string): void {
  if (!existsSync('/usr/bin/time')) throw new Error(`bench:corpus-memory: --modes ${mode} needs /usr/bin/time (apt install time) for the peak RSS`);
}

/**
 * `retro prepare` as a user runs it: the package bin (node on the built packages, no tsx), timed
 * by /usr/bin/time for the wall time and the peak RSS of the whole process.
 */
function runCli(files: string[], vocab: string | undefined, workers: number): Row {
  requireTime('cli');
  const tokenizerDir = cliTokenizer(vocab);
  const out = join(tmpdir(), 'retro-corpus-memory-cli-shards');
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`running retro prepare --workers ${workers} ...\n`);
  const run = spawnSync('/usr/bin/time', cliArgs(files, tokenizerDir, out, workers), { encoding: 'utf8', maxBuffer: 1 << 26 });
  const r = cliResult(run.status, run.stderr ?? '', out, `retro prepare --workers ${workers}`);
  const bytes = files.reduce((a, path) => a + statSync(path).size, 0);
  return {
    mode: `cli-w${workers}`,
    docs: r.totals.documents,
    chars: 0,
    tokens: r.totals.tokens,
    chunks: r.totals.chunks,
    seconds: r.seconds,
    mbPerS: bytes / 1e6 / r.seconds,
    peakRssMB: r.peakRssMB,
    peakHeapMB: NaN,
    workers,
    shardsSha256: r.shardsSha256,
  };
}

/**
 * The machine's own ceiling for `count` cores on this work: `count` independent one-worker
 * `retro prepare` processes started together, each on its share of the files (round robin), so
 * nothing is shared but the hardware. Wall time is the slowest process's; peak RSS is the sum.
 */
async function runProcesses(files: string[], vocab: string | undefined, count: number): Promise<Row> {
  requireTime('processes');
  if (files.length < count) throw new Error(`bench:corpus-memory: --modes processes with ${count} processes needs at least ${count} files, found ${files.length} (use --files ${count})`);
  const tokenizerDir = cliTokenizer(vocab);
  const shares = Array.from({ length: count }, (_, p) => files.filter((_, i) => i % count === p));
  process.stderr.write(`running ${count} independent retro prepare --workers 1 processes ...\n`);
  const runs = await Promise.all(
    shares.map((share, p) => {
      const out = join(tmpdir(), `retro-corpus-memory-processes-${p}`);
      rmSync(out, { recursive: true, force: true });
      return new Promise<CliRun>((done, fail) => {
        const child = spawn('/usr/bin/time', cliArgs(share, tokenizerDir, out, 1), { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
        child.on('error', fail);
        child.on('close', (status) => {
          try {
            done(cliResult(status, stderr, out, `process ${p + 1} of ${count} (retro prepare --workers 1)`));
          } catch (error) {
            fail(error);
          }
        });
      });
    }),
  );
  const bytes = files.reduce((a, path) => a + statSync(path).size, 0);
  const seconds = Math.max(...runs.map((r) => r.seconds));
  return {
    mode: `processes-${count}`,
    docs: runs.reduce((a, r) => a + r.totals.documents, 0),
    chars: 0,
    tokens: runs.reduce((a, r) => a + r.totals.tokens, 0),
    chunks: runs.reduce((a, r) => a + r.totals.chunks, 0),
    seconds,
    mbPerS: bytes / 1e6 / seconds,
    peakRssMB: runs.reduce((a, r) => a + r.peakRssMB, 0),
    peakHeapMB: NaN,
    processes: count,
  };
}

/** Runs one stage in this (child) process and prints its JSON row. */
async function child(mode: Mode, fileList: string, vocab: string | undefined, workers: number | undefined): Promise<void> {
  const files = fileList.split(',');
  // The built package, as `retro prepare` runs it: worker threads then load compiled JavaScript
  // (from source they would first compile their TypeScript through tsx, which users never pay).
  const { readDocuments, cleanText, splitSentences, prepare } = await import('@retro/data');
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 100);
  const t0 = performance.now();
  let docs = 0;
  let chars = 0;
  let tokens = 0;
  let chunks = 0;
  let idSum = 0;
  let shardsSha256: string | undefined;
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  if (mode === 'read' || mode === 'pipeline') {
    const vocab = new Map(charVocab().map((t, i) => [t, i]));
    for await (const d of readDocuments(files)) {
      docs++;
      chars += d.text.length;
      if (mode === 'pipeline') {
        for (const s of splitSentences(cleanText(d.text))) {
          for (const ch of s) {
            if (ch === ' ') continue;
            idSum += vocab.get(ch) ?? 1;
            tokens++;
          }
        }
      }
    }
  } else {
    const out = join(tmpdir(), 'retro-corpus-memory-shards');
    rmSync(out, { recursive: true, force: true });
    let tokenizer;
    let tokenizerFiles: string[] | undefined;
    let tokenizerDir: string | undefined;
    if (workers !== undefined) {
      // Workers load the tokenizer from a folder: one holding only this vocab.txt.
      const { BertTokenizer } = await import('@retro/data');
      tokenizerDir = join(tmpdir(), 'retro-corpus-memory-tokenizer');
      mkdirSync(tokenizerDir, { recursive: true });
      const vocabFile = join(tokenizerDir, 'vocab.txt');
      writeFileSync(vocabFile, vocab ? readFileSync(vocab) : charVocab().join('\n') + '\n');
      tokenizer = await BertTokenizer.fromVocabFile(vocabFile);
      tokenizerFiles = [vocabFile];
    } else if (vocab) {
      const { BertTokenizer } = await import('@retro/data');
      tokenizer = await BertTokenizer.fromVocabFile(vocab);
      tokenizerFiles = [vocab];
    } else {
      const list = charVocab();
      const index = new Map(list.map((t, i) => [t, i]));
      tokenizer = {
        clsTokenId: 2,
        sepTokenId: 3,
        padTokenId: 0,
        maskTokenId: 4,
        unkTokenId: 1,
        vocabSize: list.length,
        tokenize: (text: string) => [...text].filter((c) => c !== ' '),
        convertTokensToIds: (toks: string[]) => toks.map((t) => index.get(t) ?? 1),
      };
    }
    const r = await prepare({
      inputs: files,
      outDir: out,
      tokenizer,
      tokenizerFiles,
      tokenizerHash: tokenizerFiles ? undefined : 'bench-char-tokenizer-v1',
      tokenizerDir,
      workers: workers ?? 1,
      progress: process.stderr,
      progressIntervalMs: 10_000,
    });
    docs = r.documents;
    tokens = r.tokens;
    chunks = r.chunks;
    if (workers !== undefined) {
      const hash = createHash('sha256');
      for (const s of r.manifest.shards) hash.update(readFileSync(join(out, s.file)));
      shardsSha256 = hash.digest('hex');
    }
    rmSync(out, { recursive: true, force: true });
  }
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  const row: Row = {
    mode,
    docs,
    chars,
    tokens,
    chunks,
    seconds,
    mbPerS: bytes / 1e6 / seconds,
    // getrusage maxRSS is in KiB on Linux: the peak of the whole process, not a sample.
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
    peakHeapMB: peakHeap / 1e6,
    ...(workers !== undefined ? { mode: `prepare-w${workers}`, workers, shardsSha256 } : {}),
  };
  if (idSum < 0) console.error('unreachable'); // keeps the id lookups observable
  process.stdout.write(`\n${JSON.stringify(row)}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs();
  const f = args.flags;
  if (f.child) {
    await child(String(f.child) as Mode, String(f.file), typeof f.vocab === 'string' ? f.vocab : undefined, f.workers === undefined ? undefined : Number(f.workers));
    return;
  }
  const sizeMb = f['size-mb'] === undefined ? (args.quick ? 64 : 1024) : Number(f['size-mb']);
  if (!(sizeMb > 0)) throw new Error(`bench:corpus-memory: --size-mb must be a positive number, found ${String(f['size-mb'])}`);
  const modes = (typeof f.modes === 'string' ? f.modes : 'read,pipeline,prepare').split(',') as Mode[];
  for (const m of modes) {
    if (!['read', 'pipeline', 'prepare', 'cli', 'processes'].includes(m)) throw new Error(`bench:corpus-memory: unknown mode '${m}' (read, pipeline, prepare, cli, processes)`);
  }
  if (modes.includes('processes') && !modes.includes('cli')) throw new Error('bench:corpus-memory: --modes processes is measured beside cli (--modes cli,processes): its ratio is against the 1-worker cli run');
  const seed = f.seed === undefined ? 20240521 : Number(f.seed);
  const fileCount = f.files === undefined ? 1 : Number(f.files);
  if (!Number.isInteger(fileCount) || fileCount < 1) throw new Error(`bench:corpus-memory: --files must be a whole number >= 1, found ${String(f.files)}`);
  const given = typeof f.file === 'string';
  if (given && f.files !== undefined) throw new Error('bench:corpus-memory: --files splits the generated corpus; with --file, list the files instead (--file a.json,b.json)');
  const workerCounts = typeof f.workers === 'string' ? f.workers.split(',').map(Number) : [undefined];
  for (const w of workerCounts) if (w !== undefined && !(Number.isInteger(w) && w >= 1)) throw new Error(`bench:corpus-memory: --workers takes counts >= 1 like 1,2; found ${String(f.workers)}`);
  const mostProcesses = Math.max(...workerCounts.map((w) => w ?? 1));
  const fileCountGiven = given ? String(f.file).split(',').length : fileCount;
  if (modes.includes('processes') && mostProcesses > fileCountGiven) {
    throw new Error(`bench:corpus-memory: --modes processes with ${mostProcesses} processes needs at least ${mostProcesses} files, found ${fileCountGiven} (use --files ${mostProcesses})`);
  }
  const dir = join(tmpdir(), 'retro-corpus-memory');
  mkdirSync(dir, { recursive: true });
  // --files N: the same total size as N files of sizeMb / N (seeds seed, seed+1, ...), as WuDao ships in parts.
  const files = given
    ? String(f.file).split(',')
    : Array.from({ length: fileCount }, (_, i) => join(dir, fileCount === 1 ? `wudao-${sizeMb}mb-seed${seed}.json` : `wudao-${sizeMb}mb-seed${seed}-part${i + 1}of${fileCount}.json`));
  let docs = -1;
  if (!given || !files.every((file) => existsSync(file))) {
    docs = 0;
    for (const [i, file] of files.entries()) {
      const t = performance.now();
      process.stderr.write(`generating ${fmt(sizeMb / files.length)} MB WuDao-format file at ${file} ...\n`);
      const g = await generate(file, (sizeMb * 1e6) / files.length, seed + i);
      docs += g.docs;
      process.stderr.write(`  ${g.docs.toLocaleString('en-US')} documents, ${(g.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    }
  }
  const file = files.join(',');
  const bytes = files.reduce((a, path) => a + statSync(path).size, 0);
  const rows: Row[] = [];
  for (const mode of modes) {
    if (mode === 'processes') continue; // runs inside the cli rounds, right after each cli run it is compared with
    if (mode === 'cli') {
      for (const w of workerCounts) {
        rows.push(runCli(files, typeof f.vocab === 'string' ? f.vocab : undefined, w ?? 1));
        if (modes.includes('processes') && (w ?? 1) > 1) rows.push(await runProcesses(files, typeof f.vocab === 'string' ? f.vocab : undefined, w!));
      }
      continue;
    }
    for (const w of mode === 'prepare' ? workerCounts : [undefined]) {
      process.stderr.write(`running ${mode}${w === undefined ? '' : ` with ${w} worker(s)`} ...\n`);
      const childArgs = [...process.execArgv, process.argv[1], '--child', mode, '--file', file];
      if (typeof f.vocab === 'string') childArgs.push('--vocab', f.vocab);
      if (w !== undefined) childArgs.push('--workers', String(w));
      const out = execFileSync(process.execPath, childArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
      rows.push(JSON.parse(out.trim().split('\n').pop()!));
    }
  }
  if (!given && !f.keep) for (const path of files) rmSync(path, { force: true });

  console.log(`\ncorpus-memory: ${(bytes / 1e6).toFixed(0)} MB of WuDao JSON in ${files.length} file(s), node ${process.version}`);
  console.log(
    formatTable(rows, [
      { header: 'stage', value: (r) => r.mode },
      { header: 'docs', value: (r) => r.docs.toLocaleString('en-US'), right: true },
      { header: 'tokens', value: (r) => (r.tokens ? r.tokens.toLocaleString('en-US') : '-'), right: true },
      { header: 'chunks', value: (r) => (r.chunks ? r.chunks.toLocaleString('en-US') : '-'), right: true },
      { header: 'seconds', value: (r) => fmt(r.seconds), right: true },
      { header: 'MB/s', value: (r) => fmt(r.mbPerS), right: true },
      { header: 'peak RSS MB', value: (r) => fmt(r.peakRssMB), right: true },
      { header: 'peak heap MB', value: (r) => (Number.isFinite(r.peakHeapMB) ? fmt(r.peakHeapMB) : '–'), right: true },
    ]),
  );
  const withWorkers = rows.filter((r) => r.workers !== undefined);
  let identical: boolean | null = null;
  if (withWorkers.length > 1) {
    identical = withWorkers.every((r) => r.shardsSha256 === withWorkers[0].shardsSha256);
    console.log(`\nshards identical for every worker count and mode: ${identical ? 'yes' : 'NO'} (sha256 ${withWorkers[0].shardsSha256?.slice(0, 16)}...)`);
    // Each row against the 1-worker row just before it (rounds alternate: --workers 1,2,1,2).
    for (const family of ['prepare', 'cli']) {
      let one: Row | undefined;
      for (const r of withWorkers.filter((row) => row.mode.startsWith(`${family}-`))) {
        if (r.workers === 1) one = r;
        else if (one) console.log(`${family} with ${r.workers} workers: ${fmt(r.mbPerS / one.mbPerS)}x the throughput of the 1-worker run before it; peak RSS ${fmt(r.peakRssMB)} MB (1 worker: ${fmt(one.peakRssMB)} MB)`);
      }
    }
  }
  // Each processes-N row against the 1-worker cli run and the N-worker cli run before it.
  let one: Row | undefined;
  let many: Row | undefined;
  for (const r of rows) {
    if (r.mode === 'cli-w1') one = r;
    else if (r.mode.startsWith('cli-w')) many = r;
    else if (r.processes !== undefined && one) {
      const ofMany = many && many.workers === r.processes ? `; retro prepare --workers ${r.processes} reached ${fmt((100 * many.mbPerS) / r.mbPerS)} % of it` : '';
      console.log(`${r.processes} independent one-worker processes (the machine's ceiling for ${r.processes} cores on this work): ${fmt(r.mbPerS / one.mbPerS)}x the 1-worker run${ofMany}`);
    }
  }
  if (args.json) {
    writeJson(args.json, {
      identicalShards: identical,
      config: { sizeMb, files: files.length, seed, modes, vocab: f.vocab ?? null, workers: f.workers ?? null, node: process.version },
      file: { path: file, files, bytes, docs: docs >= 0 ? docs : null },
      rows,
    });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
