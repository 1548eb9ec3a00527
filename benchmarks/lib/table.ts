/** Plain-text tables for benchmark output. */

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number;
  /** Right-align (default for numbers). */
  right?: boolean;
}

/** Renders rows as an aligned text table with a header and a rule. */
export function formatTable<Row>(rows: readonly Row[], columns: ReadonlyArray<Column<Row>>): string {
  const cells = rows.map((row) => columns.map((c) => String(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const right = columns.map((c, i) => c.right ?? rows.some((row) => typeof c.value(row) === 'number'));
  const line = (vals: string[]): string =>
    vals.map((v, i) => (right[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A number with `digits` significant figures, for table cells. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(digits - 1);
  return x.toPrecision(digits);
}
