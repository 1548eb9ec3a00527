#!/usr/bin/env node
/**
 * Builds the default bundled pretraining corpus: a deterministic subset of classical Chinese
 * poems from the npm package `chinese-poetry`, written in WuDao 2.0 format (one JSON array, one
 * object per line: {id, uniqueKey: md5(content), titleUkey: md5(title), dataType: '诗词', title, content}).
 *
 *   node examples/pretrain-poetry/make-corpus.mjs --out runs/poetry-corpus [--tang 2500] [--song 1500] [--ci 0] [--seed 20240521]
 *
 * Tang and Song shi come from quantangshi (traditional characters); Song ci (songci) are in
 * simplified characters and off by default so one script keeps the vocabulary small.
 * Selection: poems are taken at evenly spaced positions of each collection (files in numeric
 * order), skipping ones with missing characters (□), editorial brackets, or fewer than 10 /
 * more than --max-chars characters, and exact duplicates; then shuffled with --seed.
 * Prints a JSON summary on stdout. The same arguments give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const USAGE = `Usage: node make-corpus.mjs --out DIR [--tang N] [--song N] [--ci N] [--seed S] [--max-chars N]
  --out DIR        output folder; part-000.json is written there (required)
  --tang N         Tang shi to take (quantangshi/poet.tang.*)       [default 2500]
  --song N         Song shi to take (quantangshi/poet.song.*)       [default 1500]
  --ci N           Song ci to take (songci/ci.song.*, simplified)   [default 0]
  --seed S         shuffle seed                                     [default 20240521]
  --max-chars N    skip poems longer than N characters              [default 300]`;

function parseArgs(argv) {
  const options = { out: undefined, tang: 2500, song: 1500, ci: 0, seed: 20240521, maxChars: 300 };
  const names = { '--out': 'out', '--tang': 'tang', '--song': 'song', '--ci': 'ci', '--seed': 'seed', '--max-chars': 'maxChars' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const key = names[flag];
    if (!key) fail(`unknown option ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined) fail(`option ${flag} expects a value, found nothing`);
    if (key === 'out') options.out = value;
    else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(`option ${flag} expects an integer >= 0, found '${value}'`);
      options[key] = n;
    }
  }
  if (!options.out) fail('missing required option --out');
  return options;
}

function fail(message) {
  console.error(`make-corpus: ${message}\n${USAGE}`);
  process.exit(2);
}

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex');

/** mulberry32: small, seedable, the same on every platform. */
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

/** Files `<prefix>.<n>.json` in `dir`, in numeric order of n. */
function numberedFiles(dir, prefix) {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.json$`);
  return readdirSync(dir)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter(({ match }) => match)
    .sort((a, b) => Number(a.match[1]) - Number(b.match[1]))
    .map(({ name }) => join(dir, name));
}

const UNUSABLE = /[□■�{}\[\]（）()<>《》【】0-9A-Za-z]/;

function usable(poem, maxChars) {
  if (!Array.isArray(poem.paragraphs)) return undefined;
  const content = poem.paragraphs.map((p) => String(p).trim()).join('');
  if (content.length < 10 || content.length > maxChars || UNUSABLE.test(content)) return undefined;
  return content;
}

/**
 * `count` poems at evenly spaced positions of the collection. Files are read one at a time, and
 * only the files holding a wanted position (every collection file has about 1000 poems).
 */
function take(files, count, titleOf, maxChars, seen) {
  if (count === 0) return [];
  const sizes = files.map((file) => JSON.parse(readFileSync(file, 'utf8')).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  // Oversample positions so skipped poems are made up for from the same spread.
  const stride = Math.max(1, Math.floor(total / (count * 1.5)));
  const picked = [];
  let offset = 0;
  for (let f = 0; f < files.length && picked.length < count; f++) {
    const firstWanted = Math.ceil(offset / stride) * stride;
    if (firstWanted < offset + sizes[f]) {
      const poems = JSON.parse(readFileSync(files[f], 'utf8'));
      for (let position = firstWanted; position < offset + sizes[f] && picked.length < count; position += stride) {
        const poem = poems[position - offset];
        const content = usable(poem, maxChars);
        if (!content || seen.has(content)) continue;
        seen.add(content);
        picked.push({ title: String(titleOf(poem) ?? '').trim(), content });
      }
    }
    offset += sizes[f];
  }
  if (picked.length < count) {
    console.error(`make-corpus: only ${picked.length} usable poems of the ${count} asked for in ${dirname(files[0])}`);
  }
  return picked;
}

const options = parseArgs(process.argv.slice(2));
const root = join(dirname(createRequire(import.meta.url).resolve('chinese-poetry/package.json')), 'dist');
const seen = new Set();
const sources = {
  tang: take(numberedFiles(join(root, 'quantangshi'), 'poet.tang'), options.tang, (p) => p.title, options.maxChars, seen),
  song: take(numberedFiles(join(root, 'quantangshi'), 'poet.song'), options.song, (p) => p.title, options.maxChars, seen),
  ci: take(numberedFiles(join(root, 'songci'), 'ci.song'), options.ci, (p) => p.rhythmic, options.maxChars, seen),
};

const poems = [...sources.tang, ...sources.song, ...sources.ci];
const random = prng(options.seed);
for (let i = poems.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [poems[i], poems[j]] = [poems[j], poems[i]];
}

const lines = poems.map((poem, id) =>
  JSON.stringify({ id, uniqueKey: md5(poem.content), titleUkey: md5(poem.title), dataType: '诗词', title: poem.title, content: poem.content }),
);
const text = `[\n${lines.join(',\n')}\n]\n`;
const outDir = resolve(options.out);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'part-000.json');
writeFileSync(file, text);

console.log(
  JSON.stringify(
    {
      file,
      documents: poems.length,
      characters: poems.reduce((sum, p) => sum + p.content.length, 0),
      bytes: Buffer.byteLength(text),
      sources: { tang: sources.tang.length, song: sources.song.length, ci: sources.ci.length },
      seed: options.seed,
      sha256: createHash('sha256').update(text).digest('hex'),
    },
    null,
    2,
  ),
);
