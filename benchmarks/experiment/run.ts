/**
 * The small-scale RetroMAE vs MLM experiment, end to end, with one command:
 *
 *   node --import tsx benchmarks/experiment/run.ts [--steps 1200] [--time-budget 50] [--publish docs/experiment]
 *
 * Stages (each recorded in OUT/state.json and skipped once done; pretraining resumes from its
 * newest checkpoint): tokenizer -> vocab-compare -> prepare (`retro prepare`) -> split-check ->
 * bm25 -> per seed: init checkpoint + eval -> `retro pretrain --mlm-only` + eval -> `retro
 * pretrain` (RetroMAE) + eval -> report (results.json, results.md, loss.svg, metrics.svg).
 * Reads ../shared in place; writes only under --out (default runs/experiment, git-ignored).
 * See benchmarks/experiment/README.md.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { main as retro } from '@retro/cli';
import { AutoTokenizer, readDocuments, RobertaTokenizer, trainByteLevelBpe } from '@retro/data';
import { loadConfig } from '@retro/bert';
import { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { evaluateBm25, toJSON, type EvalResult } from '@retro/eval';
import { parseOptions, type ExperimentOptions, type RunKind } from './lib/options.js';
import { BudgetSpent, ExperimentState, TimeBudget } from './lib/state.js';
import { loadExperimentSuite } from './lib/suite.js';
import { MAX_LENGTH, scoreCheckpoint } from './lib/score-checkpoint.js';
import { measureStepCost, type StepCost } from './lib/step-cost.js';
import { buildAndCompareVocab, countChunksWithTerminators } from './lib/data-checks.js';
import { lossPlot, metricPlot, readMetrics, resultsMarkdown, stepTableMarkdown, summarizeTraining, type EvalRecord } from './lib/report.js';
import { PYTORCH_CONTINUED, type MetricKey } from './lib/reference.js';
import { claimsMarkdown, continuedPlot, passingStepsMarkdown, plottedSeeds, pytorchComparisonMarkdown, seedTableMarkdown, type ContinuedExperiment } from './lib/continued.js';

/** The model and optimiser of the reference run (issue text); only steps and batch are flags. */
const MODEL = { hiddenSize: 256, numLayers: 4, numHeads: 4, intermediateSize: 1024, dropout: 0.1, maxPosition: 128 };
const OPTIM = { lr: 1e-3, eps: 1e-6, weightDecay: 0.01, warmupRatio: 0.1, clipNorm: 1.0, encoderMask: 0.3, decoderMask: 0.5 };

function log(message: string): void {
  process.stdout.write(`[experiment ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The `retro` CLI in-process; a non-zero exit is an error naming the command. */
async function runRetro(argv: string[]): Promise<void> {
  log(`retro ${argv.join(' ')}`);
  const code = await retro(argv);
  if (code !== 0) throw new Error(`run.ts: \`retro ${argv.join(' ')}\` exited with ${code}`);
}

/** Highest step with a complete checkpoint (trainer_state.json written last), 0 if none. */
function completedStep(runDir: string): number {
  if (!existsSync(runDir)) return 0;
  let best = 0;
  for (const name of readdirSync(runDir)) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    if (m && existsSync(join(runDir, name, 'trainer_state.json'))) best = Math.max(best, Number(m[1]));
  }
  return best;
}

/** What one pretraining run is: its objective, length and starting point. */
interface RunPlan {
  objective: 'mlm' | 'retromae';
  steps: number;
  /** Continued pretraining starts from these weights (`retro pretrain --init-from`). */
  initFrom?: string;
}

function pretrainArgs(o: ExperimentOptions, plan: RunPlan, seed: number, shards: string, tokenizer: string, runDir: string, modelConfig?: string): string[] {
  return [
    'pretrain', '--data', shards, '--output', runDir, '--tokenizer', tokenizer,
    ...(modelConfig
      ? ['--model-config', modelConfig]
      : ['--hidden-size', `${MODEL.hiddenSize}`, '--num-layers', `${MODEL.numLayers}`, '--num-heads', `${MODEL.numHeads}`, '--intermediate-size', `${MODEL.intermediateSize}`, '--dropout', `${MODEL.dropout}`]),
    ...(plan.initFrom ? ['--init-from', plan.initFrom] : []),
    '--encoder-mask-ratio', `${OPTIM.encoderMask}`, '--decoder-mask-ratio', `${OPTIM.decoderMask}`,
    ...(plan.objective === 'mlm' ? ['--mlm-only'] : []),
    '--batch-size', `${o.batchSize}`, '--total-steps', `${plan.steps}`, '--lr', `${OPTIM.lr}`, '--adam-eps', `${OPTIM.eps}`,
    '--weight-decay', `${OPTIM.weightDecay}`, '--schedule', 'linear', '--warmup-ratio', `${OPTIM.warmupRatio}`,
    '--clip-norm', `${OPTIM.clipNorm}`, '--checkpoint-every', `${o.segmentSteps}`, '--keep-checkpoints', '2',
    '--log-every', `${o.logEvery}`, '--seed', `${seed}`, '--resume',
    ...(process.stderr.isTTY ? [] : ['--no-progress']),
  ];
}

/**
 * The encoder's config: the reference run's BERT, or the same sizes as a RoBERTa (positions
 * offset by padding_idx + 1, one token type, LayerNorm eps 1e-5, as HF's RobertaConfig).
 */
function encoderConfig(o: ExperimentOptions, tokenizer: { vocabSize: number; padTokenId: number }) {
  const common = {
    vocabSize: tokenizer.vocabSize,
    hiddenSize: MODEL.hiddenSize,
    numHiddenLayers: MODEL.numLayers,
    numAttentionHeads: MODEL.numHeads,
    intermediateSize: MODEL.intermediateSize,
    hiddenDropoutProb: MODEL.dropout,
    attentionProbsDropoutProb: MODEL.dropout,
    padTokenId: tokenizer.padTokenId,
  };
  if (o.encoder === 'bert') return { ...common, modelType: 'bert' as const, maxPositionEmbeddings: MODEL.maxPosition };
  return { ...common, modelType: 'roberta' as const, maxPositionEmbeddings: MODEL.maxPosition + tokenizer.padTokenId + 1, typeVocabSize: 1, layerNormEps: 1e-5 };
}

/** The same config as an HF config.json, for `retro pretrain --model-config`. */
function hfConfigJson(config: ReturnType<typeof encoderConfig>): string {
  const hf: Record<string, unknown> = {
    model_type: config.modelType,
    architectures: [config.modelType === 'roberta' ? 'RobertaForMaskedLM' : 'BertForMaskedLM'],
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: config.hiddenDropoutProb,
    attention_probs_dropout_prob: config.attentionProbsDropoutProb,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: 'typeVocabSize' in config ? config.typeVocabSize : 2,
    layer_norm_eps: 'layerNormEps' in config ? config.layerNormEps : 1e-12,
    initializer_range: 0.02,
    pad_token_id: config.padTokenId,
  };
  return `${JSON.stringify(hf, null, 2)}\n`;
}

/** Trained kinds in the order they run: the from-scratch pair, then the continuations of the MLM base. */
const TRAINED_KINDS = ['mlm', 'retromae', 'cont-mlm', 'cont-retromae'] as const;

function planOf(o: ExperimentOptions, kind: Exclude<RunKind, 'init'>, seed: number): RunPlan {
  if (kind === 'mlm' || kind === 'retromae') return { objective: kind, steps: o.steps };
  return {
    objective: kind === 'cont-mlm' ? 'mlm' : 'retromae',
    steps: o.continueSteps,
    initFrom: o.fromCheckpoint ?? join(o.out, 'runs', `mlm-s${seed}`, `checkpoint-${o.steps}`),
  };
}

function versions(): Record<string, unknown> {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const pkgs: Record<string, string> = {};
  for (const name of readdirSync('packages')) {
    const file = join('packages', name, 'package.json');
    if (existsSync(file)) {
      const p = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
      pkgs[p.name] = p.version;
    }
  }
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirtyFiles: git(['status', '--porcelain']).split('\n').filter(Boolean).length,
    backend: process.env.RETRO_BACKEND ?? 'cpu (default)',
    packages: pkgs,
  };
}

async function run(o: ExperimentOptions, argv: string[]): Promise<void> {
  const seeds = Array.from({ length: o.seeds }, (_, i) => o.firstSeed + i);
  // Seeds and --eval-at only pick which stages run (each stage's name holds its seed and step),
  // so later invocations may add seeds or evaluation points to the same experiment.
  const tokenizerSetting = o.encoder === 'bert' ? { vocab: o.vocab } : { bpeVocabSize: o.bpeVocabSize };
  const settings = {
    steps: o.steps, batchSize: o.batchSize, ...tokenizerSetting, wholeWord: o.wholeWord, limit: o.limit ?? null, model: MODEL, optim: OPTIM, corpus: o.corpus, cmteb: o.cmteb,
    encoder: o.encoder, continueSteps: o.continueSteps, fromCheckpoint: o.fromCheckpoint ?? null,
  };
  if (o.dryRun) {
    log(`options ${JSON.stringify(o, null, 2)}`);
    for (const kind of o.only.filter((k) => k !== 'init')) {
      log(`pretrain args (${kind}, seed ${seeds[0]}): retro ${pretrainArgs(o, planOf(o, kind, seeds[0]!), seeds[0]!, join(o.out, 'shards'), join(o.out, 'tokenizer'), join(o.out, 'runs', `${kind}-s${seeds[0]}`), o.encoder === 'roberta' ? join(o.out, 'model-config.json') : undefined).join(' ')}`);
    }
    return;
  }
  // state files from before --whole-word existed were made with its default; those from before
  // --encoder were BERT runs without continued stages, so any continuation setting fits them
  const state = new ExperimentState(o.out, settings, argv, { wholeWord: 'jieba', encoder: 'bert', continueSteps: o.continueSteps, fromCheckpoint: o.fromCheckpoint ?? null });
  const budget = new TimeBudget(o.timeBudgetMinutes);
  const tokenizerDir = join(o.out, 'tokenizer');
  const builtDir = join(o.out, 'tokenizer-built');
  const shards = join(o.out, 'shards');
  const referenceVocab = join(o.shared, 'experiment', 'vocab.txt');
  const evalDir = join(o.out, 'eval');
  mkdirSync(evalDir, { recursive: true });

  /** Runs `body` unless the stage is recorded as done; refuses to start once the budget is spent. */
  const stage = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const done = state.done(name);
    if (done) return done.result as T;
    if (budget.expired()) throw new BudgetSpent(name);
    state.claim(name);
    log(`stage ${name}`);
    const started = new Date();
    let result: T;
    try {
      result = await body();
    } catch (error) {
      state.release(name);
      throw error;
    }
    const rec = state.finish(name, started, result);
    log(`stage ${name} done in ${rec.seconds.toFixed(1)} s`);
    return result;
  };

  try {
    await stage('vocab-compare', async () => buildAndCompareVocab(o.corpus, referenceVocab, builtDir));
    await stage('tokenizer', async () => {
      mkdirSync(tokenizerDir, { recursive: true });
      if (o.encoder === 'roberta') {
        // RoBERTa's own kind of vocabulary, learned from the same corpus the BERT vocabulary counts
        const files = readdirSync(o.corpus).filter((f) => /^part-.*\.json$/.test(f)).sort().map((f) => join(o.corpus, f));
        async function* texts() {
          for await (const document of readDocuments(files)) yield document.text;
        }
        const bpe = await trainByteLevelBpe(texts(), { vocabSize: o.bpeVocabSize });
        await new RobertaTokenizer(bpe.vocab, bpe.merges).save(tokenizerDir);
        return { source: `byte-level BPE trained on ${files.length} corpus files`, vocabSize: (await AutoTokenizer.fromPretrained(tokenizerDir)).vocabSize, merges: bpe.merges.length };
      }
      const source = o.vocab === 'reference' ? referenceVocab : join(builtDir, 'vocab.txt');
      copyFileSync(source, join(tokenizerDir, 'vocab.txt'));
      return { source, vocabSize: (await AutoTokenizer.fromPretrained(tokenizerDir)).vocabSize };
    });
    // RoBERTa runs read their config from a file (`retro pretrain --model-config`); BERT runs keep
    // the size flags the first experiment used, so its resumed runs see the same arguments.
    const modelConfigFile = o.encoder === 'roberta' ? join(o.out, 'model-config.json') : undefined;
    if (modelConfigFile && !existsSync(modelConfigFile)) writeFileSync(modelConfigFile, hfConfigJson(encoderConfig(o, await AutoTokenizer.fromPretrained(tokenizerDir))));
    await stage('prepare', async () => {
      await runRetro(['prepare', '--input', o.corpus, '--tokenizer', tokenizerDir, '--output', shards, '--max-length', `${MAX_LENGTH}`, '--whole-word', o.wholeWord]);
      const m = JSON.parse(readFileSync(join(shards, 'manifest.json'), 'utf8')) as { totals: { documents: number; chunks: number; tokens: number }; config: unknown };
      return { ...m.totals, contentTokens: m.totals.tokens - 2 * m.totals.chunks, config: m.config };
    });
    await stage('split-check', async () => {
      const files = readdirSync(o.corpus).filter((f) => /^part-.*\.json$/.test(f)).sort().map((f) => join(o.corpus, f));
      return countChunksWithTerminators(files, tokenizerDir, join(o.out, 'shards-split-reference'), '。！？');
    });

    const suite = loadExperimentSuite(o.cmteb, o.limit);
    const scoresOf = (r: EvalResult): Partial<Record<MetricKey, number>> => ({
      'sts.spearman': r.sts?.spearman,
      'reranking.map': r.reranking?.map,
      'reranking.mrr10': r.reranking?.mrr10,
      'retrieval.ndcg10': r.retrieval?.ndcg10,
      'retrieval.recall10': r.retrieval?.recall10,
      'retrieval.mrr10': r.retrieval?.mrr10,
    });
    await stage('bm25', async () => {
      const r = evaluateBm25(suite);
      writeFileSync(join(evalDir, 'bm25.json'), toJSON([r]));
      return scoresOf(r);
    });

    /** One forward pass over the suite's texts, then both poolings scored. */
    const evalCheckpoint = (model: EvalRecord['model'], seed: number, step: number, dir: string) =>
      stage(`eval:${model}-s${seed}@${step}`, async () => {
        let lastLog = 0;
        const scored = await scoreCheckpoint(suite, dir, {
          name: `${model} s${seed} step ${step}`,
          batchSize: o.evalBatchSize,
          meta: { step, seed },
          onBatch: (done, total) => {
            if (Date.now() - lastLog > 30_000) {
              lastLog = Date.now();
              log(`  embedded ${done}/${total} texts`);
            }
          },
        });
        const { check, forwardSeconds } = scored;
        const records: EvalRecord[] = [];
        for (const { pooling, result, scoreSeconds } of scored.poolings) {
          writeFileSync(join(evalDir, `${model}-s${seed}-step${step}-${pooling}.json`), toJSON([result]));
          records.push({ model, seed, step, pooling, limit: o.limit ?? null, scores: scoresOf(result), forwardSeconds, scoreSeconds, texts: scored.texts });
        }
        log(`  ${model} s${seed}@${step}: ${records.map((r) => `${r.pooling} nDCG@10 ${r.scores['retrieval.ndcg10']?.toFixed(1)} MAP ${r.scores['reranking.map']?.toFixed(1)} STS ${r.scores['sts.spearman']?.toFixed(1)}`).join(' | ')} (1-cos vs encode: ${check.cls.toExponential(1)}/${check.mean.toExponential(1)})`);
        return { records, check };
      });

    for (const seed of seeds) {
      if (o.only.includes('init')) {
        const initDir = join(o.out, 'runs', `init-s${seed}`);
        await stage(`init-s${seed}`, async () => {
          // The exact construction `retro pretrain` uses (packages/cli/src/pipelines/pretrain.ts), so
          // this is the starting point of both runs: the encoder init depends on the seed only.
          const tokenizer = await AutoTokenizer.fromPretrained(tokenizerDir);
          const config = modelConfigFile ? loadConfig(modelConfigFile) : encoderConfig(o, tokenizer);
          const model = RetroMAEForPretraining.fromConfig(config, { seed, mlmOnly: true });
          model.savePretrained(initDir);
          for (const file of readdirSync(tokenizerDir)) copyFileSync(join(tokenizerDir, file), join(initDir, file));
          return { dir: initDir };
        });
        await evalCheckpoint('init', seed, 0, initDir);
      }
      for (const kind of TRAINED_KINDS) {
        if (!o.only.includes(kind)) continue;
        const plan = planOf(o, kind, seed);
        if (plan.initFrom && !existsSync(join(plan.initFrom, 'config.json'))) {
          throw new Error(`run.ts: ${kind}-s${seed} continues ${plan.initFrom}, which holds no checkpoint yet: train the base first (--only mlm, ${o.steps} steps) or pass --from-checkpoint DIR`);
        }
        // an outside base is scored as this experiment's own would be: as the MLM run at --steps
        if (plan.initFrom && o.fromCheckpoint) await evalCheckpoint('mlm', seed, o.steps, o.fromCheckpoint);
        const runDir = join(o.out, 'runs', `${kind}-s${seed}`);
        const name = `pretrain:${kind}-s${seed}`;
        if (!state.done(name)) {
          const args = pretrainArgs(o, plan, seed, shards, tokenizerDir, runDir, modelConfigFile);
          const holder = state.liveClaimsOfOthers().find((c) => c.startsWith(`${name} `));
          if (holder) {
            log(`${name}: another invocation is training it (${holder}); skipping it and its evaluations here`);
            continue;
          }
          state.claim(name);
          for (;;) {
            const done = completedStep(runDir);
            if (done >= plan.steps) break;
            for (const s of o.evalAt) if (s === done) await evalCheckpoint(kind, seed, s, join(runDir, `checkpoint-${s}`));
            if (budget.expired()) throw new BudgetSpent(name);
            let end = Math.min(plan.steps, (Math.floor(done / o.segmentSteps) + 1) * o.segmentSteps, ...o.evalAt.filter((s) => s > done));
            const sps = summarizeTraining(kind, seed, readMetrics(join(runDir, 'metrics.jsonl')))?.secondsPerStep;
            if (sps && Number.isFinite(sps)) {
              // keep ~20 s for loading, resuming and the checkpoint write
              const affordable = Math.floor((budget.left() - 20) / sps);
              if (affordable < 1) throw new BudgetSpent(name);
              end = Math.min(end, done + affordable);
            } else if (Number.isFinite(budget.left())) {
              // no step time measured yet: a short first segment measures it before a long one is risked
              end = Math.min(end, done + 10);
            }
            const t0 = Date.now();
            await runRetro([...args, ...(end < plan.steps ? ['--stop-at-step', `${end}`] : [])]);
            const total = state.addPartialSeconds(name, (Date.now() - t0) / 1000);
            log(`  ${kind} s${seed}: step ${completedStep(runDir)}/${plan.steps}, ${(total / 60).toFixed(1)} min so far`);
          }
          for (const s of o.evalAt) if (s === completedStep(runDir)) await evalCheckpoint(kind, seed, s, join(runDir, `checkpoint-${s}`));
          const metrics = readMetrics(join(runDir, 'metrics.jsonl'));
          state.finish(name, new Date(), summarizeTraining(kind, seed, metrics), state.data.partialSeconds[name]);
        }
        await evalCheckpoint(kind, seed, plan.steps, join(runDir, `checkpoint-${plan.steps}`));
      }
    }
    if (o.only.includes('mlm') && o.only.includes('retromae')) {
      // Timing needs the machine to itself: with another invocation training, leave it for later.
      const others = state.liveClaimsOfOthers();
      if (others.length > 0) log(`step-cost: deferred while ${others.join(', ')} run(s); rerun the command when they are done`);
      else {
        await stage('step-cost', async () =>
          measureStepCost(join(o.out, 'step-cost'), runRetro, (kind, runDir, total) =>
            pretrainArgs({ ...o, segmentSteps: total, logEvery: 5 }, { objective: kind, steps: total }, o.firstSeed, shards, tokenizerDir, runDir, modelConfigFile),
          ),
        );
      }
    }
  } catch (error) {
    if (!(error instanceof BudgetSpent)) throw error;
    log(`${error.message} (used ${(budget.usedSeconds() / 60).toFixed(1)} min)`);
  } finally {
    state.releaseAll();
    writeReport(o, state, seeds);
  }
}

/** The report covers every seed the experiment has results for, not just this invocation's. */
function writeReport(o: ExperimentOptions, state: ExperimentState, invocationSeeds: number[]): void {
  const recordedSeeds = Object.keys(state.data.stages).flatMap((name) => /-s(\d+)(@|$)/.exec(name)?.[1] ?? []).map(Number);
  const seeds = [...new Set([...recordedSeeds, ...invocationSeeds])].sort((a, b) => a - b);
  const evals = Object.entries(state.data.stages)
    .filter(([name]) => name.startsWith('eval:'))
    .flatMap(([, rec]) => (rec.result as { records: EvalRecord[] }).records);
  const finals = evals.filter((r) => r.model === 'init' || r.step === (r.model.startsWith('cont-') ? o.continueSteps : o.steps));
  const runs = seeds.flatMap((seed) =>
    TRAINED_KINDS.map((model) => ({ model, seed, lines: readMetrics(join(o.out, 'runs', `${model}-s${seed}`, 'metrics.jsonl')) })),
  ).filter((r) => r.lines.length > 0);
  const training = runs.map((r) => summarizeTraining(r.model, r.seed, r.lines)!);
  const bm25 = state.done('bm25')?.result as Partial<Record<MetricKey, number>> | undefined;
  const reportDir = join(o.out, 'report');
  mkdirSync(reportDir, { recursive: true });
  const stageTimes = Object.fromEntries(Object.entries(state.data.stages).map(([k, v]) => [k, Math.round(v.seconds * 10) / 10]));
  const results = {
    settings: state.data.settings,
    complete: finals.length > 0 && seeds.every((s) => o.only.every((m) => finals.some((r) => r.model === m && r.seed === s))),
    versions: versions(),
    invocations: state.data.invocations,
    data: {
      vocabCompare: state.done('vocab-compare')?.result,
      tokenizer: state.done('tokenizer')?.result,
      prepare: state.done('prepare')?.result,
      splitCheck: state.done('split-check')?.result,
    },
    training,
    bm25,
    evals,
    stageSeconds: stageTimes,
    pretrainSecondsSoFar: state.data.partialSeconds,
  };
  writeFileSync(join(reportDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const trained = training.map((t) => `${t.model} s${t.seed} ${t.steps}/${t.model.startsWith('cont-') ? o.continueSteps : o.steps} steps`).join(', ') || 'nothing';
  const evaluated = [...new Set(finals.map((r) => `${r.model} s${r.seed}`))].join(', ') || 'nothing';
  const status = `${results.complete ? 'complete' : 'INCOMPLETE (rerun the command to continue)'} — trained: ${trained}; evaluated at the final step: ${evaluated}.`;
  const stepTable = `\n### Scores by training step\n\nEvery evaluated checkpoint (step 0 = the untrained initialisation of that seed).\n\n${stepTableMarkdown(evals, bm25)}`;
  const stepCost = state.done('step-cost')?.result as StepCost | undefined;
  writeFileSync(join(reportDir, 'results.md'), resultsMarkdown({ finals, bm25, training, steps: o.steps, limit: o.limit ?? null, seeds, status, stepCost, encoder: o.encoder }) + stepTable);
  const scratchRuns = runs.filter((r) => !r.model.startsWith('cont-'));
  const continuedRuns = runs.filter((r) => r.model.startsWith('cont-'));
  if (scratchRuns.length) writeFileSync(join(reportDir, 'loss.svg'), lossPlot(scratchRuns, `${scratchRuns.some((r) => r.model === 'retromae') ? 'MLM vs RetroMAE loss' : 'MLM loss'} (${o.encoder}, H=256, 4 layers, batch ${o.batchSize}, ${o.steps} steps)`));
  if (evals.length) writeFileSync(join(reportDir, 'metrics.svg'), metricPlot(evals, 'cmteb-lite main scores vs training step'));
  if (continuedRuns.length) {
    writeFileSync(join(reportDir, 'continued-loss.svg'), lossPlot(continuedRuns, `Continued pretraining of the MLM base (${o.encoder}, ${o.continueSteps} steps from step ${o.steps})`));
    const experiment: ContinuedExperiment = { encoder: o.encoder, baseSteps: o.steps, continueSteps: o.continueSteps, evals, bm25 };
    if (plottedSeeds(experiment).length) writeFileSync(join(reportDir, 'continued.svg'), continuedPlot(experiment));
    writeFileSync(join(reportDir, 'continued.md'), continuedMarkdown(experiment, status, o.limit ?? null, o.fromCheckpoint));
  }
  log(`report: ${reportDir}`);
  if (o.publish) {
    mkdirSync(o.publish, { recursive: true });
    cpSync(reportDir, o.publish, { recursive: true });
    log(`published to ${o.publish}`);
  }
}

/** continued.md: the seed's table for this backbone, PyTorch beside it (BERT), passing steps, claims. */
function continuedMarkdown(x: ContinuedExperiment, status: string, limit: number | null, fromCheckpoint?: string): string {
  const parts = [
    `**Status:** ${status}`,
    '',
    `Continued pretraining (${x.encoder}): the MLM base ${fromCheckpoint ? `\`${fromCheckpoint}\`` : `after ${x.baseSteps} steps`}, then ${x.continueSteps} more steps of RetroMAE (encoder 30 %, M 50 %, whole words) or of MLM (the control), same seed, data order and hyper-parameters. Zero-shot on cmteb-lite, ×100; average = mean of retrieval nDCG@10, reranking MAP and STS Spearman.`,
    '',
    '### CLS pooling',
    '',
    seedTableMarkdown([x], 'cls'),
    '### Mean pooling',
    '',
    seedTableMarkdown([x], 'mean'),
  ];
  if (x.encoder === 'bert') {
    const comparable = x.baseSteps === PYTORCH_CONTINUED.baseSteps && x.continueSteps === PYTORCH_CONTINUED.continueSteps && limit === null;
    parts.push('### Beside the PyTorch run of this shape (CLS)', '');
    if (!comparable) parts.push(`**Not comparable:** the PyTorch run is ${PYTORCH_CONTINUED.baseSteps} + ${PYTORCH_CONTINUED.continueSteps} steps on the full suite; this is ${x.baseSteps} + ${x.continueSteps} steps${limit === null ? '' : ` with --limit ${limit}`}.`, '');
    parts.push(pytorchComparisonMarkdown(x));
  }
  parts.push('### When RetroMAE passes its base and the control', '', passingStepsMarkdown(x), '### The seed\'s claims at this scale', '', claimsMarkdown([x]));
  return `${parts.join('\n')}\n`;
}

const argv = process.argv.slice(2);
let options: ExperimentOptions | undefined;
try {
  options = parseOptions(argv);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
if (options) {
  run(options, argv).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
