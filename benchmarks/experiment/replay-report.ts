/**
 * Our MLM training loss beside PyTorch's on the same batches (dump-batches.ts -> torch_replay.py):
 * a table of 10-step windows and the last-50-step mean, and a plot of both curves.
 *
 *   node --import tsx benchmarks/experiment/replay-report.ts METRICS.jsonl OUT_DIR REPLAY.json[:label] ...
 *
 * METRICS.jsonl is our run's (each line averages the loss over its 10 steps); each REPLAY.json
 * holds per-step losses of one or more PyTorch runs. Writes OUT_DIR/replay.svg and replay.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLinePlot, type PlotSeries } from '@retro/train';
import { readMetrics } from './lib/report.js';
import { formatTable } from '../lib/table.js';

interface Replay {
  device: string;
  torch: string;
  header: { shards: string; steps: number; batch: number };
  runs: Record<string, { losses: number[] }>;
}

const [metricsFile, outDir, ...replayArgs] = process.argv.slice(2);
if (!metricsFile || !outDir || replayArgs.length === 0) {
  console.error('usage: replay-report.ts METRICS.jsonl OUT_DIR REPLAY.json[:label] ...');
  process.exit(2);
}
const ours = readMetrics(metricsFile).filter((l) => l.step % 10 === 0);
if (ours.length === 0) throw new Error(`replay-report: ${metricsFile} has no loss lines`);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

const curves: Array<{ name: string; losses: number[] }> = [];
const sources: string[] = [];
for (const arg of replayArgs) {
  const [file, label] = arg.split(':');
  const replay = JSON.parse(readFileSync(file!, 'utf8')) as Replay;
  sources.push(`- ${file}: PyTorch ${replay.torch} on ${replay.device}, ${replay.header.steps} batches of ${replay.header.batch} from ${replay.header.shards}`);
  for (const [run, { losses }] of Object.entries(replay.runs)) {
    curves.push({ name: `PyTorch ${run}${label ? ` ${label}` : ''}`, losses });
  }
}

const last = ours[ours.length - 1]!.step;
const windowMean = (losses: number[], end: number): number => mean(losses.slice(end - 10, end));
const checkpoints = [10, 100, 300, 600, 900, last].filter((s, i, all) => s <= last && all.indexOf(s) === i);
const rows = checkpoints.map((step) => {
  const line = ours.find((l) => l.step === step)!;
  return { step, ours: line.loss, torch: curves.map((c) => windowMean(c.losses, step)) };
});
const ourTail = mean(ours.filter((l) => l.step > last - 50).map((l) => l.loss));
rows.push({ step: -50, ours: ourTail, torch: curves.map((c) => mean(c.losses.slice(last - 50, last))) });
const gaps = curves.map((c) => mean(ours.map((l) => Math.abs(l.loss - windowMean(c.losses, l.step)))));

const table = formatTable(rows, [
  { header: 'steps', value: (r) => (r.step < 0 ? `last 50 (mean)` : `${r.step - 9}-${r.step}`) },
  { header: 'ours', value: (r) => r.ours.toFixed(3), right: true },
  ...curves.map((c, i) => ({ header: c.name, value: (r: (typeof rows)[number]) => r.torch[i]!.toFixed(3), right: true })),
]);
const gapLines = curves.map((c, i) => `- mean |ours - ${c.name}| over all ${ours.length} ten-step windows: ${gaps[i]!.toFixed(3)}`);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'replay.md'), `${table}\n\n${gapLines.join('\n')}\n${sources.join('\n')}\n`);
const series: PlotSeries[] = [
  { name: 'ours (retro, CPU)', points: ours.map((l) => [l.step, l.loss]) },
  ...curves.map((c) => ({ name: c.name, points: ours.map((l) => [l.step, windowMean(c.losses, l.step)] as [number, number]) })),
];
writeFileSync(join(outDir, 'replay.svg'), renderLinePlot(series, { title: 'MLM loss on the same batches: retro vs PyTorch', xLabel: 'optimizer step', yLabel: 'cross-entropy (nats), 10-step mean' }));
console.log(`${table}\n\n${gapLines.join('\n')}\n${sources.join('\n')}\nwrote ${join(outDir, 'replay.md')} and replay.svg`);
