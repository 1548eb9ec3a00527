import { UsageError } from '../errors.js';
import { camelCase, expectation, kebabCase, suggest, type CommandSpec, type OptionSpec, type ParsedOptions } from './spec.js';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

function describeFound(raw: unknown): string {
  if (typeof raw === 'string') return raw === '' ? 'an empty string' : `'${raw}'`;
  if (Array.isArray(raw)) return `a list (${JSON.stringify(raw)})`;
  if (raw === null) return 'null';
  if (typeof raw === 'object') return `an object (${JSON.stringify(raw)})`;
  return `${typeof raw} ${JSON.stringify(raw)}`;
}

/**
 * Turns a flag string or a config-file value into the option's type, or throws a UsageError
 * naming `where` (the flag or config key), what was expected and what was found.
 */
export function coerceValue(spec: OptionSpec, raw: unknown, where: string, command: string): unknown {
  const fail = (): never => {
    throw new UsageError(`${where} expects ${expectation(spec)}, found ${describeFound(raw)}`, command);
  };
  switch (spec.type) {
    case 'string':
    case 'path':
      if (typeof raw === 'number') return String(raw);
      if (typeof raw !== 'string' || raw === '') fail();
      return raw;
    case 'enum':
      if (typeof raw !== 'string' || !spec.choices!.includes(raw)) fail();
      return raw;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      return fail();
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string' || typeof x === 'number')) return raw.map(String);
      if (typeof raw === 'string' && raw.trim() !== '') return raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
      return fail();
    case 'number':
    case 'integer': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER.test(raw.trim()) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(value)) fail();
      // Beyond 2^53 integers are no longer exact: a seed or step count there is not what was typed.
      if (spec.type === 'integer' && !Number.isSafeInteger(value)) fail();
      if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) fail();
      if (spec.max !== undefined && (spec.exclusiveMax ? value >= spec.max : value > spec.max)) fail();
      return value;
    }
    default:
      throw new Error(`coerceValue: unknown option type '${spec.type as string}'`);
  }
}

export interface ParsedArgv {
  /** camelCase key -> value, only for flags given. */
  values: ParsedOptions;
  help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, `--flag`, `--no-flag`, `-x value` and `-h/--help`
 * against the command's options. Repeated list options accumulate; other repeats: last wins.
 */
export function parseArgv(command: CommandSpec, argv: readonly string[]): ParsedArgv {
  const byName = new Map(command.options.map((o) => [o.name, o]));
  const byShort = new Map(command.options.filter((o) => o.short).map((o) => [o.short!, o]));
  const values: ParsedOptions = {};
  let help = false;
  const known = command.options.map((o) => `--${o.name}`);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    let negated = false;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byName.get(name);
      if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean' && inline === undefined) {
        spec = byName.get(name.slice(3));
        negated = true;
      }
      if (!spec) {
        const hint = suggest(`--${name}`, known);
        throw new UsageError(`unknown option --${name}${hint ? ` (did you mean ${hint}?)` : ''}`, command.name);
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      spec = byShort.get(arg.slice(1));
      if (!spec) throw new UsageError(`unknown option ${arg}`, command.name);
    } else {
      throw new UsageError(`unexpected argument '${arg}' (options are given as --name value)`, command.name);
    }
    const flag = `option --${spec.name}`;
    let raw: unknown;
    if (spec.type === 'boolean') {
      raw = negated ? false : inline ?? true;
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      // A lone '-' is a value (stdin), as in most command-line tools.
      if (next === undefined || (next.startsWith('-') && next !== '-' && !NUMBER.test(next))) {
        throw new UsageError(`${flag} expects ${expectation(spec)}, found nothing`, command.name);
      }
      raw = next;
      i++;
    }
    const key = camelCase(spec.name);
    const value = coerceValue(spec, raw, flag, command.name);
    values[key] = spec.type === 'list' && Array.isArray(values[key]) ? [...(values[key] as string[]), ...(value as string[])] : value;
  }
  return { values, help };
}

/**
 * Checks a config object (from JSON/YAML) against the options: keys may be camelCase or
 * kebab-case; unknown keys and bad values are errors naming the file and key.
 */
export function validateConfig(command: CommandSpec, config: Record<string, unknown>, source: string): ParsedOptions {
  const byKey = new Map(command.options.map((o) => [camelCase(o.name), o]));
  const out: ParsedOptions = {};
  for (const [rawKey, raw] of Object.entries(config)) {
    const key = camelCase(rawKey);
    const spec = byKey.get(key);
    if (!spec || spec.name === 'config') {
      const hint = suggest(kebabCase(key), command.options.map((o) => o.name));
      throw new UsageError(
        `config file ${source}: unknown key '${rawKey}' for 'retro ${command.name}'${hint ? ` (did you mean '${hint}'?)` : ''}`,
        command.name,
      );
    }
    if (raw === null || raw === undefined) continue;
    out[key] = coerceValue(spec, raw, `config file ${source}: key '${rawKey}'`, command.name);
  }
  return out;
}

/**
 * Final options: defaults, then the config file, then flags (flags win). Throws a UsageError
 * for a missing required option, naming the flag and config key that would supply it.
 */
export function mergeOptions(command: CommandSpec, fromConfig: ParsedOptions, fromFlags: ParsedOptions): ParsedOptions {
  const merged: ParsedOptions = {};
  for (const spec of command.options) if (spec.default !== undefined) merged[camelCase(spec.name)] = spec.default;
  Object.assign(merged, fromConfig, fromFlags);
  for (const spec of command.options) {
    if (spec.required && merged[camelCase(spec.name)] === undefined) {
      throw new UsageError(`missing required option --${spec.name} (or '${camelCase(spec.name)}' in the --config file): ${spec.description}`, command.name);
    }
  }
  return merged;
}
