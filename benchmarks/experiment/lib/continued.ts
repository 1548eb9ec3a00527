/**
 * The seed's shape of the experiment: an MLM-pretrained base, continued with RetroMAE and, as the
 * control, with more MLM. Tables in the layout of the seed's table (average, retrieval,
 * reranking, plus STS), the step at which RetroMAE's continuation passes its base and the
 * control, and the score-by-step plot of both continuations.
 */
import { renderLinePlot, type PlotSeries } from '@retro/train';
import { METRIC_LABELS, PYTORCH_CONTINUED, SEED_TABLE, type MetricKey } from './reference.js';
import { sampleSd, type EvalRecord } from './report.js';

/** The three scores the seed's "average" is taken over (x100). */
export const SEED_METRICS: readonly MetricKey[] = ['retrieval.ndcg10', 'reranking.map', 'sts.spearman'];

/** One experiment folder's results, as run.ts writes them to report/results.json. */
export interface ContinuedExperiment {
  encoder: 'bert' | 'roberta';
  baseSteps: number;
  continueSteps: number;
  evals: EvalRecord[];
  bm25?: Partial<Record<MetricKey, number>>;
}

type Row = 'base' | 'cont-mlm' | 'cont-retromae';
const ROW_LABEL: Record<Row, string> = { base: 'base (MLM from scratch)', 'cont-mlm': '+ MLM continued (control)', 'cont-retromae': '+ RetroMAE continued' };
const ROWS: readonly Row[] = ['base', 'cont-mlm', 'cont-retromae'];

/** The final evaluation of `row` per seed: the base is the MLM run at its last step. */
function finals(x: ContinuedExperiment, row: Row, pooling: 'cls' | 'mean'): EvalRecord[] {
  return x.evals.filter((r) =>
    r.pooling === pooling && (row === 'base' ? r.model === 'mlm' && r.step === x.baseSteps : r.model === row && r.step === x.continueSteps),
  );
}

/** Seeds that have all three rows evaluated: only those are compared. */
function completeSeeds(x: ContinuedExperiment): number[] {
  const seedsOf = (row: Row) => new Set(finals(x, row, 'cls').map((r) => r.seed));
  const [a, b, c] = ROWS.map(seedsOf);
  return [...a!].filter((s) => b!.has(s) && c!.has(s)).sort((p, q) => p - q);
}

function average(scores: Partial<Record<MetricKey, number>>): number | undefined {
  const v = SEED_METRICS.map((k) => scores[k]);
  return v.every((x): x is number => typeof x === 'number' && Number.isFinite(x)) ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));

function meanSd(values: number[]): string {
  if (values.length === 0) return '–';
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = sampleSd(values);
  return sd === undefined ? fmt(mean) : `${fmt(mean)} ± ${fmt(sd)}`;
}

/**
 * The seed's table for any number of experiments (one per backbone): rows base / + MLM / +
 * RetroMAE, columns average, retrieval nDCG@10, reranking MAP, STS Spearman; mean ± sample sd
 * over the seeds evaluated (n in the row label).
 */
export function seedTableMarkdown(experiments: ContinuedExperiment[], pooling: 'cls' | 'mean'): string {
  const out: string[] = [];
  out.push(`| model | n seeds | average | ${SEED_METRICS.map((k) => METRIC_LABELS[k]).join(' | ')} |`);
  out.push(`|---|---:|---:|${SEED_METRICS.map(() => '---:').join('|')}|`);
  for (const x of experiments) {
    for (const row of ROWS) {
      const recs = finals(x, row, pooling);
      const avg = recs.map((r) => average(r.scores)).filter((v): v is number => v !== undefined);
      const cells = SEED_METRICS.map((k) => meanSd(recs.map((r) => r.scores[k]).filter((v): v is number => Number.isFinite(v))));
      const steps = row === 'base' ? `${x.baseSteps} steps` : `${x.continueSteps} more`;
      out.push(`| ${x.encoder} ${ROW_LABEL[row]}, ${steps} | ${new Set(recs.map((r) => r.seed)).size} | ${meanSd(avg)} | ${cells.join(' | ')} |`);
    }
  }
  const bm25 = experiments.find((x) => x.bm25)?.bm25;
  if (bm25) out.push(`| BM25 (chars + bigrams) | – | ${fmt(average(bm25))} | ${SEED_METRICS.map((k) => fmt(bm25[k])).join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

/** The PyTorch run of this shape (BERT, CLS pooling) beside ours, per row. */
export function pytorchComparisonMarkdown(x: ContinuedExperiment): string {
  const out: string[] = [];
  const ptRow: Record<Row, 'base' | 'mlm' | 'retromae'> = { base: 'base', 'cont-mlm': 'mlm', 'cont-retromae': 'retromae' };
  out.push(`| CLS pooling | ${ROWS.map((r) => `${ROW_LABEL[r]} ours | PT`).join(' | ')} |`);
  out.push(`|---|${ROWS.map(() => '---:|---:').join('|')}|`);
  for (const k of SEED_METRICS) {
    const cells = ROWS.map((row) => {
      const ours = finals(x, row, 'cls').map((r) => r.scores[k]).filter((v): v is number => Number.isFinite(v));
      return `${meanSd(ours)} | ${fmt(PYTORCH_CONTINUED.cls[k]?.[ptRow[row]])}`;
    });
    out.push(`| ${METRIC_LABELS[k]} | ${cells.join(' | ')} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Score of `model` at `step` (CLS pooling) for one seed; step 0 of a continuation is its base. */
function scoreAt(x: ContinuedExperiment, model: 'cont-mlm' | 'cont-retromae', seed: number, step: number, key: MetricKey): number | undefined {
  const rec = step === 0
    ? x.evals.find((r) => r.model === 'mlm' && r.step === x.baseSteps && r.seed === seed && r.pooling === 'cls')
    : x.evals.find((r) => r.model === model && r.step === step && r.seed === seed && r.pooling === 'cls');
  const v = rec?.scores[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Per seed and metric: the first evaluated continuation step at which RetroMAE's continuation
 * scores above its base, and above the MLM control at the same step ("never" within the steps
 * evaluated, "–" where a score is missing).
 */
export function passingStepsMarkdown(x: ContinuedExperiment): string {
  const out: string[] = [];
  out.push('| seed | metric | RetroMAE passes the base at step | RetroMAE passes the MLM control at step | evaluated steps |');
  out.push('|---:|---|---:|---:|---|');
  const seeds = [...new Set(x.evals.filter((r) => r.model === 'cont-retromae').map((r) => r.seed))].sort((a, b) => a - b);
  for (const seed of seeds) {
    const steps = [...new Set(x.evals.filter((r) => r.model === 'cont-retromae' && r.seed === seed).map((r) => r.step))].sort((a, b) => a - b);
    for (const k of SEED_METRICS) {
      const base = scoreAt(x, 'cont-retromae', seed, 0, k);
      let passBase: string = base === undefined ? '–' : 'never';
      let passControl = 'never';
      for (const s of steps) {
        const r = scoreAt(x, 'cont-retromae', seed, s, k);
        const m = scoreAt(x, 'cont-mlm', seed, s, k);
        if (r === undefined) continue;
        if (passBase === 'never' && base !== undefined && r > base) passBase = `${s}`;
        if (passControl === 'never' && m !== undefined && r > m) passControl = `${s}`;
        if (m === undefined && passControl === 'never') passControl = '–';
      }
      out.push(`| ${seed} | ${METRIC_LABELS[k]} | ${passBase} | ${passControl} | ${steps.join(', ')} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The seed's claims at this scale, each answered from the complete seeds only: (1) RetroMAE's
 * continuation improves on its base in retrieval and reranking, on every seed; (2) by more than
 * the MLM control does; (3) BERT gains more than RoBERTa, and ends above it (needs both experiments).
 */
export function claimsMarkdown(experiments: ContinuedExperiment[]): string {
  const out: string[] = [];
  const gain = (x: ContinuedExperiment, row: 'cont-mlm' | 'cont-retromae', key: MetricKey) =>
    completeSeeds(x).map((seed) => {
      const base = finals(x, 'base', 'cls').find((r) => r.seed === seed)!.scores[key]!;
      return finals(x, row, 'cls').find((r) => r.seed === seed)!.scores[key]! - base;
    });
  const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (const x of experiments) {
    const seeds = completeSeeds(x);
    if (seeds.length === 0) {
      out.push(`- ${x.encoder}: no seed has the base and both continuations evaluated yet; nothing can be claimed.`);
      continue;
    }
    for (const key of ['retrieval.ndcg10', 'reranking.map'] as const) {
      const r = gain(x, 'cont-retromae', key);
      const m = gain(x, 'cont-mlm', key);
      const improves = r.every((g) => g > 0);
      const beatsControl = r.every((g, i) => g > m[i]!);
      out.push(
        `- ${x.encoder}, ${METRIC_LABELS[key]} (CLS, seeds ${seeds.join(', ')}): RetroMAE continuation ${r.map((g) => (g >= 0 ? '+' : '') + g.toFixed(1)).join(' / ')} over the base, ` +
          `MLM control ${m.map((g) => (g >= 0 ? '+' : '') + g.toFixed(1)).join(' / ')}: ` +
          `improves the base on every seed: **${improves ? 'yes' : 'no'}**; more than the control on every seed: **${beatsControl ? 'yes' : 'no'}**.`,
      );
    }
  }
  const bert = experiments.find((x) => x.encoder === 'bert');
  const roberta = experiments.find((x) => x.encoder === 'roberta');
  if (bert && roberta && completeSeeds(bert).length && completeSeeds(roberta).length) {
    const b = meanOf(gain(bert, 'cont-retromae', 'retrieval.ndcg10'));
    const r = meanOf(gain(roberta, 'cont-retromae', 'retrieval.ndcg10'));
    out.push(`- BERT gains more than RoBERTa from RetroMAE on retrieval (mean over seeds): BERT ${b.toFixed(1)} vs RoBERTa ${r.toFixed(1)}: **${b > r ? 'yes' : 'no'}**.`);
    // The seed's table lists no RoBERTa base, so what it shows is where each backbone ends.
    const final = (x: ContinuedExperiment, key: MetricKey) =>
      meanOf(completeSeeds(x).map((seed) => finals(x, 'cont-retromae', 'cls').find((row) => row.seed === seed)!.scores[key]!));
    for (const key of ['retrieval.ndcg10', 'reranking.map'] as const) {
      const fb = final(bert, key);
      const fr = final(roberta, key);
      out.push(
        `- BERT + RetroMAE ends above RoBERTa + RetroMAE on ${METRIC_LABELS[key]} (the comparison the seed's table makes; it lists no RoBERTa base): ` +
          `BERT ${fb.toFixed(1)} vs RoBERTa ${fr.toFixed(1)}: **${fb > fr ? 'yes' : 'no'}**.`,
      );
    }
  } else out.push('- BERT vs RoBERTa gains: needs both backbones with complete seeds; `docs/experiment/continued/seed-table.md` pools the backbones.');
  return `${out.join('\n')}\n`;
}

/** The seed's own numbers, for the layout and as the claims' source. */
export function seedReferenceMarkdown(): string {
  const out = ['| model (paper, C-MTEB) | average | retrieval | reranking |', '|---|---:|---:|---:|'];
  for (const r of SEED_TABLE) out.push(`| ${r.model} | ${r.average.toFixed(2)} | ${r.retrieval.toFixed(2)} | ${r.reranking.toFixed(2)} |`);
  return `${out.join('\n')}\n`;
}

/**
 * CLS scores of both continuations vs continuation step (0 = the base): the mean over `seeds`
 * (default {@link plottedSeeds}), at the steps every one of them was scored.
 * The legend sits under the plot: the lines climb into the top right, where a boxed legend would sit.
 */
export function continuedPlot(x: ContinuedExperiment, seeds = plottedSeeds(x)): string {
  const series: PlotSeries[] = [];
  for (const model of ['cont-mlm', 'cont-retromae'] as const) {
    const steps = [0, ...new Set(x.evals.filter((r) => r.model === model && seeds.includes(r.seed)).map((r) => r.step))].sort((a, b) => a - b);
    for (const key of SEED_METRICS) {
      const points = steps.flatMap((step) => {
        const values = seeds.map((seed) => scoreAt(x, model, seed, step, key));
        if (values.length === 0 || values.some((v) => v === undefined)) return [];
        return [[step, (values as number[]).reduce((a, b) => a + b, 0) / values.length] as [number, number]];
      });
      if (points.length > 1) series.push({ name: `${model === 'cont-mlm' ? 'MLM' : 'RetroMAE'} continued, ${METRIC_LABELS[key]}`, points });
    }
  }
  const which = seeds.length === 1 ? `seed ${seeds[0]}` : `mean of seeds ${seeds.join(', ')}`;
  return renderLinePlot(series, {
    title: `${x.encoder}: continued pretraining of the MLM base (${which})`,
    xLabel: 'continued steps (0 = the MLM base)',
    yLabel: 'score x100 (CLS pooling)',
    legend: 'below',
  });
}

/**
 * The seeds whose two continuations were both scored at their last step, ascending; while none
 * is, every seed with a scored RetroMAE continuation (a run in progress still gets its curve, and
 * a seed still training does not shorten the finished seeds' curves).
 */
export function plottedSeeds(x: ContinuedExperiment): number[] {
  const scoredAt = (model: 'cont-mlm' | 'cont-retromae', step?: number) =>
    new Set(x.evals.filter((r) => r.model === model && r.pooling === 'cls' && (step === undefined || r.step === step)).map((r) => r.seed));
  const mlmDone = scoredAt('cont-mlm', x.continueSteps);
  const complete = [...scoredAt('cont-retromae', x.continueSteps)].filter((seed) => mlmDone.has(seed));
  return (complete.length ? complete : [...scoredAt('cont-retromae')]).sort((a, b) => a - b);
}
