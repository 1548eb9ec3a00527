/**
 * Our training losses beside PyTorch's on the same batches (dump-batches.ts -> torch_replay.py):
 * a table of 10-step windows and the last-50-step mean, and a plot of the curves. MLM replays
 * compare the loss; RetroMAE replays (runs with encoderLosses) the encoder and decoder losses.
 *
 *   node --import tsx benchmarks/experiment/replay-report.ts METRICS.jsonl OUT_DIR NAME REPLAY.json[:label] ...
 *
 * METRICS.jsonl is our run's (each line averages its 10 steps); each REPLAY.json holds per-step
 * losses of one or more PyTorch runs. Writes OUT_DIR/NAME.md and NAME.svg.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLinePlot, type PlotSeries } from '@retro/train';
import { readMetrics } from './lib/report.js';
import { formatTable } from '../lib/table.js';

interface ReplayRun {
  losses: number[];
  encoderLosses?: number[];
  decoderLosses?: number[];
}
interface Replay {
  device: string;
  torch: string;
  header: { shards: string; steps: number; batch: number };
  runs: Record<string, ReplayRun>;
}
type Key = 'loss' | 'encoderLoss' | 'decoderLoss';

const [metricsFile, outDir, name, ...replayArgs] = process.argv.slice(2);
if (!metricsFile || !outDir || !name || replayArgs.length === 0) {
  console.error('usage: replay-report.ts METRICS.jsonl OUT_DIR NAME REPLAY.json[:label] ...');
  process.exit(2);
}
const ours = readMetrics(metricsFile).filter((l) => l.step % 10 === 0);
if (ours.length === 0) throw new Error(`replay-report: ${metricsFile} has no loss lines`);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

const curves: Array<{ name: string; key: Key; losses: number[] }> = [];
const sources: string[] = [];
for (const arg of replayArgs) {
  const [file, label] = arg.split(':');
  const replay = JSON.parse(readFileSync(file!, 'utf8')) as Replay;
  sources.push(`- ${file}: PyTorch ${replay.torch} on ${replay.device}, ${replay.header.steps} batches of ${replay.header.batch} from ${replay.header.shards}`);
  for (const [run, r] of Object.entries(replay.runs)) {
    const tag = `PyTorch ${run}${label ? ` ${label}` : ''}`;
    if (r.encoderLosses && r.decoderLosses) {
      curves.push({ name: `${tag} encoder`, key: 'encoderLoss', losses: r.encoderLosses }, { name: `${tag} decoder`, key: 'decoderLoss', losses: r.decoderLosses });
    } else {
      curves.push({ name: tag, key: 'loss', losses: r.losses });
    }
  }
}
const keys = [...new Set(curves.map((c) => c.key))];
const ourValue = (line: (typeof ours)[number], key: Key): number => {
  const value = line[key];
  if (typeof value !== 'number') throw new Error(`replay-report: ${metricsFile} step ${line.step} has no ${key}`);
  return value;
};

const last = ours[ours.length - 1]!.step;
const windowMean = (losses: number[], end: number): number => mean(losses.slice(end - 10, end));
const checkpoints = [10, 100, 300, 600, 900, last].filter((s, i, all) => s <= last && all.indexOf(s) === i);
const rows = checkpoints.map((step) => {
  const line = ours.find((l) => l.step === step)!;
  return { label: `${step - 9}-${step}`, ours: keys.map((k) => ourValue(line, k)), torch: curves.map((c) => windowMean(c.losses, step)) };
});
const tail = ours.filter((l) => l.step > last - 50);
rows.push({ label: 'last 50 (mean)', ours: keys.map((k) => mean(tail.map((l) => ourValue(l, k)))), torch: curves.map((c) => mean(c.losses.slice(last - 50, last))) });
const gaps = curves.map((c) => mean(ours.map((l) => Math.abs(ourValue(l, c.key) - windowMean(c.losses, l.step)))));

const table = formatTable(rows, [
  { header: 'steps', value: (r) => r.label },
  ...keys.map((k, i) => ({ header: `ours ${k}`, value: (r: (typeof rows)[number]) => r.ours[i]!.toFixed(3), right: true })),
  ...curves.map((c, i) => ({ header: c.name, value: (r: (typeof rows)[number]) => r.torch[i]!.toFixed(3), right: true })),
]);
const gapLines = curves.map((c, i) => `- mean |ours ${c.key} - ${c.name}| over all ${ours.length} ten-step windows: ${gaps[i]!.toFixed(3)}`);
const text = `${table}\n\n${gapLines.join('\n')}\n${sources.join('\n')}\n`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `${name}.md`), text);
const series: PlotSeries[] = [
  ...keys.map((k) => ({ name: `ours ${k} (retro, CPU)`, points: ours.map((l) => [l.step, ourValue(l, k)] as [number, number]) })),
  ...curves.map((c) => ({ name: c.name, points: ours.map((l) => [l.step, windowMean(c.losses, l.step)] as [number, number]) })),
];
writeFileSync(join(outDir, `${name}.svg`), renderLinePlot(series, { title: `${keys.includes('loss') ? 'MLM' : 'RetroMAE'} losses on the same batches: retro vs PyTorch`, xLabel: 'optimizer step', yLabel: 'cross-entropy (nats), 10-step mean' }));
console.log(`${text}wrote ${join(outDir, `${name}.md`)} and ${name}.svg`);
