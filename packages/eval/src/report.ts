import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@retro/common';
import type { EvalResult, TaskKind } from './types.js';

interface Row {
  label: string;
  get: (r: EvalResult) => number | undefined;
  main?: boolean;
}

const ROWS: Row[] = [
  { label: 'STS Spearman', get: (r) => r.sts?.spearman, main: true },
  { label: 'Reranking MAP', get: (r) => r.reranking?.map, main: true },
  { label: 'Reranking MRR@10', get: (r) => r.reranking?.mrr10 },
  { label: 'Retrieval nDCG@10', get: (r) => r.retrieval?.ndcg10, main: true },
  { label: 'Retrieval Recall@10', get: (r) => r.retrieval?.recall10 },
  { label: 'Retrieval Recall@100', get: (r) => r.retrieval?.recall100 },
  { label: 'Retrieval MRR@10', get: (r) => r.retrieval?.mrr10 },
];

/** Mean of the main scores (STS Spearman, reranking MAP, retrieval nDCG@10) when all three exist. */
export function mainAverage(r: EvalResult): number | undefined {
  const mains = ROWS.filter((row) => row.main).map((row) => row.get(r));
  return mains.every((v) => v !== undefined && Number.isFinite(v)) ? mains.reduce((a, b) => a! + b!, 0)! / mains.length : undefined;
}

export interface TableOptions {
  /** Decimals. Default 2. */
  digits?: number;
  /** Add a wall-time row (seconds). Default true. */
  timings?: boolean;
}

/**
 * Plain-text comparison table: one column per result (embedder), one row per metric, ×100.
 * `*` marks each task's main score; '-' is a metric the result lacks or that is undefined (NaN).
 */
export function formatTable(results: EvalResult[], options: TableOptions = {}): string {
  if (results.length === 0) throw new Error('formatTable: no results');
  const digits = options.digits ?? 2;
  const rows = ROWS.filter((row) => results.some((r) => row.get(r) !== undefined));
  const body: string[][] = rows.map((row) => [`${row.main ? '*' : ' '} ${row.label}`, ...results.map((r) => fmt(row.get(r), digits))]);
  if (results.some((r) => mainAverage(r) !== undefined)) body.push(['  Average of main scores', ...results.map((r) => fmt(mainAverage(r), digits))]);
  if (options.timings ?? true) body.push(['  Time (s)', ...results.map((r) => fmt(r.timings?.totalMs === undefined ? undefined : r.timings.totalMs / 1000, 1))]);
  const suites = [...new Set(results.map((r) => r.suite))].join(', ');
  const header = [`metric (x100) on ${suites}`, ...results.map((r) => r.embedder)];
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((line) => line[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)].join('\n');
}

function fmt(v: number | undefined, digits: number): string {
  return v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '-';
}

/** Results (or any result file's contents) as pretty JSON. NaN (an undefined metric) becomes null, as JSON has no NaN. */
export function toJSON(results: unknown): string {
  return JSON.stringify(results, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Folder-safe form of an embedder name: `BM25 chars+bigrams` -> `BM25_chars+bigrams`. */
export function slug(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._+=-]+/g, '_').replace(/^[._]+/, '');
  return s || 'embedder';
}

/**
 * Writes per-task score files, MTEB-style: `<dir>/<embedder>/<task>.json` (one file per task, with
 * the scores, timing and meta) and `<dir>/<embedder>/summary.json` (the whole result), plus
 * `<dir>/results.json` and `<dir>/table.txt` for the results of this call. Files are written to a
 * temporary name and renamed, so a reader never sees half a file. Returns the paths written.
 */
export function writeResults(dir: string, results: EvalResult | EvalResult[]): string[] {
  const list = Array.isArray(results) ? results : [results];
  if (list.length === 0) throw new Error('writeResults: no results');
  const seen = new Map<string, string>();
  for (const r of list) {
    const s = slug(r.embedder);
    const prev = seen.get(s);
    if (prev !== undefined) throw new Error(`writeResults: embedders "${prev}" and "${r.embedder}" map to the same folder "${s}"; give them distinct names`);
    seen.set(s, r.embedder);
  }
  const written: string[] = [];
  const put = (path: string, text: string) => {
    writeFileAtomic(path, text);
    written.push(path);
  };
  mkdirSync(dir, { recursive: true });
  for (const r of list) {
    const sub = join(dir, slug(r.embedder));
    mkdirSync(sub, { recursive: true });
    for (const task of ['sts', 'reranking', 'retrieval'] as TaskKind[]) {
      const scores = r[task];
      if (!scores) continue;
      put(join(sub, `${task}.json`), toJSON({ embedder: r.embedder, suite: r.suite, task, scale: r.scale, scores, timing: r.timings[task], meta: r.meta }));
    }
    put(join(sub, 'summary.json'), toJSON(r));
  }
  put(join(dir, 'results.json'), toJSON(list));
  put(join(dir, 'table.txt'), formatTable(list) + '\n');
  return written;
}
