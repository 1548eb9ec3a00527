/** Command-line flags and result files shared by the benchmarks. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface BenchArgs {
  /** Where to write JSON results (--json FILE), if anywhere. */
  json?: string;
  /** Short run (--quick). */
  quick: boolean;
  /** Every flag as given: --name value, or --name alone -> true. */
  flags: Record<string, string | true>;
}

/** Parses `--flag value` / `--flag` pairs (npm passes them after `--`). */
export function parseArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`benchmark: unexpected argument '${arg}' (flags look like --name [value])`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[arg.slice(2)] = next;
      i++;
    } else {
      flags[arg.slice(2)] = true;
    }
  }
  const json = flags.json;
  if (json === true) throw new Error('benchmark: --json needs a file name');
  return { json, quick: flags.quick === true, flags };
}

/** Writes `data` as pretty JSON, creating the directory. */
export function writeJson(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
