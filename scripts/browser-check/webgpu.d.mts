/** Types of webgpu.mjs's exports, for the TypeScript callers (benchmarks/webgpu-memory.ts). */
export interface WebgpuCheckOptions {
  chromium: string;
  /** Seconds to wait for the page's result. */
  timeout: number;
  /** The ../shared/fixtures-layout folder (default: test-fixtures/retromae). */
  fixtures?: string;
  /** Comma-separated: ops, parity, training, memory. */
  parts?: string;
  steps?: number;
  /** CONFIG:BATCH pairs for parts=memory, e.g. 'tiny:16,base:1'. */
  memory?: string;
  quiet?: boolean;
}

export interface WebgpuCheckResult {
  // The page's report: ops, parity, training, memory, info, fatal, chromiumStderr.
  result: Record<string, any>;
  failures: string[];
  fixtures: string;
  kinds: string[];
}

export const WEBGPU_FLAGS: string[];
export function fixtureKinds(dir: string): string[];
export function runWebgpuCheck(options: WebgpuCheckOptions): Promise<WebgpuCheckResult>;
export function printWebgpu(check: WebgpuCheckResult): void;
