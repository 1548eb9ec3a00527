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

export function parseContinuedOptions(argv: string[]): Options {
  const o: Options = { out: resolve('runs/continued'), encoders: ['bert', 'roberta'], seeds: '2', seed: '42', passThrough: [], dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    if (flag === '--dry-run') {
      o.dryRun = true;
      continue;
    }
    if (!flag.startsWith('--') || value === undefined || value.startsWith('--')) throw new Error(`continued.ts: ${flag}: expected --name value\n${USAGE}`);
    i++;
    switch (flag) {
      case '--out':
        o.out = resolve(value);
        break;
      case '--encoders': {
        const list = value.split(',');
        const bad = list.find((e) => e !== 'bert' && e !== 'roberta');
        if (bad !== undefined || list.length === 0) throw new Error(`continued.ts: --encoders: expected bert, roberta or both, found '${value}'`);
        o.encoders = [...new Set(list)] as Options['encoders'];
        break;
      }
      case '--seeds':
      case '--seed':
        if (!/^\d+$/.test(value) || (flag === '--seeds' && Number(value) < 1)) throw new Error(`continued.ts: ${flag}: expected a whole number${flag === '--seeds' ? ' >= 1' : ''}, found '${value}'`);
        if (flag === '--seeds') o.seeds = value;
        else o.seed = value;
        break;
      case '--time-budget':
        if (!(Number(value) > 0)) throw new Error(`continued.ts: --time-budget: expected minutes > 0, found '${value}'`);
        o.budgetMinutes = Number(value);
        break;
      case '--publish':
        o.publish = resolve(value);
        break;
      case '--shared':
      case '--continue-steps':
      case '--eval-at':
      case '--steps':
        o.passThrough.push(flag, value);
        break;
      default:
        throw new Error(`continued.ts: unknown flag ${flag}\n${USAGE}`);
    }
  }
  return o;
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
  const o = parseContinuedOptions(argv);
  const start = Date.now();
  for (const encoder of o.encoders) {
    const left = o.budgetMinutes === undefined ? undefined : o.budgetMinutes - (Date.now() - start) / 60_000;
    if (left !== undefined && left < 1) {
      process.stdout.write(`[continued] time budget spent before ${encoder}; rerun the same command to go on\n`);
      break;
    }
    process.stdout.write(`[continued] ${encoder}: run.ts ${runArgs(o, encoder, left).join(' ')}\n`);
    const code = node('run.ts', runArgs(o, encoder, left));
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
