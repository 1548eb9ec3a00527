/**
 * The demo data the app offers with one click, made from the `chinese-poetry` npm package by
 * the pretrain-poetry example's make-corpus.mjs (deterministic):
 *   demo/corpus.json    WuDao 2.0 file, 600 Tang + 400 Song poems (~60k characters)
 *   demo/documents.txt  60 of those poems, one per line, for the search panel
 *   demo/pairs.jsonl    verse -> poem triples {"query", "pos": [..]} of the first 300 poems (the
 *                       60 documents among them), for contrastive fine-tuning (InfoNCE, in-batch negatives)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const makeCorpus = resolve(dirname(fileURLToPath(import.meta.url)), '../../pretrain-poetry/make-corpus.mjs');

export function makeDemoData(dir) {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, '.corpus');
  execFileSync(process.execPath, [makeCorpus, '--out', tmp, '--tang', '600', '--song', '400'], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(join(tmp, 'part-000.json'), join(dir, 'corpus.json'));
  rmSync(tmp, { recursive: true, force: true });
  const records = JSON.parse(readFileSync(join(dir, 'corpus.json'), 'utf8'));
  const documents = records.slice(0, 60).map((record) => record.content.replace(/\s+/g, ''));
  writeFileSync(join(dir, 'documents.txt'), `${documents.join('\n')}\n`);
  // "Which poem holds this verse?": a verse from the middle of the poem (its second line, the first
  // often names the poem's occasion like its title) -> the whole poem.
  const pairs = records
    .slice(0, 300)
    .map((record) => {
      const poem = record.content.replace(/\s+/g, '');
      const verses = poem.split(/(?<=[，。！？；])/).filter((verse) => verse.length > 2);
      return { query: verses[Math.min(1, verses.length - 1)] ?? '', pos: [poem] };
    })
    .filter((pair) => pair.query.length > 0 && pair.pos[0].length > 0);
  writeFileSync(join(dir, 'pairs.jsonl'), pairs.map((pair) => JSON.stringify(pair)).join('\n') + '\n');
  return { corpus: join(dir, 'corpus.json'), documents: join(dir, 'documents.txt'), pairs: join(dir, 'pairs.jsonl'), records: records.length };
}
