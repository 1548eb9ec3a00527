/**
 * Any folder of evaluation tasks, the type of each read from its files (or given): what
 * `retro eval --data DIR` accepts. cmteb-lite's `stsb/ reranking/ retrieval/` is one such folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { recordLines } from '@retro/common';
import { readText } from '../io/jsonl.js';
import { TASK_KINDS, type TaskKind } from '../types.js';
import { loadRerankingTask, type RerankingTask } from './reranking.js';
import { loadRetrievalTask, type RetrievalTask } from './retrieval.js';
import { loadStsTask, type StsTask } from './sts.js';

export type AnyTask = StsTask | RerankingTask | RetrievalTask;

/** The layout of each task type, as errors and help texts state it. */
export const TASK_LAYOUTS: Record<TaskKind, string> = {
  sts: 'sts: a .jsonl file of {"sentence1", "sentence2", "score"} pairs',
  reranking: 'reranking: a .jsonl file of {"query", "positive": [..], "negative": [..]}',
  retrieval: 'retrieval: a BEIR folder with corpus.jsonl {"_id", "title"?, "text"}, queries.jsonl {"_id", "text"} and qrels/<split>.tsv',
};

/** One task found in a tasks folder; `load()` reads it (one task in memory at a time). */
export interface TaskEntry {
  /** Folder name, or the file name without .jsonl for a file lying in the tasks folder itself. */
  name: string;
  kind: TaskKind;
  /** Whether `kind` was read from the files or given by the caller. */
  kindFrom: 'detected' | 'given';
  /** 'test' for test.jsonl / qrels/test.tsv, 'dev' for dev.jsonl, ...; 'test' for a lone task file. */
  split: string;
  /** Files the task is read from (absolute). */
  files: string[];
  load(): AnyTask;
}

export interface DiscoverOptions {
  /**
   * The type of the JSONL tasks: detection is skipped and their files are read with that type's
   * loader. BEIR folders are retrieval whatever is given; 'retrieval' makes every other folder an error.
   */
  taskType?: TaskKind;
  /** The split to read: `<split>.jsonl` in JSONL task folders, `qrels/<split>.tsv` in BEIR folders. Default 'test'. */
  split?: string;
  /** Passed to loadRetrievalTask (qrels naming unknown ids: error when true, the default). */
  strict?: boolean;
}

const BEIR_FILES = ['corpus.jsonl', 'queries.jsonl'];

function isBeirFolder(dir: string): boolean {
  return BEIR_FILES.every((f) => existsSync(join(dir, f)));
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function layoutList(): string {
  return TASK_KINDS.map((k) => TASK_LAYOUTS[k]).join('; ');
}

/**
 * The task type of a JSONL file, from the fields of its first record: sentence1/sentence2/score is
 * STS, query/positive/negative is reranking. Anything else is an error naming the file, the fields
 * found and the layouts known.
 */
export function detectJsonlTaskKind(file: string, caller = 'detectTaskKind'): TaskKind {
  const text = readText(file, caller);
  const line = recordLines(text)[0]?.text;
  if (line === undefined) throw new Error(`${caller}: ${file} is empty; expected one of: ${layoutList()}`);
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    throw new Error(`${caller}: ${file}: the first record is not valid JSON (${(error as Error).message})`);
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new Error(`${caller}: ${file}: the first record is not a JSON object; expected one of: ${layoutList()}`);
  }
  const keys = Object.keys(record);
  const has = (...names: string[]) => names.every((n) => keys.includes(n));
  if (has('sentence1', 'sentence2', 'score')) return 'sts';
  if (has('query', 'positive', 'negative')) return 'reranking';
  if (has('_id', 'text')) {
    throw new Error(`${caller}: ${file} looks like a BEIR corpus or queries file; a retrieval task is the folder holding corpus.jsonl, queries.jsonl and qrels/<split>.tsv`);
  }
  throw new Error(
    `${caller}: ${file}: cannot tell the task type from the fields ${keys.map((k) => JSON.stringify(k)).join(', ') || '(none)'}; ` +
      `expected one of: ${layoutList()} (or give the type: taskType / --task-type ${TASK_KINDS.join('|')})`,
  );
}

/** The JSONL file of a task folder: `<split>.jsonl` if present, else the only .jsonl file. */
function pickSplitFile(caller: string, dir: string, split: string | undefined): { file: string; split: string } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  const wanted = `${split ?? 'test'}.jsonl`;
  if (files.includes(wanted)) return { file: join(dir, wanted), split: split ?? 'test' };
  if (split !== undefined) throw new Error(`${caller}: ${dir} has no ${wanted} (split '${split}'); it holds ${files.join(', ') || 'no .jsonl file'}`);
  if (files.length === 1) return { file: join(dir, files[0]!), split: basename(files[0]!, '.jsonl') };
  if (files.length === 0) throw new Error(`${caller}: ${dir} holds no .jsonl file and is no BEIR folder; expected one of: ${layoutList()}`);
  throw new Error(`${caller}: ${dir} holds several .jsonl files (${files.join(', ')}) and no test.jsonl; name the split to use (split / --split)`);
}

function jsonlEntry(caller: string, name: string, file: string, split: string, options: DiscoverOptions): TaskEntry {
  const kind = options.taskType ?? detectJsonlTaskKind(file, caller);
  if (kind === 'retrieval') throw new Error(`${caller}: ${file}: a retrieval task is a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), not one .jsonl file`);
  return {
    name,
    kind,
    kindFrom: options.taskType ? 'given' : 'detected',
    split,
    files: [file],
    load: () => (kind === 'sts' ? loadStsTask(file, name) : loadRerankingTask(file, name)),
  };
}

function beirEntry(caller: string, name: string, dir: string, options: DiscoverOptions): TaskEntry {
  const split = options.split ?? 'test';
  const qrels = join(dir, 'qrels', `${split}.tsv`);
  if (!existsSync(qrels)) {
    const found = isDirectory(join(dir, 'qrels')) ? readdirSync(join(dir, 'qrels')).filter((f) => f.endsWith('.tsv')) : [];
    throw new Error(`${caller}: ${dir}: BEIR folder without ${join('qrels', `${split}.tsv`)}${found.length ? ` (qrels/ holds ${found.join(', ')}: pick one with split / --split)` : ''}`);
  }
  return {
    name,
    kind: 'retrieval',
    kindFrom: options.taskType === 'retrieval' ? 'given' : 'detected',
    split,
    files: [join(dir, 'corpus.jsonl'), join(dir, 'queries.jsonl'), qrels],
    load: () => {
      const { droppedQrels: _dropped, ...task } = loadRetrievalTask(dir, { split, strict: options.strict, name });
      return task;
    },
  };
}

/** A task folder (not the tasks folder): BEIR, or JSONL files of one task. */
function folderEntry(caller: string, dir: string, options: DiscoverOptions): TaskEntry {
  const name = basename(dir);
  if (isBeirFolder(dir)) return beirEntry(caller, name, dir, options);
  if (options.taskType === 'retrieval') {
    throw new Error(`${caller}: ${dir} is no BEIR folder: missing ${BEIR_FILES.filter((f) => !existsSync(join(dir, f))).join(', ')}`);
  }
  const { file, split } = pickSplitFile(caller, dir, options.split);
  return jsonlEntry(caller, name, file, split, options);
}

/** A task folder given directly: it holds `<split>.jsonl` (default test.jsonl) and no sub-folder. */
function isSingleJsonlTask(dir: string, split: string | undefined): boolean {
  const names = readdirSync(dir).filter((name) => !name.startsWith('.'));
  return names.includes(`${split ?? 'test'}.jsonl`) && !names.some((name) => isDirectory(join(dir, name)));
}

/**
 * The tasks of `dir`, sorted by name:
 * - `dir` itself a BEIR folder: one retrieval task named after it;
 * - `dir` itself holding `<split>.jsonl` (default test.jsonl) and no sub-folder: one task named after it;
 * - else each sub-folder is a task (a BEIR folder, or JSONL files: `<split>.jsonl`, default
 *   test.jsonl, or the only .jsonl file), and each .jsonl file lying in `dir` is a task named by the file.
 * Types come from the files (detectJsonlTaskKind) unless `taskType` is given. Hidden entries are
 * skipped; anything that fits no layout is an error naming it and the layouts.
 */
export function discoverTasks(dir: string, options: DiscoverOptions = {}): TaskEntry[] {
  const caller = 'discoverTasks';
  const root = resolve(dir);
  if (!isDirectory(root)) throw new Error(`${caller}: ${root} is not a folder`);
  if (options.taskType !== undefined && !TASK_KINDS.includes(options.taskType)) {
    throw new Error(`${caller}: unknown task type '${options.taskType}'; valid types: ${TASK_KINDS.join(', ')}`);
  }
  if (isBeirFolder(root)) return [beirEntry(caller, basename(root), root, options)];
  if (isSingleJsonlTask(root, options.split)) return [folderEntry(caller, root, options)];
  const entries: TaskEntry[] = [];
  for (const name of readdirSync(root).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(root, name);
    if (isDirectory(path)) entries.push(folderEntry(caller, path, options));
    else if (name.endsWith('.jsonl')) entries.push(jsonlEntry(caller, name.slice(0, -'.jsonl'.length), path, 'test', options));
  }
  if (entries.length === 0) {
    throw new Error(`${caller}: ${root} holds no task; expected sub-folders or .jsonl files, one per task: ${layoutList()}`);
  }
  const seen = new Map<string, TaskEntry>();
  for (const entry of entries) {
    const other = seen.get(entry.name);
    if (other) throw new Error(`${caller}: two tasks are named '${entry.name}': ${relative(root, other.files[0]!)} and ${relative(root, entry.files[0]!)}; rename one`);
    seen.set(entry.name, entry);
  }
  return entries;
}

/**
 * Revision-like identity of a task's data: sha256 over each file's name (relative to the task) and
 * bytes, so a result file says exactly which data it scored.
 */
export function taskRevision(entry: TaskEntry): string {
  const hash = createHash('sha256');
  const base = dirname(entry.files[0]!);
  for (const file of entry.files) {
    hash.update(relative(base, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}
