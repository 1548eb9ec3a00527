/** One line of a plot: (x, y) points; non-finite y values break the line. */
export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  /** Height of the SVG without a legend placed below it (the plot keeps this height either way). */
  height?: number;
  /**
   * 'inside' (default): a box in the plot's top-right corner. 'below': rows under the x label,
   * the SVG growing by a row per series, for plots whose lines fill the top right.
   */
  legend?: 'inside' | 'below';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values (1, 2, 2.5, 5 x 10^k steps) covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [];
  if (low === high) return [low];
  const rawStep = (high - low) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rawStep));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= rawStep) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(1);
  return String(Number(value.toPrecision(4)));
}

/**
 * A self-contained SVG line plot: frame, x/y ticks with grid lines, axis labels, a title and a
 * legend, one coloured polyline per series. Ranges come from the finite points of all series.
 */
export function renderLinePlot(series: readonly PlotSeries[], options: LinePlotOptions = {}): string {
  const width = options.width ?? 720;
  const legendBelow = options.legend === 'below' && series.length > 0;
  const LEGEND_ROW = 18;
  const plotHeight = options.height ?? 420;
  const height = plotHeight + (legendBelow ? series.length * LEGEND_ROW + 10 : 0);
  const margin = { left: 70, right: 20, top: 40, bottom: 55 };
  const plotW = width - margin.left - margin.right;
  const plotH = plotHeight - margin.top - margin.bottom;

  const finite = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  let [xMin, xMax] = finite.length ? [Math.min(...finite.map((p) => p[0])), Math.max(...finite.map((p) => p[0]))] : [0, 1];
  let [yMin, yMax] = finite.length ? [Math.min(...finite.map((p) => p[1])), Math.max(...finite.map((p) => p[1]))] : [0, 1];
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad;
  yMax += pad;
  const sx = (x: number): number => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number): number => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number): string => v.toFixed(2);

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  if (options.title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);

  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = f(sx(tick));
    parts.push(`<line class="grid" x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`);
    parts.push(`<line class="tick" x1="${x}" y1="${margin.top + plotH}" x2="${x}" y2="${margin.top + plotH + 5}" stroke="black"/>`);
    parts.push(`<text class="xtick" x="${x}" y="${margin.top + plotH + 18}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of niceTicks(yMin, yMax, 6)) {
    const y = f(sy(tick));
    parts.push(`<line class="grid" x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line class="tick" x1="${margin.left - 5}" y1="${y}" x2="${margin.left}" y2="${y}" stroke="black"/>`);
    parts.push(`<text class="ytick" x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  parts.push(`<rect class="frame" x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  if (options.xLabel) parts.push(`<text x="${margin.left + plotW / 2}" y="${plotHeight - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    parts.push(`<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotH / 2})">${escapeXml(options.yLabel)}</text>`);
  }

  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length];
    // Split at non-finite values so a gap shows where a value is missing.
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 0) parts.push(`<polyline class="series" data-series="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="1.5" points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) run.push(`${f(sx(x))},${f(sy(y))}`);
      else flush();
    }
    flush();
  });

  const legendItem = (x: number, y: number, index: number, name: string): void => {
    parts.push(`<g class="legend"><line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${COLORS[index % COLORS.length]}" stroke-width="2"/>`);
    parts.push(`<text x="${x + 28}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text></g>`);
  };
  if (legendBelow) {
    series.forEach((s, index) => legendItem(margin.left, plotHeight + 8 + index * LEGEND_ROW, index, s.name));
  } else {
    // wide enough for the longest name (~7 px a character at 12 px), never wider than the plot
    const legendWidth = Math.min(plotW - 16, Math.max(150, 40 + 7 * Math.max(0, ...series.map((s) => s.name.length))));
    if (series.length > 0) {
      const boxHeight = series.length * LEGEND_ROW + 6;
      parts.push(`<rect class="legend-box" x="${margin.left + plotW - legendWidth - 8}" y="${margin.top + 3}" width="${legendWidth}" height="${boxHeight}" fill="white" fill-opacity="0.85" stroke="#999"/>`);
    }
    series.forEach((s, index) => legendItem(margin.left + plotW - legendWidth, margin.top + 12 + index * LEGEND_ROW, index, s.name));
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
