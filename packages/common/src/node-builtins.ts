/**
 * node:fs, node:fs/promises and node:path, fetched the first time a function that reads or writes
 * files uses them, never at import: packages built on these import in browsers and bundles, where
 * their in-memory paths work and a file-system call fails with a message saying so.
 */
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type * as Path from 'node:path';

function builtin<T>(name: string): T {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    if (typeof proc?.getBuiltinModule === 'function') {
      const found = proc.getBuiltinModule(name);
      if (found) return found as T;
    }
  } catch {}
  try {
    // The CJS build (and Node before process.getBuiltinModule, 20.16) still has require.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (typeof require === 'function') return require(name) as T;
  } catch {}
  throw new Error(
    `${name} is not available here (a browser, or Node older than 20.16 running the ESM build): reading and writing files needs Node; ` +
      'load from files held in memory instead (encoderFromMemory, maskedLMFromMemory, AutoTokenizer.fromFiles, SentenceEncoder.fromFiles)',
  );
}

/** A module object that loads `name` on first property access. */
function lazy<T extends object>(name: string): T {
  let loaded: T | undefined;
  return new Proxy({} as T, {
    get: (_target, property) => Reflect.get((loaded ??= builtin<T>(name)), property),
  });
}

export const nodeFs: typeof Fs = lazy<typeof Fs>('node:fs');
export const nodeFsPromises: typeof FsPromises = lazy<typeof FsPromises>('node:fs/promises');
export const nodePath: typeof Path = lazy<typeof Path>('node:path');
