/**
 * Runs a suite once per backend that can start here: always 'cpu'; 'gpujs' once
 * src/backends/gpujs exports `registerGpujsBackend()` and `setBackend('gpujs')` succeeds.
 * An unavailable backend shows up as a skipped describe block whose title says why.
 * RETRO_TEST_BACKENDS=cpu restricts the list; RETRO_GPUJS_MODE (read by the gpujs backend itself)
 * picks the gpu.js mode, e.g. RETRO_GPUJS_MODE=cpu npx vitest run --project tensor test/ops.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setBackend } from '../../src/index.js';

export interface BackendCase {
  name: string;
  /** Why the backend does not run here; undefined when it does. */
  skipReason?: string;
  /** Shown in the describe title, e.g. the gpu.js mode that started. */
  detail?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

async function probeGpujs(): Promise<{ skipReason?: string; detail?: string }> {
  // A variable specifier keeps Vite from resolving the (possibly not yet written) module at transform time.
  const specifier = '../../src/backends/gpujs/index.js';
  let module: Record<string, unknown>;
  try {
    module = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch (error) {
    return { skipReason: `src/backends/gpujs/index.js cannot be imported (${message(error)})` };
  }
  const register = module.registerGpujsBackend;
  if (typeof register !== 'function') return { skipReason: 'src/backends/gpujs/index.js does not export registerGpujsBackend()' };
  try {
    await register();
    setBackend('gpujs');
  } catch (error) {
    return { skipReason: `setBackend('gpujs') does not start: ${message(error)}` };
  } finally {
    setBackend('cpu');
  }
  try {
    const info = typeof module.gpujsInfo === 'function' ? (module.gpujsInfo('gpujs') as { mode?: string }) : undefined;
    return { detail: info?.mode ? `mode ${info.mode}` : undefined };
  } catch {
    return {};
  }
}

let cases: Promise<BackendCase[]> | undefined;

/** Every backend this suite knows, each with a skip reason when it cannot run here. */
export function backendCases(): Promise<BackendCase[]> {
  cases ??= (async () => {
    const wanted = process.env.RETRO_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
    const all: BackendCase[] = [{ name: 'cpu' }, { name: 'gpujs', ...(await probeGpujs()) }];
    return all.map((c) =>
      wanted && !wanted.includes(c.name) ? { name: c.name, skipReason: c.skipReason ?? 'not in RETRO_TEST_BACKENDS' } : c,
    );
  })();
  return cases;
}

/** The backends that start here (always includes 'cpu'). */
export async function runnableBackends(): Promise<string[]> {
  return (await backendCases()).filter((c) => !c.skipReason).map((c) => c.name);
}

/**
 * `describe(title [backend])` for each backend, with the backend active for the block's tests
 * (set in beforeAll, reset to 'cpu' in afterAll). Await it at the top level of a test file.
 */
export async function describeBackends(title: string, body: (backend: string) => void): Promise<void> {
  for (const c of await backendCases()) {
    if (c.skipReason) {
      describe.skip(`${title} [${c.name}] (skipped: ${c.skipReason})`, () => {
        it('backend unavailable', () => undefined);
      });
      continue;
    }
    describe(`${title} [${c.name}${c.detail ? ` ${c.detail}` : ''}]`, () => {
      beforeAll(() => {
        setBackend(c.name);
      });
      afterAll(() => {
        setBackend('cpu');
      });
      body(c.name);
    });
  }
}

/** Runs fn with `name` active, restoring 'cpu' afterwards (for cross-backend comparisons inside one test). */
export function onBackend<T>(name: string, fn: () => T): T {
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend('cpu');
  }
}
