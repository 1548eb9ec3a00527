import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';

/** Subcommand names that may head sections of a shared config file. */
export const SECTION_NAMES = ['prepare', 'pretrain', 'embed', 'eval'] as const;

/**
 * Reads a JSON (.json) or YAML (.yaml/.yml) config file into a plain object. A file whose
 * top-level keys are all subcommand names (`pretrain:`, `prepare:` ...) is sectioned: the section
 * for `command` is returned ({} if absent). Otherwise the whole file applies to `command`.
 */
export function loadConfigFile(path: string, command: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(`option --config: file '${path}' does not exist`, command);
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  let data: unknown;
  try {
    if (ext === '.json') data = JSON.parse(text);
    else if (ext === '.yaml' || ext === '.yml') data = parseYaml(text);
    else throw new UsageError(`option --config expects a .json, .yaml or .yml file, found '${path}'`, command);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`config file ${path}: cannot parse ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`, command);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`config file ${path}: expected a mapping of option names to values at the top level, found ${Array.isArray(data) ? 'a list' : typeof data}`, command);
  }
  const record = data as Record<string, unknown>;
  const keys = Object.keys(record);
  const sectioned = keys.length > 0 && keys.every((key) => (SECTION_NAMES as readonly string[]).includes(key));
  if (!sectioned) return record;
  const section = record[command] ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new UsageError(`config file ${path}: section '${command}' must be a mapping of option names to values`, command);
  }
  return section as Record<string, unknown>;
}
