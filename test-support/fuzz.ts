/**
 * The fuzz suite's shared rule (issue #14): for every file format retro reads, a damaged file
 * gives either a clear error naming the file, or a correct result; never a raw TypeError /
 * RangeError, never a hang. Mutations come from fast-check (fixed seed in vitest.setup.ts).
 */
import fc from 'fast-check';

/** How one fuzz case ended. */
export type Outcome = 'result' | 'clear-error' | 'raw-error' | 'unnamed-error' | 'wrong-result' | 'too-slow';

/** Outcome counts per format; printed by each suite and asserted clean. */
export class Tally {
  readonly counts = new Map<string, Record<Outcome, number>>();
  readonly failures: string[] = [];

  add(format: string, outcome: Outcome, detail: string): void {
    let row = this.counts.get(format);
    if (!row) {
      row = { result: 0, 'clear-error': 0, 'raw-error': 0, 'unnamed-error': 0, 'wrong-result': 0, 'too-slow': 0 };
      this.counts.set(format, row);
    }
    row[outcome]++;
    if (outcome !== 'result' && outcome !== 'clear-error' && this.failures.length < 20) this.failures.push(`${format}: ${outcome}: ${detail}`);
  }

  /** A table: format, cases, and the count of each outcome. */
  table(): string {
    const outcomes: Outcome[] = ['result', 'clear-error', 'raw-error', 'unnamed-error', 'wrong-result', 'too-slow'];
    const lines = [['format', 'cases', ...outcomes].join(' | ')];
    for (const [format, row] of this.counts) {
      const cases = outcomes.reduce((a, o) => a + row[o], 0);
      lines.push([format, cases, ...outcomes.map((o) => row[o])].join(' | '));
    }
    return lines.join('\n');
  }
}

/** Errors a user should never see: JavaScript's own, thrown from inside the code. */
const RAW = [TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError];

/**
 * Runs one case and classifies it. `names` are the file names an error must mention (any one);
 * `check` judges a returned result (true: correct). Cases longer than `limitMs` count as too slow (a hang; the bound is loose because the machine running the tests is shared).
 */
export async function classify<T>(
  tally: Tally,
  format: string,
  names: readonly string[],
  run: () => T | Promise<T>,
  check: (result: T) => boolean | string,
  limitMs = 10_000,
): Promise<Outcome> {
  const t0 = performance.now();
  let outcome: Outcome;
  let detail = '';
  try {
    const result = await run();
    const verdict = check(result);
    outcome = verdict === true ? 'result' : 'wrong-result';
    if (verdict !== true) detail = typeof verdict === 'string' ? verdict : 'check failed';
  } catch (error) {
    const e = error as Error;
    if (!(e instanceof Error) || RAW.some((Raw) => e.constructor === Raw)) {
      outcome = 'raw-error';
      detail = `${e?.constructor?.name}: ${e?.message}\n${e?.stack?.split('\n').slice(1, 4).join('\n')}`;
    } else if (!names.some((name) => e.message.includes(name))) {
      outcome = 'unnamed-error';
      detail = e.message;
    } else {
      outcome = 'clear-error';
    }
  }
  const ms = performance.now() - t0;
  if (ms > limitMs) {
    outcome = 'too-slow';
    detail = `${ms.toFixed(0)} ms`;
  }
  tally.add(format, outcome, detail);
  return outcome;
}

/** A byte-level mutation of a file: truncation, byte flips, overwritten or inserted runs. */
export type ByteMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'overwrite'; at: number; bytes: number[] }
  | { kind: 'insert'; at: number; bytes: number[] };

/** Positions are fractions of the length, so one arbitrary fits files of any size. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }).map((m) => ({ ...m, at: m.at })),
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
) as fc.Arbitrary<ByteMutation>;

export function applyMutation(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  const at = Math.min(bytes.length, Math.floor(m.at * bytes.length));
  switch (m.kind) {
    case 'truncate':
      return bytes.slice(0, at);
    case 'flip': {
      const out = bytes.slice();
      if (out.length > 0) out[Math.min(at, out.length - 1)] ^= m.mask;
      return out;
    }
    case 'overwrite': {
      const out = bytes.slice();
      m.bytes.forEach((b, i) => {
        if (at + i < out.length) out[at + i] = b;
      });
      return out;
    }
    case 'insert':
      return Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
  }
}

/** Values of the wrong type or absurd size, for JSON fields. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, 1e308, -1e308, 4294967296, '', 'x', '1', [], {}, [1, 2], { a: 1 }),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
);

/** A structural JSON mutation: replace the value at a path, or delete the key there. */
export interface JsonMutation {
  /** Index into the list of paths of the document (mod its length). */
  pick: number;
  op: 'replace' | 'delete';
  value: unknown;
}

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const),
  value: wrongValue,
});

/** Every path of a JSON value (objects and arrays walked, long arrays sampled at their ends). */
export function jsonPaths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (Array.isArray(value)) {
    const idx = value.length <= 6 ? value.map((_, i) => i) : [0, 1, value.length - 2, value.length - 1];
    for (const i of idx) jsonPaths(value[i], [...prefix, i], out);
  } else if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const chosen = keys.length <= 40 ? keys : [...keys.slice(0, 20), ...keys.slice(-20)];
    for (const k of chosen) jsonPaths((value as Record<string, unknown>)[k], [...prefix, k], out);
  }
  return out;
}

/** A deep copy of `doc` with the mutation applied (the root replaced when the path is empty). */
export function applyJsonMutation(doc: unknown, m: JsonMutation): unknown {
  const copy = JSON.parse(JSON.stringify(doc));
  const paths = jsonPaths(copy);
  const path = paths[m.pick % paths.length];
  if (path.length === 0) return m.op === 'delete' ? undefined : m.value;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = m.value;
  }
  return copy;
}

/** Number of cases per property: FUZZ_RUNS overrides (CI keeps the default modest). */
export function runs(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}
