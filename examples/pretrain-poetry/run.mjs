#!/usr/bin/env node
/**
 * The main job: pretrain a tiny RetroMAE encoder on the bundled poetry corpus, end to end.
 *   corpus (from the chinese-poetry npm package) -> vocabulary -> shards -> RetroMAE pretraining
 *   -> loss plot + summary.
 * Every stage is skipped when its output exists, and pretraining resumes from its last
 * checkpoint, so an interrupted run continues where it stopped. Run from the repo root:
 *   npm run pretrain                       (builds the packages first)
 *   node examples/pretrain-poetry/run.mjs --steps 60 --out runs/quick
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWordPieceVocab, readDocuments, writeWordPieceVocab } from '@retro/data';
import { main } from '@retro/cli';

const here = dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
const out = resolve(args.out ?? join(here, '..', '..', 'runs', 'poetry'));
const steps = Number(args.steps ?? 300);
const encoder = args.encoder ?? 'bert';
if (!['bert', 'roberta'].includes(encoder)) fail(`--encoder must be bert or roberta, got ${encoder}`);

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)$/.exec(argv[i]);
    if (!match || argv[i + 1] === undefined) fail(`unexpected argument '${argv[i]}'; usage: run.mjs [--out DIR] [--steps N] [--encoder bert|roberta]`);
    options[match[1]] = argv[++i];
  }
  return options;
}

function fail(message) {
  process.stderr.write(`pretrain-poetry: ${message}\n`);
  process.exit(2);
}

function stage(title) {
  process.stderr.write(`\n== ${title}\n`);
}

async function cli(argv) {
  const code = await main(argv);
  if (code !== 0) fail(`retro ${argv[0]} exited with ${code}`);
}

const started = performance.now();
const corpusDir = join(out, 'corpus');
stage('1/4 corpus: chinese-poetry -> WuDao 2.0 JSON');
if (!existsSync(join(corpusDir, 'part-000.json'))) {
  execFileSync(process.execPath, [join(here, 'make-corpus.mjs'), '--out', corpusDir], { stdio: ['ignore', 'ignore', 'inherit'] });
}
process.stderr.write(`${join(corpusDir, 'part-000.json')}\n`);

stage('2/4 vocabulary: BERT-Chinese style WordPiece built from the corpus');
const tokenizerDir = join(out, 'tokenizer');
if (!existsSync(join(tokenizerDir, 'vocab.txt'))) {
  async function* contents() {
    for await (const document of readDocuments(join(corpusDir, 'part-000.json'))) yield document.text;
  }
  const vocab = await buildWordPieceVocab(contents(), { minCharFrequency: 3 });
  await writeWordPieceVocab(vocab, tokenizerDir);
}
const vocabSize = readFileSync(join(tokenizerDir, 'vocab.txt'), 'utf8').trimEnd().split('\n').length;
process.stderr.write(`${vocabSize} tokens in ${tokenizerDir}\n`);

stage('3/4 shards: tokenize, segment words (jieba), chunk to 128 tokens');
const shards = join(out, 'shards');
await cli(['prepare', '--input', corpusDir, '--tokenizer', tokenizerDir, '--output', shards, '--max-length', '128']);

stage(`4/4 RetroMAE pretraining (${encoder} encoder, ${steps} steps)`);
const runDir = join(out, `retromae-${encoder}`);
await cli([
  'pretrain', '--data', shards, '--output', runDir, '--tokenizer', tokenizerDir,
  '--hidden-size', '128', '--num-layers', '2', '--num-heads', '2', '--intermediate-size', '512',
  '--batch-size', '32', '--total-steps', String(steps), '--lr', '1e-3', '--adam-eps', '1e-6', '--warmup-ratio', '0.1',
  '--encoder-mask-ratio', '0.3', '--decoder-mask-ratio', '0.5', '--checkpoint-every', '100', '--log-every', '10',
  '--seed', '42', '--resume',
  ...(encoder === 'roberta' ? ['--model-config', join(here, 'roberta-tiny.json')] : []),
]);

const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const first = metrics[0];
const last = metrics[metrics.length - 1];
const checkpoints = readdirSync(runDir).filter((name) => name.startsWith('checkpoint-')).sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
const fmt = (m) => `loss ${m.loss.toFixed(3)} (encoder ${m.encoderLoss.toFixed(3)}, decoder ${m.decoderLoss.toFixed(3)})`;
process.stdout.write(
  [
    '',
    'RetroMAE pretraining on the bundled poetry corpus: done',
    `  steps            ${last.step}`,
    `  first logged     step ${first.step}: ${fmt(first)}`,
    `  last logged      step ${last.step}: ${fmt(last)}`,
    `  throughput       ${Math.round(last.tokensPerSecond)} tokens/s at the end`,
    `  loss plot        ${join(runDir, 'loss.svg')}`,
    `  metrics          ${join(runDir, 'metrics.jsonl')}`,
    `  final checkpoint ${join(runDir, checkpoints[checkpoints.length - 1])} (HF ${encoder === "roberta" ? "RobertaForMaskedLM" : "BertForMaskedLM"} layout + c_head.*)`,
    `  wall time        ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `  next             packages/cli/bin/retro.js embed --model ${join(runDir, checkpoints[checkpoints.length - 1])} --input texts.jsonl --output vectors.npy`,
    '',
  ].join('\n'),
);
