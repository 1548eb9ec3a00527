import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { TaskKind } from '../types.js';
import { loadRerankingTask, type RerankingTask } from './reranking.js';
import { loadRetrievalTask, type RetrievalTask } from './retrieval.js';
import { loadStsTask, type StsTask } from './sts.js';

/** At most one task of each kind; `evaluate` runs the ones present. */
export interface TaskSuite {
  name: string;
  root: string;
  sts?: StsTask;
  reranking?: RerankingTask;
  retrieval?: RetrievalTask;
}

export interface SuiteLoadOptions {
  /** Only these kinds (default: every kind whose folder exists). */
  tasks?: TaskKind[];
  /** BEIR qrels split (default 'test'). */
  split?: string;
  /** Passed to loadRetrievalTask. */
  strict?: boolean;
}

/** Folder names looked for, in order, per kind. */
export const SUITE_FOLDERS: Record<TaskKind, string[]> = {
  sts: ['stsb', 'sts'],
  reranking: ['reranking'],
  retrieval: ['retrieval'],
};

/**
 * Loads a folder laid out like cmteb-lite: `stsb/*.jsonl` (STS), `reranking/*.jsonl`,
 * `retrieval/` (BEIR). In a JSONL folder, `test.jsonl` is used if present, else the only `.jsonl`
 * file; several candidates are an error naming them.
 */
export function loadSuite(dir: string, options: SuiteLoadOptions = {}): TaskSuite {
  const caller = 'loadSuite';
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${caller}: ${root} is not a folder`);
  const wanted = new Set<TaskKind>(options.tasks ?? ['sts', 'reranking', 'retrieval']);
  const suite: TaskSuite = { name: basename(root), root };
  const folder = (kind: TaskKind): string | undefined =>
    SUITE_FOLDERS[kind].map((f) => join(root, f)).find((p) => existsSync(p) && statSync(p).isDirectory());

  if (wanted.has('sts')) {
    const f = folder('sts');
    if (f) suite.sts = loadStsTask(pickJsonl(caller, f), basename(f));
  }
  if (wanted.has('reranking')) {
    const f = folder('reranking');
    if (f) {
      const file = pickJsonl(caller, f);
      suite.reranking = loadRerankingTask(file, `${basename(f)}/${basename(file, '.jsonl')}`);
    }
  }
  if (wanted.has('retrieval')) {
    const f = folder('retrieval');
    if (f) suite.retrieval = loadRetrievalTask(f, { split: options.split, strict: options.strict, name: basename(f) });
  }
  const missing = [...wanted].filter((k) => !suite[k]);
  if (missing.length === wanted.size) {
    const expected = [...wanted].map((k) => SUITE_FOLDERS[k].join('|') + '/').join(', ');
    throw new Error(`${caller}: ${root} holds no task folder; expected one of ${expected}`);
  }
  if (options.tasks && missing.length) {
    throw new Error(`${caller}: ${root}: requested ${missing.join(', ')} but found no folder ${missing.map((k) => SUITE_FOLDERS[k].join('|') + '/').join(', ')}`);
  }
  return suite;
}

function pickJsonl(caller: string, dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.includes('test.jsonl')) return join(dir, 'test.jsonl');
  if (files.length === 1) return join(dir, files[0]!);
  if (files.length === 0) throw new Error(`${caller}: ${dir} holds no .jsonl file`);
  throw new Error(`${caller}: ${dir} holds several .jsonl files (${files.join(', ')}) and no test.jsonl; load the one you mean with loadStsTask/loadRerankingTask`);
}

/** A kind named in options.tasks but absent from the suite is an error, not a silent skip. */
export function checkRequested(caller: string, suite: TaskSuite, tasks: TaskKind[] | undefined): void {
  const missing = (tasks ?? []).filter((k) => !suite[k]);
  if (missing.length) throw new Error(`${caller}: suite "${suite.name}" has no ${missing.join(', ')} task (it has: ${(['sts', 'reranking', 'retrieval'] as const).filter((k) => suite[k]).join(', ') || 'none'})`);
}
