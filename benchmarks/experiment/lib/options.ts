/** Flags of benchmarks/experiment/run.ts, parsed and checked (errors name the flag, expected vs found). */
import { resolve } from 'node:path';

/**
 * init/mlm/retromae: from scratch (the first experiment). cont-mlm/cont-retromae: continued
 * pretraining of the MLM base (the seed's shape: an MLM-pretrained encoder, continued with
 * RetroMAE, and with more MLM as the control).
 */
export type RunKind = 'init' | 'mlm' | 'retromae' | 'cont-mlm' | 'cont-retromae';
export const RUN_KINDS: readonly RunKind[] = ['init', 'mlm', 'retromae', 'cont-mlm', 'cont-retromae'];
const DEFAULT_KINDS: readonly RunKind[] = ['init', 'mlm', 'retromae'];

export interface ExperimentOptions {
  /** Output folder (state, data, runs, eval, report); ignored by git under runs/. */
  out: string;
  /** ../shared (corpus/, cmteb-lite/, experiment/vocab.txt live under it). */
  shared: string;
  corpus: string;
  cmteb: string;
  /** 'reference': ../shared/experiment/vocab.txt (the PyTorch run's); 'built': our builder's. */
  vocab: 'reference' | 'built';
  /** Word grouping of whole-word masking (encoder mask and decoder M): `retro prepare --whole-word`. */
  wholeWord: 'jieba' | 'wordpiece';
  /** Backbone: BERT with the WordPiece vocabulary, or RoBERTa with a byte-level BPE built from the corpus. */
  encoder: 'bert' | 'roberta';
  bpeVocabSize: number;
  steps: number;
  /** Steps of each continued run (cont-mlm, cont-retromae); default: --steps. */
  continueSteps: number;
  /** Base of the continued runs; default: this experiment's MLM run at --steps (runs/mlm-sS/checkpoint-STEPS). */
  fromCheckpoint?: string;
  batchSize: number;
  /** Seeds 42, 43, ... (count). */
  seeds: number;
  firstSeed: number;
  only: RunKind[];
  /** Eval subset: at most N STS pairs, reranking queries, retrieval queries (undefined: all). */
  limit?: number;
  /** Minutes this invocation may spend; stages stop at a checkpoint and resume next time. */
  timeBudgetMinutes?: number;
  /** Steps per pretrain segment (checkpoint + budget check between segments). */
  segmentSteps: number;
  logEvery: number;
  evalBatchSize: number;
  /** Also evaluate these intermediate steps (metric-vs-step plot). */
  evalAt: number[];
  /** Copy the report files (table, plots, results.json) into this folder. */
  publish?: string;
  quick: boolean;
  /** Print the plan and exit. */
  dryRun: boolean;
}

const HELP = `node --import tsx benchmarks/experiment/run.ts [options]

Reruns the small-scale RetroMAE vs MLM experiment end to end (vocabulary, retro prepare,
retro pretrain x2, evaluation of init / MLM / RetroMAE with CLS and mean pooling, BM25, report).
Every stage is recorded in OUT/state.json; rerunning the command continues where it stopped.

  --out DIR             output folder (default runs/experiment; --quick: runs/experiment-quick)
  --shared DIR          shared data root (default ../shared)
  --corpus DIR          corpus folder (default SHARED/corpus)
  --cmteb DIR           evaluation suite (default SHARED/cmteb-lite)
  --vocab reference|built  reference = SHARED/experiment/vocab.txt (default); built = our builder
  --whole-word jieba|wordpiece  word grouping for the encoder mask and the decoder's M: jieba words
                        (default) or single characters (HF DataCollatorForWholeWordMask's \`##\` rule)
  --encoder bert|roberta  backbone (default bert); roberta trains a byte-level BPE tokenizer on
                        the corpus (--bpe-vocab-size) and uses RoBERTa's embeddings/config
  --bpe-vocab-size N    vocabulary of that BPE tokenizer (default 8000)
  --steps N             optimizer steps per run (default 1200)
  --continue-steps N    steps of each continued run, cont-mlm / cont-retromae (default --steps)
  --from-checkpoint DIR base of the continued runs (default: this experiment's MLM run at --steps)
  --batch-size N        chunks per step (default 32)
  --seeds N             number of seeds, from --seed (default 1)
  --seed N              first seed (default 42)
  --only LIST           subset of init,mlm,retromae,cont-mlm,cont-retromae (default
                        init,mlm,retromae); the seed's table: init,mlm,cont-mlm,cont-retromae
  --limit N             evaluate on at most N items per task (not comparable to the reference)
  --time-budget MIN     stop cleanly after about MIN minutes; the next invocation resumes
  --segment-steps N     checkpoint/budget-check interval during pretraining (default 100)
  --log-every N         metrics.jsonl interval (default 10; --quick: 1)
  --eval-batch-size N   texts per forward pass in evaluation (default 64)
  --eval-at LIST        also evaluate these intermediate steps, e.g. 300,600,900 (of every
                        run, continued ones counted from their own start)
  --publish DIR         copy results.md, results.json and the plots into DIR
  --quick               validation preset: --steps 30 --limit 200 --segment-steps 15 --log-every 1
  --dry-run             print the resolved options and stages, run nothing
  --help
`;

function parseFlags(argv: readonly string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`run.ts: unexpected argument '${arg}' (flags look like --name [value]; see --help)`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg.slice(2), next);
      i++;
    } else flags.set(arg.slice(2), true);
  }
  return flags;
}

function int(flags: Map<string, string | true>, name: string, fallback: number, min = 1): number {
  const raw = flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isInteger(value) || value < min) throw new Error(`run.ts: --${name}: expected an integer >= ${min}, found '${raw === true ? '' : raw}'`);
  return value;
}

function str(flags: Map<string, string | true>, name: string): string | undefined {
  const raw = flags.get(name);
  if (raw === true) throw new Error(`run.ts: --${name} needs a value`);
  return raw;
}

/** argv (without node and script) -> options; `undefined` when --help was printed. */
export function parseOptions(argv: readonly string[]): ExperimentOptions | undefined {
  const flags = parseFlags(argv);
  if (flags.has('help')) {
    process.stdout.write(HELP);
    return undefined;
  }
  const known = new Set(['out', 'shared', 'corpus', 'cmteb', 'vocab', 'whole-word', 'encoder', 'bpe-vocab-size', 'continue-steps', 'from-checkpoint', 'steps', 'batch-size', 'seeds', 'seed', 'only', 'limit', 'time-budget', 'segment-steps', 'log-every', 'eval-batch-size', 'eval-at', 'publish', 'quick', 'dry-run']);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`run.ts: unknown flag --${name} (see --help)`);
  const quick = flags.get('quick') === true;
  const shared = resolve(str(flags, 'shared') ?? '../shared');
  const vocab = str(flags, 'vocab') ?? 'reference';
  if (vocab !== 'reference' && vocab !== 'built') throw new Error(`run.ts: --vocab: expected reference or built, found '${vocab}'`);
  const wholeWord = str(flags, 'whole-word') ?? 'jieba';
  if (wholeWord !== 'jieba' && wholeWord !== 'wordpiece') throw new Error(`run.ts: --whole-word: expected jieba or wordpiece, found '${wholeWord}'`);
  const encoder = str(flags, 'encoder') ?? 'bert';
  if (encoder !== 'bert' && encoder !== 'roberta') throw new Error(`run.ts: --encoder: expected bert or roberta, found '${encoder}'`);
  if (encoder === 'roberta' && flags.has('vocab')) throw new Error('run.ts: --vocab applies to the BERT WordPiece vocabulary; --encoder roberta builds its BPE (--bpe-vocab-size)');
  const only = (str(flags, 'only') ?? DEFAULT_KINDS.join(',')).split(',').filter(Boolean);
  for (const kind of only) if (!RUN_KINDS.includes(kind as RunKind)) throw new Error(`run.ts: --only: expected names from ${RUN_KINDS.join(',')}, found '${kind}'`);
  const budgetRaw = str(flags, 'time-budget');
  const timeBudgetMinutes = budgetRaw === undefined ? undefined : Number(budgetRaw);
  if (timeBudgetMinutes !== undefined && !(timeBudgetMinutes > 0)) throw new Error(`run.ts: --time-budget: expected minutes > 0, found '${budgetRaw}'`);
  const steps = int(flags, 'steps', quick ? 30 : 1200);
  const continueSteps = int(flags, 'continue-steps', steps);
  const longest = Math.max(steps, continueSteps);
  const evalAt = (str(flags, 'eval-at') ?? '').split(',').filter(Boolean).map(Number);
  for (const s of evalAt) if (!Number.isInteger(s) || s < 1 || s >= longest) throw new Error(`run.ts: --eval-at: expected steps in 1..${longest - 1}, found '${s}'`);
  const fromCheckpoint = str(flags, 'from-checkpoint');
  const limitRaw = flags.get('limit');
  return {
    out: resolve(str(flags, 'out') ?? (quick ? 'runs/experiment-quick' : 'runs/experiment')),
    shared,
    corpus: resolve(str(flags, 'corpus') ?? `${shared}/corpus`),
    cmteb: resolve(str(flags, 'cmteb') ?? `${shared}/cmteb-lite`),
    vocab,
    wholeWord,
    encoder,
    bpeVocabSize: int(flags, 'bpe-vocab-size', 8000, 300),
    steps,
    continueSteps,
    fromCheckpoint: fromCheckpoint === undefined ? undefined : resolve(fromCheckpoint),
    batchSize: int(flags, 'batch-size', 32),
    seeds: int(flags, 'seeds', 1),
    firstSeed: int(flags, 'seed', 42, 0),
    only: only as RunKind[],
    limit: limitRaw === undefined ? (quick ? 200 : undefined) : int(flags, 'limit', 0),
    timeBudgetMinutes,
    segmentSteps: int(flags, 'segment-steps', quick ? 15 : 100),
    logEvery: int(flags, 'log-every', quick ? 1 : 10),
    evalBatchSize: int(flags, 'eval-batch-size', 64),
    evalAt: [...new Set(evalAt)].sort((a, b) => a - b),
    publish: str(flags, 'publish') === undefined ? undefined : resolve(str(flags, 'publish')!),
    quick,
    dryRun: flags.get('dry-run') === true,
  };
}
