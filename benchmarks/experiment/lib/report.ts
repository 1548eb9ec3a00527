/**
 * What the experiment leaves behind: results.json, results.md (ours beside PyTorch's), loss.svg
 * (MLM vs RetroMAE losses per step) and metrics.svg (main scores vs training step).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseMetrics, renderLinePlot, type MetricsRecord, type PlotSeries } from '@retro/train';
import { METRIC_LABELS, PYTORCH_REFERENCE, type MetricKey, type ModelName } from './reference.js';

export interface EvalRecord {
  model: ModelName;
  seed: number;
  step: number;
  pooling: 'cls' | 'mean';
  limit: number | null;
  scores: Partial<Record<MetricKey, number>>;
  /** Seconds of the shared forward pass (both poolings) and of scoring this pooling. */
  forwardSeconds: number;
  scoreSeconds: number;
  texts: number;
}

/** One metrics.jsonl line, as @retro/train writes it. */
export type MetricsLine = MetricsRecord;

export function readMetrics(file: string): MetricsLine[] {
  if (!existsSync(file)) return [];
  return parseMetrics(readFileSync(file, 'utf8'), file);
}

/** Display names of the runs. */
export const MODEL_NAMES: Record<ModelName, string> = { init: 'init', mlm: 'MLM', retromae: 'RetroMAE', 'cont-mlm': 'MLM continued', 'cont-retromae': 'RetroMAE continued' };

export type TrainedModel = Exclude<ModelName, 'init'>;

export interface TrainingSummary {
  model: TrainedModel;
  seed: number;
  steps: number;
  /** Mean of the logged losses over the last `window` steps (each line averages its own steps). */
  finalLoss: number;
  finalEncoderLoss?: number;
  finalDecoderLoss?: number;
  window: number;
  /** Median over metrics windows (the first excluded: warm-up), seconds per optimizer step. */
  secondsPerStep: number;
  tokensPerSecond: number;
  /** Trainer's elapsed seconds at the last line (across resumes). */
  trainSeconds: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Final losses and step time of one run from its metrics.jsonl. */
export function summarizeTraining(model: TrainedModel, seed: number, lines: MetricsLine[], window = 50): TrainingSummary | undefined {
  if (lines.length === 0) return undefined;
  const last = lines[lines.length - 1]!;
  const tail = lines.filter((l) => l.step > last.step - window);
  const avg = (key: 'loss' | 'encoderLoss' | 'decoderLoss') => {
    const v = tail.map((l) => l[key]).filter((x): x is number => typeof x === 'number');
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  };
  const perStep: number[] = [];
  const tps: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const ds = lines[i]!.step - lines[i - 1]!.step;
    const dt = lines[i]!.elapsed - lines[i - 1]!.elapsed;
    if (ds > 0 && dt > 0) perStep.push(dt / ds);
    tps.push(lines[i]!.tokensPerSecond);
  }
  return {
    model,
    seed,
    steps: last.step,
    finalLoss: avg('loss')!,
    finalEncoderLoss: avg('encoderLoss'),
    finalDecoderLoss: avg('decoderLoss'),
    window: Math.min(window, last.step),
    secondsPerStep: median(perStep),
    tokensPerSecond: median(tps),
    trainSeconds: last.elapsed,
  };
}

/** Loss curves: MLM loss, RetroMAE encoder and decoder loss (and total), per seed. */
export function lossPlot(runs: Array<{ model: TrainedModel; seed: number; lines: MetricsLine[] }>, title: string): string {
  const series: PlotSeries[] = [];
  for (const r of runs) {
    const tag = runs.filter((x) => x.model === r.model).length > 1 ? ` s${r.seed}` : '';
    const name = MODEL_NAMES[r.model];
    if (r.model.endsWith('mlm')) series.push({ name: `${name} loss${tag}`, points: r.lines.map((l) => [l.step, l.loss]) });
    else {
      series.push({ name: `${name} encoder loss${tag}`, points: r.lines.map((l) => [l.step, l.encoderLoss ?? NaN]) });
      series.push({ name: `${name} decoder loss${tag}`, points: r.lines.map((l) => [l.step, l.decoderLoss ?? NaN]) });
    }
  }
  // Under the plot: losses start high on the left, where a boxed top-right legend would cover the decoder's.
  return renderLinePlot(series, { title, xLabel: 'optimizer step', yLabel: 'cross-entropy (nats)', legend: 'below' });
}

/** The seed with the most evaluated steps (ties: the lowest), whose curves metricPlot draws. */
export function mostEvaluatedSeed(records: EvalRecord[]): number | undefined {
  const steps = new Map<number, Set<number>>();
  for (const r of records) steps.set(r.seed, (steps.get(r.seed) ?? new Set()).add(r.step));
  return [...steps].sort((a, b) => b[1].size - a[1].size || a[0] - b[0])[0]?.[0];
}

/**
 * Main scores (CLS pooling) vs training step for one seed (step 0 = its initialisation, shared by
 * both objectives): lines of one seed, not averages of seeds evaluated at different steps.
 */
export function metricPlot(records: EvalRecord[], title: string, seed = mostEvaluatedSeed(records)): string {
  const series: PlotSeries[] = [];
  const keys: MetricKey[] = ['retrieval.ndcg10', 'reranking.map', 'sts.spearman'];
  for (const model of ['mlm', 'retromae'] as const) {
    for (const key of keys) {
      const points = records
        .filter((r) => r.seed === seed && r.pooling === 'cls' && (r.model === model || r.model === 'init') && Number.isFinite(r.scores[key]))
        .map((r) => [r.step, r.scores[key]!] as [number, number])
        .sort((a, b) => a[0] - b[0]);
      if (points.length > 1) series.push({ name: `${model === 'mlm' ? 'MLM' : 'RetroMAE'} ${METRIC_LABELS[key]}`, points });
    }
  }
  return renderLinePlot(series, { title: `${title} (seed ${seed})`, xLabel: 'optimizer step (0 = initialisation)', yLabel: 'score x100 (CLS pooling)' });
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function meanOf(values: number[]): number | undefined {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** Sample standard deviation (n - 1); undefined below two values. */
export function sampleSd(values: number[]): number | undefined {
  if (values.length < 2) return undefined;
  const m = meanOf(values)!;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** "mean" for one value, "mean ± sd" for several (sd over seeds). */
function meanSd(values: number[]): string {
  const sd = sampleSd(values);
  return sd === undefined ? fmt(meanOf(values)) : `${fmt(meanOf(values))} ± ${fmt(sd)}`;
}

/** results.md: ours vs PyTorch per model and pooling, BM25, final losses, step time. */
export function resultsMarkdown(input: {
  finals: EvalRecord[];
  bm25?: Partial<Record<MetricKey, number>>;
  training: TrainingSummary[];
  steps: number;
  limit: number | null;
  seeds: number[];
  /** One line saying what is finished, e.g. for a run stopped by --time-budget. */
  status?: string;
  /** The step-cost stage's measurement (both objectives alternating, machine to itself). */
  stepCost?: { mlmSecondsPerStep: number; retromaeSecondsPerStep: number; ratio: number };
  /** The PyTorch reference is a BERT run: RoBERTa runs show no PT numbers. Default 'bert'. */
  encoder?: 'bert' | 'roberta';
}): string {
  const out: string[] = [];
  const reference = (input.encoder ?? 'bert') === 'bert' ? PYTORCH_REFERENCE : null;
  if (input.status) out.push(`**Status:** ${input.status}`, '');
  const models: ModelName[] = ['init', 'mlm', 'retromae'];
  const names = MODEL_NAMES;
  const seedsOf = (m: ModelName) => [...new Set(input.finals.filter((r) => r.model === m).map((r) => r.seed))];
  const seedNote =
    input.seeds.length > 1
      ? ` (seeds ${input.seeds.join(', ')}; mean ± sample sd over the seeds each model has, n = ${models.map((m) => `${names[m]} ${seedsOf(m).length}`).join(', ')})`
      : ` (seed ${input.seeds[0]})`;
  out.push(`Zero-shot on cmteb-lite, ×100, after ${input.steps} steps${seedNote}.` + (input.limit ? ` **Eval subset: --limit ${input.limit} — not comparable to the PyTorch numbers.**` : '') +
      (reference && input.steps !== reference.steps ? ` **The PT columns are the reference's ${reference.steps}-step run, beside ${input.steps} steps here.**` : ''));
  out.push(
    reference
      ? '"ours" = this repository (TypeScript, @retro/*); "PT" = the PyTorch reference run; – = not reported.'
      : '"ours" = this repository (TypeScript, @retro/*); "PT" stays empty: the PyTorch reference run is a BERT, and none exists for RoBERTa; – = not reported.',
  );
  out.push('');
  for (const pooling of ['cls', 'mean'] as const) {
    out.push(`### ${pooling === 'cls' ? 'CLS' : 'Mean'} pooling`);
    out.push('');
    out.push(`| metric | ${models.map((m) => `${names[m]} ours | ${names[m]} PT`).join(' | ')} | BM25 ours | BM25 PT |`);
    out.push(`|---|${models.map(() => '---:|---:').join('|')}|---:|---:|`);
    for (const key of Object.keys(METRIC_LABELS) as MetricKey[]) {
      const cells = models.map((m) => {
        const ours = input.finals.filter((r) => r.model === m && r.pooling === pooling && Number.isFinite(r.scores[key])).map((r) => r.scores[key]!);
        return `${ours.length ? meanSd(ours) : '–'} | ${fmt(reference?.[pooling][key]?.[m])}`;
      });
      out.push(`| ${METRIC_LABELS[key]} | ${cells.join(' | ')} | ${fmt(input.bm25?.[key])} | ${fmt(PYTORCH_REFERENCE.bm25[key])} |`);
    }
    out.push('');
  }
  out.push('### Training');
  out.push('');
  out.push(`| run | final loss ours | PT | encoder ours | PT | decoder ours | PT | s/step | tokens/s | train time |`);
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of input.training) {
    const pt =
      !reference ? [undefined, undefined, undefined]
      : t.model === 'mlm' ? [reference.finalLoss.mlm, undefined, undefined]
      : t.model === 'retromae' ? [undefined, reference.finalLoss.retromaeEncoder, reference.finalLoss.retromaeDecoder]
      : [undefined, undefined, undefined];
    out.push(
      `| ${MODEL_NAMES[t.model]} s${t.seed} (${t.steps} steps) | ${fmt(t.finalLoss, 2)} | ${fmt(pt[0], 2)} | ${fmt(t.finalEncoderLoss, 2)} | ${fmt(pt[1], 2)} | ${fmt(t.finalDecoderLoss, 2)} | ${fmt(pt[2], 2)} | ${fmt(t.secondsPerStep, 2)} | ${fmt(t.tokensPerSecond, 0)} | ${fmt(t.trainSeconds / 60, 1)} min |`,
    );
  }
  out.push('');
  out.push(
    `Final loss = mean of the logged losses over the last ${input.training[0]?.window ?? 50} steps. RetroMAE "final loss" is encoder + decoder. ` +
      `s/step and tokens/s are wall-clock medians over metrics windows (first window excluded); runs that shared the two cores with another run (see the README's run log) show that, not a step cost.`,
  );
  const c = input.stepCost;
  if (c) {
    out.push(
      `Step cost on these batches, both objectives alternating in one sitting with the machine to itself (step-cost stage): MLM ${c.mlmSecondsPerStep.toFixed(2)} s, RetroMAE ${c.retromaeSecondsPerStep.toFixed(2)} s, ` +
        `RetroMAE / MLM **${c.ratio.toFixed(2)}×** (PyTorch: ~${PYTORCH_REFERENCE.stepCostRatio}×).`,
    );
  } else out.push('Step cost ratio: not measured yet (the step-cost stage runs once no other invocation is training).');
  return `${out.join('\n')}\n`;
}

/**
 * Scores at every evaluated step (step 0 = the initialisation, shared by both objectives), one row
 * per model, seed and step, CLS and mean pooling side by side: where training passes the untrained
 * encoder, and how the two objectives compare along the way.
 */
export function stepTableMarkdown(records: EvalRecord[], bm25?: Partial<Record<MetricKey, number>>): string {
  const keys: MetricKey[] = ['retrieval.ndcg10', 'reranking.map', 'sts.spearman'];
  const rows = new Map<string, { model: ModelName; seed: number; step: number; cls?: EvalRecord; mean?: EvalRecord }>();
  for (const r of records) {
    const id = `${r.model}|${r.seed}|${r.step}`;
    const row = rows.get(id) ?? { model: r.model, seed: r.seed, step: r.step };
    row[r.pooling] = r;
    rows.set(id, row);
  }
  const order: Record<ModelName, number> = { init: 0, mlm: 1, retromae: 2, 'cont-mlm': 3, 'cont-retromae': 4 };
  const sorted = [...rows.values()].sort((a, b) => a.seed - b.seed || order[a.model] - order[b.model] || a.step - b.step);
  const out: string[] = [];
  out.push(`| model | seed | step | ${keys.map((k) => `${METRIC_LABELS[k]} CLS`).join(' | ')} | ${keys.map((k) => `${METRIC_LABELS[k]} mean`).join(' | ')} |`);
  out.push(`|---|---:|---:|${keys.map(() => '---:').join('|')}|${keys.map(() => '---:').join('|')}|`);
  for (const r of sorted) {
    const cells = (rec?: EvalRecord) => keys.map((k) => fmt(rec?.scores[k]));
    out.push(`| ${r.model} | ${r.seed} | ${r.step} | ${cells(r.cls).join(' | ')} | ${cells(r.mean).join(' | ')} |`);
  }
  if (bm25) out.push(`| BM25 | – | – | ${keys.map((k) => fmt(bm25[k])).join(' | ')} | ${keys.map((k) => fmt(bm25[k])).join(' | ')} |`);
  return `${out.join('\n')}\n`;
}
