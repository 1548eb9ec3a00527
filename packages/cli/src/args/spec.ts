/** Value kinds an option can take; each has one parser and one wording for errors and help. */
export type OptionType = 'string' | 'path' | 'number' | 'integer' | 'boolean' | 'enum' | 'list';

export interface OptionSpec {
  /** Flag name in kebab-case (`total-steps`); the parsed key is its camelCase (`totalSteps`). */
  name: string;
  type: OptionType;
  description: string;
  /** Allowed values for `enum`. */
  choices?: readonly string[];
  default?: unknown;
  required?: boolean;
  /** Bounds for number/integer, inclusive unless `exclusiveMin`/`exclusiveMax`. */
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  /** Placeholder in help (`DIR`, `N`); defaults by type. */
  placeholder?: string;
  /** One-letter alias (`-o`). */
  short?: string;
}

export interface CommandSpec {
  name: string;
  /** One line for the top-level command list. */
  summary: string;
  /** Paragraphs for `retro <name> --help`. */
  description: string;
  usage: string;
  options: readonly OptionSpec[];
  examples?: readonly string[];
}

export type ParsedOptions = Record<string, unknown>;

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** How an option's expected value reads in errors: "an integer >= 1", "one of linear, cosine". */
export function expectation(spec: OptionSpec): string {
  const bounds = (noun: string): string => {
    if (spec.exclusiveMin || spec.exclusiveMax) {
      const low = spec.min === undefined ? '(-inf' : `${spec.exclusiveMin ? '(' : '['}${spec.min}`;
      const high = spec.max === undefined ? 'inf)' : `${spec.max}${spec.exclusiveMax ? ')' : ']'}`;
      return `${noun} in ${low}, ${high}`;
    }
    if (spec.min !== undefined && spec.max !== undefined) return `${noun} from ${spec.min} to ${spec.max}`;
    if (spec.min !== undefined) return `${noun} >= ${spec.min}`;
    if (spec.max !== undefined) return `${noun} <= ${spec.max}`;
    return noun;
  };
  switch (spec.type) {
    case 'integer':
      return bounds('an integer');
    case 'number':
      return bounds('a number');
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${spec.choices!.join(', ')}`;
    case 'list':
      return 'a comma-separated list';
    case 'path':
      return 'a path';
    default:
      return 'a string';
  }
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The closest known name within a small edit distance, if any. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
