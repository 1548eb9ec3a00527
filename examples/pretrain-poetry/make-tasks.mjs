#!/usr/bin/env node
/**
 * Fine-tuning and evaluation data from the bundled poetry corpus, so the README's
 * pretrain -> finetune -> export -> embed -> eval runs on nothing but the repo and its npm packages.
 * A poem's lines belong together: that is the only label used.
 *
 *   node examples/pretrain-poetry/make-tasks.mjs --corpus runs/quick/corpus/part-000.json --out runs/quick [--seed 7]
 *
 * Writes (poems are split in two disjoint halves: fine-tuning data comes from the first, tasks from the second)
 *   <out>/finetune/triples.jsonl  {"query": line, "pos": [another line of its poem], "neg": [a line of another poem]}
 *   <out>/finetune/dev.jsonl      {"sentence1", "sentence2", "score"}: 2 = the next line, 1 = same poem, 0 = another poem
 *   <out>/tasks/PoemSTS/test.jsonl        the same kind of scored pairs (STS)
 *   <out>/tasks/PoemRerank/test.jsonl     {"query": first line, "positive": [rest of its poem], "negative": [3 other poems' rests]}
 *   <out>/tasks/PoemRetrieval/            BEIR: corpus = poems without their first line, queries = first lines, qrels/test.tsv
 *   <out>/texts.jsonl                     {"id", "text"}: lines to embed
 * The same arguments give byte-identical files. Prints a JSON summary.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const USAGE = 'Usage: node make-tasks.mjs --corpus FILE --out DIR [--seed S]';

function parseArgs(argv) {
  const options = { corpus: undefined, out: undefined, seed: 7 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) fail(`option ${flag} expects a value`);
    if (flag === '--corpus') options.corpus = value;
    else if (flag === '--out') options.out = value;
    else if (flag === '--seed' && Number.isInteger(Number(value))) options.seed = Number(value);
    else fail(`unknown option or bad value: ${flag} ${value}`);
  }
  if (!options.corpus || !options.out) fail('--corpus and --out are required');
  return options;
}

function fail(message) {
  console.error(`make-tasks: ${message}\n${USAGE}`);
  process.exit(2);
}

/** mulberry32, as make-corpus.mjs. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const options = parseArgs(process.argv.slice(2));
const random = prng(options.seed);
const pick = (list) => list[Math.floor(random() * list.length)];

// A line ends at 。！？； (a couplet); poems with fewer than 3 lines cannot give all pair kinds.
const poems = JSON.parse(readFileSync(options.corpus, 'utf8'))
  .map((record) => String(record.content).split(/(?<=[。！？；])/).map((line) => line.trim()).filter((line) => line.length >= 5))
  .filter((lines) => lines.length >= 3);
if (poems.length < 40) fail(`${options.corpus}: only ${poems.length} poems of 3 lines or more; give a larger corpus`);
const half = Math.floor(poems.length / 2);
const trainPoems = poems.slice(0, half);
const taskPoems = poems.slice(half);

const jsonl = (rows) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
const write = (path, text) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};

/** Scored pairs: 2 = consecutive lines, 1 = two lines of one poem, 0 = lines of two poems. */
function scoredPairs(source, count) {
  const pairs = [];
  for (let i = 0; i < count; i++) {
    const poemIndex = Math.floor(random() * source.length);
    const lines = source[poemIndex];
    const kind = i % 3;
    const a = Math.floor(random() * (lines.length - 1));
    if (kind === 0) pairs.push({ sentence1: lines[a], sentence2: lines[a + 1], score: 2 });
    else if (kind === 1) {
      const b = (a + 2 + Math.floor(random() * (lines.length - 2))) % lines.length;
      pairs.push({ sentence1: lines[a], sentence2: lines[b === a ? (a + 1) % lines.length : b], score: 1 });
    } else {
      const other = source[(poemIndex + 1 + Math.floor(random() * (source.length - 1))) % source.length];
      pairs.push({ sentence1: lines[a], sentence2: pick(other), score: 0 });
    }
  }
  return pairs;
}

const out = options.out;
const triples = trainPoems.map((lines, i) => {
  const other = trainPoems[(i + 1 + Math.floor(random() * (trainPoems.length - 1))) % trainPoems.length];
  return { query: lines[0], pos: [lines[1 + Math.floor(random() * (lines.length - 1))]], neg: [pick(other)] };
});
write(join(out, 'finetune', 'triples.jsonl'), jsonl(triples));
write(join(out, 'finetune', 'dev.jsonl'), jsonl(scoredPairs(trainPoems, 60)));

write(join(out, 'tasks', 'PoemSTS', 'test.jsonl'), jsonl(scoredPairs(taskPoems, 120)));
const rerankQueries = taskPoems.slice(0, 40);
write(
  join(out, 'tasks', 'PoemRerank', 'test.jsonl'),
  jsonl(
    rerankQueries.map((lines, i) => ({
      query: lines[0],
      positive: [lines.slice(1).join('')],
      negative: [1, 2, 3].map((k) => taskPoems[(i + k * 7) % taskPoems.length].slice(1).join('')),
    })),
  ),
);
const corpus = taskPoems.map((lines, i) => ({ _id: `p${i}`, title: '', text: lines.slice(1).join('') }));
const queries = taskPoems.slice(0, 80).map((lines, i) => ({ _id: `q${i}`, text: lines[0] }));
write(join(out, 'tasks', 'PoemRetrieval', 'corpus.jsonl'), jsonl(corpus));
write(join(out, 'tasks', 'PoemRetrieval', 'queries.jsonl'), jsonl(queries));
write(join(out, 'tasks', 'PoemRetrieval', 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${queries.map((_, i) => `q${i}\tp${i}\t1`).join('\n')}\n`);
write(join(out, 'texts.jsonl'), jsonl(taskPoems.slice(0, 50).map((lines, i) => ({ id: `line-${i}`, text: lines[0] }))));

console.log(
  JSON.stringify({
    poems: poems.length,
    finetune: { triples: triples.length, dev: 60 },
    tasks: { PoemSTS: 120, PoemRerank: rerankQueries.length, PoemRetrieval: { corpus: corpus.length, queries: queries.length } },
    texts: 50,
  }),
);
