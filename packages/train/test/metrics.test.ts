import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressDisplay, niceTicks, parseMetrics, renderLinePlot } from '../src/index.js';
import { runTiny, removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

function polylines(svg: string): string[] {
  return [...svg.matchAll(/<polyline[^>]*data-series="([^"]+)"/g)].map((m) => m[1]);
}

describe('metrics.jsonl and loss.svg', () => {
  it('log every logEvery steps and at the end, with the documented keys, and plot each loss', async () => {
    const dir = tempDir();
    const run = await runTiny({ totalSteps: 7, accumulation: 1, logEvery: 3, checkpointEvery: 0, outputDir: dir });
    const records = parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
    expect(records.map((r) => r.step)).toEqual([3, 6, 7]);
    expect(Object.keys(records[0])).toEqual(['step', 'loss', 'encoderLoss', 'decoderLoss', 'lr', 'gradNorm', 'tokensPerSecond', 'elapsed']);
    // Window means of the per-step losses.
    const perStep = run.steps.map((s) => s.losses.loss);
    expect(records[0].loss).toBeCloseTo((perStep[0] + perStep[1] + perStep[2]) / 3, 12);
    expect(records[2].loss).toBe(perStep[6]);
    expect(records[1].lr).toBe(run.steps[5].lr);
    expect(records[2].gradNorm).toBe(run.steps[6].gradNorm);
    expect(records.every((r) => r.tokensPerSecond > 0 && r.elapsed > 0)).toBe(true);
    expect(records[2].elapsed).toBeGreaterThanOrEqual(records[1].elapsed);

    const svg = readFileSync(join(dir, 'loss.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(polylines(svg)).toEqual(['loss', 'encoderLoss', 'decoderLoss']);
    expect(svg).toMatch(/class="legend"/);
    expect(svg).toMatch(/class="xtick"/);
  });

  it('an MLM-only model (forward returns only loss) trains and logs just loss', async () => {
    const dir = tempDir();
    await runTiny({ totalSteps: 4, logEvery: 2, outputDir: dir, modelOptions: { mlmOnly: true } });
    const records = parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
    expect(Object.keys(records[0])).toEqual(['step', 'loss', 'lr', 'gradNorm', 'tokensPerSecond', 'elapsed']);
    expect(polylines(readFileSync(join(dir, 'loss.svg'), 'utf8'))).toEqual(['loss']);
  });
});

describe('renderLinePlot', () => {
  it('maps points into the frame: the lowest value at the bottom, the highest at the top', () => {
    const svg = renderLinePlot([{ name: 'a', points: [[0, 1], [10, 3]] }], { width: 200, height: 100 });
    const points = /points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(points[0][0]).toBeLessThan(points[1][0]);
    expect(points[0][1]).toBeGreaterThan(points[1][1]);
    expect(/<rect class="frame" x="(\d+)"/.exec(svg)![1]).toBe(String(points[0][0]));
  });

  it('breaks a line at missing values and escapes names', () => {
    const svg = renderLinePlot([{ name: 'x<y', points: [[0, 1], [1, Number.NaN], [2, 2], [3, 1]] }]);
    expect(polylines(svg)).toEqual(['x&lt;y', 'x&lt;y']);
  });

  it('widens the legend box to hold the longest name, inside the frame', () => {
    const width = (svg: string) => Number(/class="legend-box" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/.exec(svg)![1]);
    const short = renderLinePlot([{ name: 'a', points: [[0, 1], [1, 2]] }]);
    const long = renderLinePlot([{ name: 'PyTorch ours-init char-masks, a long series name', points: [[0, 1], [1, 2]] }]);
    expect(width(short)).toBe(150);
    expect(width(long)).toBeGreaterThanOrEqual(7 * 'PyTorch ours-init char-masks, a long series name'.length);
    const frame = Number(/<rect class="frame" x="[\d.]+" y="[\d.]+" width="([\d.]+)"/.exec(long)![1]);
    expect(width(long)).toBeLessThan(frame);
  });

  it("puts the legend under the plot with legend: 'below', growing the SVG by a row per series", () => {
    const series = [
      { name: 'first', points: [[0, 1], [1, 2]] as Array<[number, number]> },
      { name: 'second', points: [[0, 2], [1, 1]] as Array<[number, number]> },
    ];
    const inside = renderLinePlot(series, { height: 300 });
    const below = renderLinePlot(series, { height: 300, legend: 'below' });
    const svgHeight = (svg: string) => Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1]);
    expect(svgHeight(inside)).toBe(300);
    expect(svgHeight(below)).toBe(300 + 2 * 18 + 10);
    expect(below).not.toContain('legend-box');
    // the frame is the same box in both; every legend row sits below it
    const frame = (svg: string) => /<rect class="frame" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/.exec(svg)!.slice(1).map(Number);
    expect(frame(below)).toEqual(frame(inside));
    const [top, h] = frame(below);
    const rows = [...below.matchAll(/<g class="legend"><line x1="[\d.]+" y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(rows).toHaveLength(2);
    for (const y of rows) expect(y).toBeGreaterThan(top + h);
  });

  it('niceTicks picks 1-2-2.5-5 steps inside the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.13, 0.92, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(1.3, 14.2, 6)).toEqual([2.5, 5, 7.5, 10, 12.5]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

describe('ProgressDisplay', () => {
  const update = (step: number) => ({ step, loss: 2.5, tokensPerSecond: 1000, secondsThisRun: step, stepsThisRun: step });

  it('rewrites one line on a TTY', () => {
    const out: string[] = [];
    const display = new ProgressDisplay(10, { stream: { isTTY: true, write: (t: string) => out.push(t) } });
    display.update(update(1));
    display.update(update(2));
    display.finish();
    expect(out[0]).toBe('\r\x1b[2Kstep 1/10 | loss 2.5000 | 1000 tok/s | ETA 9s');
    expect(out[1]).toContain('step 2/10');
    expect(out[2]).toBe('\n');
  });

  it('prints periodic full lines otherwise', () => {
    const out: string[] = [];
    const display = new ProgressDisplay(10, { stream: { write: (t: string) => out.push(t) }, everySteps: 4, everySeconds: 1e9 });
    for (let s = 1; s <= 10; s++) display.update(update(s));
    expect(out.map((l) => l.split(' ')[1])).toEqual(['1/10', '4/10', '8/10', '10/10']);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
});
