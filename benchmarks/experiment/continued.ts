/**
 * The seed's table at small scale, with one resumable command: for each backbone, the MLM base
 * and its two continuations (RetroMAE and the MLM control) for every seed, then the table.
 *
 *   node --import tsx benchmarks/experiment/continued.ts [--out runs/continued] [--seeds 2] [--seed 42]
 *        [--encoders bert,roberta] [--time-budget MIN] [--shared ../shared] [--publish docs/experiment/continued]
 *        [--continue-steps 1200] [--eval-at 300,600,900] [--steps 1200]
 *
 * Each backbone is one run.ts experiment in OUT/<backbone> (BERT: the reference vocabulary;
 * RoBERTa: a byte-level BPE built from the corpus), so everything resumes from OUT/<backbone>/
 * state.json and the runs' checkpoints: rerun the same command after a stop or an exhausted
 * --time-budget and it goes on where it was. The table (seed-table.ts) is written from whatever
 * the folders hold, with rows marked by their number of seeds. --publish DIR copies each
 * backbone's report to DIR/<backbone>/ and the table to DIR/seed-table.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from '../lib/io.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Options {
  out: string;
  encoders: Array<'bert' | 'roberta'>;
  seeds: string;
  seed: string;
  budgetMinutes?: number;
  publish?: string;
  /** Flags handed to run.ts as they are. */
  passThrough: string[];
  /** Print each backbone's run.ts plan (run.ts --dry-run) and stop. */
  dryRun: boolean;
}

const USAGE = 'usage: continued.ts [--dry-run] [--out DIR] [--seeds N] [--seed N] [--encoders bert,roberta] [--time-budget MIN] [--shared DIR] [--publish DIR] [--continue-steps N] [--eval-at S,S] [--steps N]';

const FLAGS = new Set(['out', 'encoders', 'seeds', 'seed', 'time-budget', 'publish', 'dry-run', 'shared', 'continue-steps', 'eval-at', 'steps']);
/** Flags run.ts takes as they are. */
const PASSED_ON = ['shared', 'continue-steps', 'eval-at', 'steps'];

/** Reads continued.ts's flags (the shared benchmark flag reader splits them); errors name the flag. */
export function parseContinuedOptions(argv: string[]): Options {
  const { flags } = parseArgs(argv);
  for (const name of Object.keys(flags)) if (!FLAGS.has(name)) throw new Error(`continued.ts: unknown flag --${name}\n${USAGE}`);
  const value = (name: string): string | undefined => {
    const v = flags[name];
    if (v === true) throw new Error(`continued.ts: --${name}: expected --name value\n${USAGE}`);
    return v;
  };
  const wholeNumber = (name: string, fallback: string, min: number): string => {
    const v = value(name) ?? fallback;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`continued.ts: --${name}: expected a whole number${min > 0 ? ` >= ${min}` : ''}, found '${v}'`);
    return v;
  };
  const encoders = value('encoders')?.split(',') ?? ['bert', 'roberta'];
  if (encoders.some((e) => e !== 'bert' && e !== 'roberta')) throw new Error(`continued.ts: --encoders: expected bert, roberta or both, found '${value('encoders')}'`);
  const budget = value('time-budget');
  if (budget !== undefined && !(Number(budget) > 0)) throw new Error(`continued.ts: --time-budget: expected minutes > 0, found '${budget}'`);
  const out = value('out');
  const publish = value('publish');
  return {
    out: resolve(out ?? 'runs/continued'),
    encoders: [...new Set(encoders)] as Options['encoders'],
    seeds: wholeNumber('seeds', '2', 1),
    seed: wholeNumber('seed', '42', 0),
    budgetMinutes: budget === undefined ? undefined : Number(budget),
    publish: publish === undefined ? undefined : resolve(publish),
    // In the order given, as run.ts would log them.
    passThrough: Object.keys(flags)
      .filter((name) => PASSED_ON.includes(name))
      .flatMap((name) => [`--${name}`, value(name)!]),
    dryRun: flags['dry-run'] === true,
  };
}

/** run.ts's arguments for one backbone (the stages of the continued experiment only). */
export function runArgs(o: Options, encoder: 'bert' | 'roberta', minutesLeft?: number): string[] {
  const args = ['--out', join(o.out, encoder), '--encoder', encoder, '--only', 'init,mlm,cont-mlm,cont-retromae', '--seeds', o.seeds, '--seed', o.seed];
  if (!o.passThrough.includes('--continue-steps')) args.push('--continue-steps', '1200');
  if (!o.passThrough.includes('--eval-at')) args.push('--eval-at', '300,600,900');
  args.push(...o.passThrough);
  if (minutesLeft !== undefined) args.push('--time-budget', minutesLeft.toFixed(2));
  if (o.publish) args.push('--publish', join(o.publish, encoder));
  if (o.dryRun) args.push('--dry-run');
  return args;
}

function node(script: string, args: string[]): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, script), ...args], { stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const o = parseContinuedOptions(argv);
  const start = Date.now();
  for (const encoder of o.encoders) {
    const left = o.budgetMinutes === undefined ? undefined : o.budgetMinutes - (Date.now() - start) / 60_000;
    if (left !== undefined && left < 1) {
      process.stdout.write(`[continued] time budget spent before ${encoder}; rerun the same command to go on\n`);
      break;
    }
    const args = runArgs(o, encoder, left);
    process.stdout.write(`[continued] ${encoder}: run.ts ${args.join(' ')}\n`);
    const code = node('run.ts', args);
    if (code !== 0) {
      process.stderr.write(`continued.ts: run.ts for ${encoder} exited with ${code}; its log above says why\n`);
      return code;
    }
  }
  if (o.dryRun) return 0;
  // A backbone not reached yet (budget spent) has no report; the table covers the others.
  const reported = o.encoders.filter((encoder) => existsSync(join(o.out, encoder, 'report', 'results.json')));
  if (reported.length === 0) {
    process.stdout.write('[continued] no backbone has a report yet; no table\n');
    return 0;
  }
  const table = reported.flatMap((encoder) => ['--out', join(o.out, encoder)]);
  if (o.publish) table.push('--publish', o.publish);
  return node('seed-table.ts', table);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
