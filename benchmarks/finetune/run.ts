/**
 * The fine-tuning experiment of issue #16: the same data, steps and seeds from each init (the
 * untrained init and whatever pretrained checkpoints exist), scored on cmteb-lite (STS and
 * retrieval held out; reranking in-domain after STS-B train) with CLS and mean pooling, BM25
 * beside them. Each (init, seed) run and each score is recorded in OUT/state.json as it finishes,
 * so a rerun continues where the last one stopped (a killed fine-tuning run resumes).
 *
 *   node --import tsx benchmarks/finetune/run.ts --init untrained=/path/init --init mlm-200=/path/checkpoint-200 \
 *     [--seeds 42,43] [--steps 60] [--batch-size 16] [--group 2] [--lr 1e-4] [--temperature 0.05] \
 *     [--eval-every 20] [--dev-limit 200] [--limit 300] [--out runs/finetune-exp] [--publish docs/finetune] [--no-baseline] \
 *     [--warmup-inits mlm,retromae --warmup-steps 200 [--warmup-batch-size 64]]
 *   node --import tsx benchmarks/finetune/run.ts --merge OUT1,OUT2,... --out OUT [--publish DIR]   # one report from parallel invocations
 *
 * --warmup-inits adds, for each named init, the variant NAME+tc: first --warmup-steps of InfoNCE on
 * WuDao title -> content pairs of ../shared/corpus (unsupervised, in-batch negatives, the run's
 * seed), scored as it stands, then the same STS-B fine-tuning as every other init.
 *
 * Inits are read in place and never written (their weights are copied into OUT first, because a
 * running pretraining may prune the checkpoint it is reading).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { evaluateBm25, type EvalResult } from '@retro/eval';
import { finetune } from '@retro/cli';
import { readScoredPairs, readTitlePairs, readTriples, type Triple } from '@retro/finetune';
import { parseMetrics, renderLinePlot, type PlotSeries } from '@retro/train';
import { scoreCheckpoint } from '../experiment/lib/score-checkpoint.js';
import { loadExperimentSuite } from '../experiment/lib/suite.js';

interface Args {
  inits: Array<{ name: string; dir: string }>;
  seeds: number[];
  steps: number;
  batchSize: number;
  group: number;
  lr: number;
  temperature: number;
  evalEvery: number;
  /** Dev pairs scored during training (the first N of stsb-dev.jsonl); all when absent. */
  devLimit?: number;
  limit?: number;
  out: string;
  shared: string;
  publish?: string;
  /** Skip scoring the inits before fine-tuning (another invocation does it). */
  noBaseline: boolean;
  /** Report only: merge the state.json of these experiment folders (run in parallel) into --out. */
  merge?: string[];
  /** Inits that also get the title -> content warm-up variant (NAME+tc). */
  warmupInits: string[];
  warmupSteps: number;
  warmupBatchSize: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { inits: [], seeds: [42, 43], steps: 60, batchSize: 16, group: 2, lr: 1e-4, temperature: 0.05, evalEvery: 20, out: 'runs/finetune-exp', shared: resolve('..', 'shared'), noBaseline: false, warmupInits: [], warmupSteps: 200, warmupBatchSize: 64 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-baseline') {
      args.noBaseline = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--init') {
      const [name, dir] = value.split('=');
      if (!name || !dir) throw new Error(`--init expects NAME=DIR, got '${value}'`);
      args.inits.push({ name, dir });
    } else if (flag === '--seeds') args.seeds = value.split(',').map(Number);
    else if (flag === '--steps') args.steps = Number(value);
    else if (flag === '--batch-size') args.batchSize = Number(value);
    else if (flag === '--group') args.group = Number(value);
    else if (flag === '--lr') args.lr = Number(value);
    else if (flag === '--temperature') args.temperature = Number(value);
    else if (flag === '--eval-every') args.evalEvery = Number(value);
    else if (flag === '--limit') args.limit = Number(value);
    else if (flag === '--dev-limit') args.devLimit = Number(value);
    else if (flag === '--out') args.out = value;
    else if (flag === '--shared') args.shared = value;
    else if (flag === '--publish') args.publish = value;
    else if (flag === '--merge') args.merge = value.split(',');
    else if (flag === '--warmup-inits') args.warmupInits = value.split(',');
    else if (flag === '--warmup-steps') args.warmupSteps = Number(value);
    else if (flag === '--warmup-batch-size') args.warmupBatchSize = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (args.inits.length === 0 && !args.merge) throw new Error('give at least one --init NAME=DIR');
  // numbers are checked here, before any run starts, naming the flag
  const positiveIntegers: Array<[string, number | undefined]> = [
    ['--steps', args.steps], ['--batch-size', args.batchSize], ['--group', args.group], ['--eval-every', args.evalEvery],
    ['--limit', args.limit], ['--dev-limit', args.devLimit], ['--warmup-steps', args.warmupSteps], ['--warmup-batch-size', args.warmupBatchSize],
    ...args.seeds.map((seed): [string, number] => ['--seeds', seed + 1]),
  ];
  for (const [flag, value] of positiveIntegers) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) throw new Error(`${flag}: expected a whole number >= ${flag === '--seeds' ? 0 : 1}, got ${flag === '--seeds' ? value - 1 : value}`);
  }
  for (const [flag, value] of [['--lr', args.lr], ['--temperature', args.temperature]] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`${flag}: expected a number > 0, got ${value}`);
  }
  for (const name of args.warmupInits) {
    if (!args.merge && !args.inits.some((i) => i.name === name)) throw new Error(`--warmup-inits: '${name}' is not one of the --init names (${args.inits.map((i) => i.name).join(', ')})`);
  }
  return args;
}

interface Scores {
  sts?: number;
  reranking?: number;
  retrieval?: number;
}

interface RunRecord {
  init: string;
  seed: number;
  steps: number;
  /** Seconds per update (wall, this machine, shared CPUs). */
  secondsPerStep: number;
  finalLoss: number;
  bestDev?: { step: number; spearman: number };
  scores: Record<'cls' | 'mean', Scores>;
  /** The run folder (metrics.jsonl, dev.jsonl). */
  dir: string;
}

interface WarmupRecord {
  init: string;
  seed: number;
  steps: number;
  pairs: number;
  secondsPerStep: number;
  finalLoss: number;
  /** The warmed-up model, before any STS-B fine-tuning. */
  scores: Record<'cls' | 'mean', Scores>;
  dir: string;
}

interface State {
  settings: Omit<Args, 'publish' | 'out' | 'inits' | 'seeds' | 'warmupInits' | 'noBaseline' | 'merge'>;
  baselines: Record<string, Record<'cls' | 'mean', Scores>>;
  /** Title -> content warm-ups, keyed NAME+tc-sSEED. */
  warmups?: Record<string, WarmupRecord>;
  bm25?: Scores;
  runs: Record<string, RunRecord>;
}

const log = (text: string) => process.stderr.write(`[finetune-exp ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

function pick(result: EvalResult): Scores {
  return { sts: result.sts?.spearman, reranking: result.reranking?.map, retrieval: result.retrieval?.ndcg10 };
}

/** Folds the states of parallel invocations (same settings) into one report. */
function mergeStates(args: Args): void {
  const states = args.merge!.map((dir) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State);
  const merged: State = { settings: states[0].settings, baselines: {}, bm25: states[0].bm25, runs: {} };
  states.forEach((state, i) => {
    if (JSON.stringify(state.settings) !== JSON.stringify(merged.settings)) throw new Error(`--merge: ${args.merge![i]} has other settings than ${args.merge![0]}`);
    Object.assign(merged.baselines, state.baselines);
    Object.assign(merged.runs, state.runs);
    merged.warmups = { ...merged.warmups, ...state.warmups };
  });
  const names = [...new Set([...Object.keys(merged.baselines), ...Object.values(merged.runs).map((r) => r.init)])].filter((n) => !n.endsWith('+tc'));
  const settings = merged.settings as unknown as Args;
  const full: Args = { ...args, ...settings, inits: names.map((name) => ({ name, dir: '' })), seeds: [...new Set(Object.values(merged.runs).map((r) => r.seed))] };
  mkdirSync(args.out, { recursive: true });
  const report = writeReport(full, merged);
  if (args.publish) {
    mkdirSync(args.publish, { recursive: true });
    for (const f of report) copyFileSync(f, join(args.publish, basename(f)));
    log(`published ${report.map((f) => basename(f)).join(', ')} to ${args.publish}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.merge) return mergeStates(args);
  mkdirSync(args.out, { recursive: true });
  const stateFile = join(args.out, 'state.json');
  const settings = { steps: args.steps, batchSize: args.batchSize, group: args.group, lr: args.lr, temperature: args.temperature, evalEvery: args.evalEvery, devLimit: args.devLimit, limit: args.limit, shared: args.shared, warmupSteps: args.warmupSteps, warmupBatchSize: args.warmupBatchSize };
  const state: State = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : { settings, baselines: {}, runs: {} };
  if (JSON.stringify(state.settings) !== JSON.stringify(settings)) throw new Error(`${stateFile} was made with other settings: ${JSON.stringify(state.settings)}`);
  const save = () => writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);

  const suite = loadExperimentSuite(join(args.shared, 'cmteb-lite'), args.limit);
  const triples = readTriples(join(args.shared, 'finetune', 'stsb-train-triples.jsonl'));
  const dev = readScoredPairs(join(args.shared, 'finetune', 'stsb-dev.jsonl')).slice(0, args.devLimit);
  if (!state.bm25) {
    state.bm25 = pick(evaluateBm25(suite));
    save();
  }
  log(`BM25 on ${suite.name}: ${JSON.stringify(state.bm25)}`);

  const tune = async (key: string, modelDir: string, seed: number, runDir: string, data: readonly Triple[], steps: number, batchSize: number, group: number) => {
    log(`fine-tuning ${key}: ${steps} steps, ${batchSize} queries x ${group} passages`);
    const result = await finetune({
      modelDir,
      data: { kind: 'triples', items: data },
      batchSize,
      group,
      temperature: args.temperature,
      pooling: 'cls',
      maxLength: 64,
      dev,
      evalEvery: args.evalEvery,
      loop: {
        outputDir: runDir,
        seed,
        totalSteps: steps,
        optimizer: { lr: args.lr, weightDecay: 0.01 },
        schedule: { kind: 'linear', warmupSteps: Math.round(0.1 * steps) },
        checkpointEvery: args.evalEvery,
        keepCheckpoints: 1,
        logEvery: 5,
        resume: true,
        progress: false,
        onStep: (info) => {
          if (info.step % 10 === 0) log(`  ${key} step ${info.step}/${info.totalSteps} loss ${info.losses.loss.toFixed(4)}`);
        },
      },
    });
    const metrics = parseMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'));
    const last = metrics.slice(-2);
    log(`scoring ${key} (final checkpoint)`);
    const scored = await scoreCheckpoint(suite, result.lastCheckpoint!, { name: key, batchSize: 64 });
    return {
      result,
      finalLoss: last.reduce((s, m) => s + m.loss, 0) / last.length,
      scores: { cls: pick(scored.poolings[0].result), mean: pick(scored.poolings[1].result) },
    };
  };
  let titlePairs: Triple[] | undefined;
  const corpusFiles = () => readdirSync(join(args.shared, 'corpus')).filter((f) => /^part-\d+\.json$/.test(f)).sort().map((f) => join(args.shared, 'corpus', f));

  for (const init of args.inits) {
    // frozen copy of the init (a running pretraining may prune its checkpoints)
    const frozen = join(args.out, 'inits', init.name);
    if (!existsSync(join(frozen, 'model.safetensors'))) {
      mkdirSync(frozen, { recursive: true });
      for (const f of ['config.json', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']) {
        if (existsSync(join(init.dir, f))) copyFileSync(join(init.dir, f), join(frozen, f));
      }
    }
    if (!state.baselines[init.name] && !args.noBaseline) {
      log(`scoring ${init.name} before fine-tuning`);
      const scored = await scoreCheckpoint(suite, frozen, { name: init.name, batchSize: 64 });
      state.baselines[init.name] = { cls: pick(scored.poolings[0].result), mean: pick(scored.poolings[1].result) };
      save();
    }
    const variants: Array<{ name: string; warmup: boolean }> = [{ name: init.name, warmup: false }];
    if (args.warmupInits.includes(init.name)) variants.push({ name: `${init.name}+tc`, warmup: true });
    // every seed of the plain fine-tuning first, then the warm-up variant's: the comparison across
    // inits needs the former, and a run stopped by the clock should lack the extras, not a seed
    for (const variant of variants) {
      for (const seed of args.seeds) {
        const key = `${variant.name}-s${seed}`;
        if (state.runs[key]) continue;
        let start = frozen;
        if (variant.warmup) {
          const warmDir = join(args.out, 'runs', `${variant.name}-warmup-s${seed}`);
          state.warmups ??= {};
          if (!state.warmups[key]) {
            titlePairs ??= await readTitlePairs(corpusFiles());
            const warm = await tune(`${key} warm-up`, frozen, seed, warmDir, titlePairs, args.warmupSteps, args.warmupBatchSize, 1);
            state.warmups[key] = {
              init: init.name,
              seed,
              steps: warm.result.step,
              pairs: titlePairs.length,
              secondsPerStep: warm.result.elapsedSeconds / warm.result.step,
              finalLoss: warm.finalLoss,
              scores: warm.scores,
              dir: warmDir,
            };
            save();
            log(`${key} warm-up: ${JSON.stringify(warm.scores)}`);
          }
          start = join(warmDir, readFileSync(join(warmDir, 'latest'), 'utf8').trim());
        }
        const runDir = join(args.out, 'runs', key);
        const run = await tune(key, start, seed, runDir, triples, args.steps, args.batchSize, args.group);
        state.runs[key] = {
          init: variant.name,
          seed,
          steps: run.result.step,
          secondsPerStep: run.result.elapsedSeconds / run.result.step,
          finalLoss: run.finalLoss,
          bestDev: run.result.best ? { step: run.result.best.step, spearman: run.result.best.spearman } : undefined,
          scores: run.scores,
          dir: runDir,
        };
        save();
        log(`${key}: ${JSON.stringify(state.runs[key].scores)}`);
      }
    }
  }
  const report = writeReport(args, state);
  if (args.publish) {
    mkdirSync(args.publish, { recursive: true });
    for (const f of report) copyFileSync(f, join(args.publish, basename(f)));
    log(`published ${report.map((f) => basename(f)).join(', ')} to ${args.publish}`);
  }
}

const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
const meanSd = (values: number[]) => {
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1)) : 0;
  return `${m.toFixed(1)} ± ${sd.toFixed(1)}`;
};

/** results.json, results.md, loss.svg, dev.svg in OUT; returns their paths. */
function writeReport(args: Args, state: State): string[] {
  const out = args.out;
  const lines: string[] = [];
  lines.push(`Suite: cmteb-lite${args.limit ? ` (--limit ${args.limit}: a subset, not comparable to full-suite numbers)` : ''}. Fine-tuning: ${args.steps} steps, InfoNCE, ${args.batchSize} queries x ${args.group} passages (1 positive + ${args.group - 1} listed negatives + in-batch), temperature ${args.temperature}, lr ${args.lr} (linear, 10% warmup), CLS pooling in training, max length 64, data ../shared/finetune/stsb-train-triples.jsonl, dev: ${args.devLimit ? `the first ${args.devLimit} pairs of ` : ''}stsb-dev.jsonl, scored every ${args.evalEvery} steps; the table scores the final checkpoint.`);
  lines.push('');
  const warmups = Object.values(state.warmups ?? {});
  const names: string[] = [];
  for (const init of args.inits) {
    names.push(init.name);
    if (Object.values(state.runs).some((r) => r.init === `${init.name}+tc`) || warmups.some((w) => w.init === init.name)) names.push(`${init.name}+tc`);
  }
  const runsOf = (name: string) => Object.values(state.runs).filter((r) => r.init === name).sort((a, b) => a.seed - b.seed);
  const cell = (values: Array<number | undefined>) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length === 0 ? '–' : known.length === 1 ? known[0].toFixed(1) : meanSd(known);
  };
  lines.push('Summary (fine-tuned, final checkpoint; mean ± sd over seeds):');
  lines.push('');
  lines.push('| init | seeds | STS-B Spearman (cls) | retrieval nDCG@10 (cls) | reranking MAP, in-domain (cls) | STS-B Spearman (mean) | retrieval nDCG@10 (mean) |');
  lines.push('|---|---|---|---|---|---|---|');
  lines.push(`| BM25 chars+bigrams | – | ${fmt(state.bm25?.sts)} | ${fmt(state.bm25?.retrieval)} | ${fmt(state.bm25?.reranking)} | | |`);
  for (const name of names) {
    const runs = runsOf(name);
    if (runs.length === 0) continue;
    const col = (pooling: 'cls' | 'mean', k: keyof Scores) => cell(runs.map((r) => r.scores[pooling][k]));
    lines.push(`| ${name} | ${runs.map((r) => r.seed).join(', ')} | ${col('cls', 'sts')} | ${col('cls', 'retrieval')} | ${col('cls', 'reranking')} | ${col('mean', 'sts')} | ${col('mean', 'retrieval')} |`);
  }
  lines.push('');
  lines.push('Every run, and each init before fine-tuning:');
  lines.push('');
  lines.push('| model | pooling | STS-B Spearman | retrieval nDCG@10 | reranking MAP (in-domain) |');
  lines.push('|---|---|---|---|---|');
  lines.push(`| BM25 chars+bigrams | – | ${fmt(state.bm25?.sts)} | ${fmt(state.bm25?.retrieval)} | ${fmt(state.bm25?.reranking)} |`);
  for (const name of names) {
    const base = name.endsWith('+tc') ? name.slice(0, -3) : name;
    for (const pooling of ['cls', 'mean'] as const) {
      const before = state.baselines[name]?.[pooling];
      if (before) lines.push(`| ${name}, not fine-tuned | ${pooling} | ${fmt(before.sts)} | ${fmt(before.retrieval)} | ${fmt(before.reranking)} |`);
      if (name !== base) {
        for (const w of warmups.filter((w) => w.init === base).sort((a, b) => a.seed - b.seed)) {
          lines.push(`| ${base} + ${w.steps} title -> content steps only, seed ${w.seed} | ${pooling} | ${fmt(w.scores[pooling].sts)} | ${fmt(w.scores[pooling].retrieval)} | ${fmt(w.scores[pooling].reranking)} |`);
        }
      }
      const runs = runsOf(name);
      for (const r of runs) lines.push(`| ${name} + ft, seed ${r.seed} | ${pooling} | ${fmt(r.scores[pooling].sts)} | ${fmt(r.scores[pooling].retrieval)} | ${fmt(r.scores[pooling].reranking)} |`);
      if (runs.length > 1) {
        const col = (k: keyof Scores) => cell(runs.map((r) => r.scores[pooling][k]));
        lines.push(`| **${name} + ft, mean ± sd** | ${pooling} | ${col('sts')} | ${col('retrieval')} | ${col('reranking')} |`);
      }
    }
  }
  lines.push('');
  lines.push('| run | steps | s/step | final loss | best dev Spearman (step) |');
  lines.push('|---|---|---|---|---|');
  for (const [key, r] of Object.entries(state.runs)) lines.push(`| ${key} | ${r.steps} | ${r.secondsPerStep.toFixed(2)} | ${r.finalLoss.toFixed(4)} | ${r.bestDev ? `${r.bestDev.spearman.toFixed(1)} (${r.bestDev.step})` : '–'} |`);
  for (const [key, w] of Object.entries(state.warmups ?? {})) lines.push(`| ${key} warm-up (${w.pairs} title -> content pairs, ${args.warmupBatchSize} per step) | ${w.steps} | ${w.secondsPerStep.toFixed(2)} | ${w.finalLoss.toFixed(4)} | – |`);
  writeFileSync(join(out, 'results.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(state, null, 2)}\n`);

  const lossSeries: PlotSeries[] = [];
  const devSeries: PlotSeries[] = [];
  for (const [key, run] of Object.entries(state.runs)) {
    const dir = run.dir;
    const metrics = parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
    lossSeries.push({ name: key, points: metrics.map((m) => [m.step, m.loss] as const) });
    if (existsSync(join(dir, 'dev.jsonl'))) {
      const dev = readFileSync(join(dir, 'dev.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; spearman: number });
      devSeries.push({ name: key, points: dev.map((d) => [d.step, d.spearman] as const) });
    }
  }
  writeFileSync(join(out, 'loss.svg'), renderLinePlot(lossSeries, { title: 'InfoNCE loss (5-step means)', xLabel: 'step', yLabel: 'loss' }));
  writeFileSync(join(out, 'dev.svg'), renderLinePlot(devSeries, { title: 'STS-B dev Spearman x100 (CLS)', xLabel: 'step', yLabel: 'Spearman x100' }));
  return ['results.md', 'results.json', 'loss.svg', 'dev.svg'].map((f) => join(out, f));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
