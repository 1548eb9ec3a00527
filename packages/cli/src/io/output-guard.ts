/**
 * The one rule every command that writes follows before any work starts: an output never equals,
 * lies inside or contains one of the command's inputs (model, data, tokenizer folder, input file),
 * and a destructive write (replacing an existing file, writing into a non-empty folder the command
 * did not make) needs --overwrite. Errors are usage errors (exit 2) naming the option, the path and
 * what it collides with, so nothing is touched when the answer is no.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';

/** A path given by an option (`option` without the leading dashes). */
export interface OptionPath {
  option: string;
  path: string | undefined;
}

export interface OutputGuard {
  command: string;
  /** The path to be written: a file (embed vectors, eval results) or a folder (shards, run). */
  output: OptionPath & { path: string; kind: 'file' | 'directory' };
  /** Every path the command reads; undefined entries (options not given) are ignored. */
  inputs: readonly OptionPath[];
  /** The value of --overwrite. */
  overwrite: boolean;
  /** Name of the option that allows destructive writes (default 'overwrite'). */
  overwriteOption?: string;
  /**
   * A non-empty output folder this command updates in place by design (a shard folder for
   * prepare, a run folder for pretrain): writing there is not destructive by itself; the command
   * checks the rest (e.g. pretrain's --resume). `what` names such a folder in the error otherwise.
   */
  continues?: { test: (dir: string) => boolean; what: string };
}

/** The absolute path with symlinks of its existing part resolved (so `a/../b` and links compare equal). */
export function canonicalPath(path: string): string {
  let head = resolve(path);
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length ? join(real, ...tail.reverse()) : real;
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(path);
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** True when `inner` is `outer` or lies below it (both canonical). */
function within(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/** A folder holding a model's own files (HF layout): never a place to write other outputs. */
function isModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && readdirSync(dir).some((name) => name.endsWith('.safetensors') || name === 'pytorch_model.bin');
}

/** The nearest existing ancestor of `path` (itself when it exists). */
function existingAncestor(path: string): string {
  let head = resolve(path);
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) break;
    head = parent;
  }
  return head;
}

/**
 * Throws a UsageError when writing `guard.output` could destroy an input or existing data, or
 * cannot work at all (a special file, a file where a folder is needed, an unwritable parent).
 */
export function guardOutput(guard: OutputGuard): void {
  const { command, output } = guard;
  const flag = `--${guard.overwriteOption ?? 'overwrite'}`;
  const where = `option --${output.option}`;
  const out = canonicalPath(output.path);
  for (const input of guard.inputs) {
    if (input.path === undefined || input.path === '') continue;
    const inPath = canonicalPath(input.path);
    const inIsDir = existsSync(inPath) && statSync(inPath).isDirectory();
    if (out === inPath) {
      throw new UsageError(`${where}: '${output.path}' is the same path as --${input.option} '${input.path}'; an output may never replace an input`, command);
    }
    if (inIsDir && within(out, inPath)) {
      throw new UsageError(`${where}: '${output.path}' lies inside the --${input.option} folder '${input.path}'; write outputs outside the folders a command reads`, command);
    }
    if (output.kind === 'directory' && within(inPath, out)) {
      throw new UsageError(`${where}: '${output.path}' contains --${input.option} '${input.path}'; writing there could replace an input, choose another folder`, command);
    }
  }

  if (existsSync(out) || isDanglingLink(output.path)) {
    const stats = statOrNull(out);
    if (stats === null) throw new UsageError(`${where}: '${output.path}' is a broken symbolic link`, command);
    if (output.kind === 'directory') {
      if (!stats.isDirectory()) throw new UsageError(`${where} expects a folder, found ${stats.isFile() ? 'a file' : 'a special file'} '${output.path}'`, command);
      const entries = readdirSync(out);
      const continues = guard.continues?.test(out) ?? false;
      if (entries.length > 0 && !continues) {
        if (isModelFolder(out)) throw new UsageError(`${where}: '${output.path}' is a model folder (config.json + weights); write outputs elsewhere`, command);
        if (!guard.overwrite) {
          const sample = entries.slice(0, 3).join(', ');
          throw new UsageError(
            `${where}: folder '${output.path}' is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${sample}${entries.length > 3 ? ', ...' : ''})` +
              `${guard.continues ? ` and is not ${guard.continues.what}` : ''}; pass ${flag} to write into it anyway`,
            command,
          );
        }
      }
      assertWritable(where, output.path, out, command);
    } else {
      if (stats.isDirectory()) throw new UsageError(`${where} expects a file, found folder '${output.path}'`, command);
      if (!stats.isFile()) throw new UsageError(`${where}: '${output.path}' is a special file, not a regular file`, command);
      if (isModelFolder(dirname(out)) && /(\.safetensors|\.bin|config\.json|tokenizer\.json|vocab\.txt)$/.test(out)) {
        throw new UsageError(`${where}: '${output.path}' is a file of the model in '${dirname(output.path)}'; write outputs elsewhere`, command);
      }
      if (!guard.overwrite) throw new UsageError(`${where}: file '${output.path}' exists; pass ${flag} to replace it`, command);
      assertWritable(where, output.path, out, command);
    }
    return;
  }
  const ancestor = existingAncestor(out);
  const ancestorStats = statOrNull(ancestor);
  if (!ancestorStats?.isDirectory()) {
    throw new UsageError(`${where}: cannot create '${output.path}': '${ancestor}' is not a folder`, command);
  }
  assertWritable(where, output.path, ancestor, command);
}

/**
 * Creates the output folder one level at a time (Node's recursive mkdir spins forever under
 * paths like /proc/x/y), turning any failure into an error that names the option and path.
 */
export function createOutputDirectory(option: string, path: string, command: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  let head = target;
  while (!existsSync(head)) {
    missing.push(head);
    const parent = dirname(head);
    if (parent === head) break;
    head = parent;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new UsageError(`option --${option}: cannot create folder '${dir}' (${code}: ${(error as Error).message.split(', ')[0].replace(/^\w+: /, '')})`, command);
    }
  }
}

function assertWritable(where: string, shown: string, path: string, command: string): void {
  try {
    accessSync(path, constants.W_OK);
  } catch {
    throw new UsageError(`${where}: '${shown}' is not writable${path !== resolve(shown) ? ` ('${path}' is read-only)` : ''}`, command);
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && !existsSync(path);
  } catch {
    return false;
  }
}
