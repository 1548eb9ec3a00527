import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepare } from '@retro/data';
import type { PrepareOptions } from '../commands/prepare.js';
import { loadTokenizer } from './tokenizer.js';

/** `retro prepare`: corpus files -> tokenized shards + manifest (incremental). */
export async function runPrepare(options: PrepareOptions): Promise<unknown> {
  const { tokenizer, files, dir } = await loadTokenizer(options.tokenizer);
  const result = await prepare({
    inputs: expandInputs(options.input),
    outDir: options.output,
    tokenizer,
    tokenizerFiles: files,
    // Worker threads (one per core) load the same tokenizer folder; shards do not depend on their count.
    tokenizerDir: dir,
    workers: options.workers,
    maxSeqLength: options.maxLength,
    maxTokensPerShard: options.shardTokens,
    force: options.overwrite,
    onStaleManifest: 'fail',
    segmenter: options.wholeWord === 'wordpiece' ? 'none' : 'jieba',
    split: options.sentenceTerminators ? { terminators: options.sentenceTerminators } : undefined,
  });
  return result;
}

/**
 * Files from --input: files as given; a directory contributes its part-*.json files (WuDao
 * layout), or else every .json/.jsonl/.txt in it except manifest.json.
 */
export function expandInputs(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (!statSync(input).isDirectory()) {
      files.push(input);
      continue;
    }
    const names = readdirSync(input).sort();
    const parts = names.filter((name) => /^part-.*\.json$/.test(name));
    const chosen = parts.length > 0 ? parts : names.filter((name) => /\.(json|jsonl|txt)$/.test(name) && name !== 'manifest.json');
    if (chosen.length === 0) throw new Error(`retro prepare: --input ${input} holds no part-*.json, .json, .jsonl or .txt files`);
    files.push(...chosen.map((name) => join(input, name)));
  }
  return files;
}
