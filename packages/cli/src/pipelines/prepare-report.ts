import type { PrepareResult } from '@retro/data';
import { EXIT } from '../errors.js';

/** How many problem lines `retro prepare` prints before summing up the rest. */
const MAX_ISSUE_LINES = 20;

interface Streams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Tells the user what `retro prepare` did and returns the exit code: every problem on stderr
 * naming file and record (manifest.json keeps them too); exit 1 when a file could not be read to
 * the end (gzip, UTF-16, truncated or broken JSON: the shards would silently miss its rest) or
 * when the shard folder ends up with no chunk to train on. Skipped single records only warn.
 */
export function reportPrepare(summary: unknown, io: Streams): number {
  const result = summary as Partial<PrepareResult>;
  const formats = new Map((result.manifest?.sources ?? []).map((s) => [s.path, s.format]));
  const issues = result.issues ?? [];
  for (const issue of issues.slice(0, MAX_ISSUE_LINES)) {
    const where = formats.get(issue.file) === 'wudao' || issue.kind === 'not-array' ? `record ${issue.index}` : `line ${issue.index + 1}`;
    const label = issue.fatalToFile ? 'error' : 'warning';
    const tail = issue.fatalToFile && issue.kind !== 'encoding' && issue.kind !== 'io' ? ' (the rest of the file was not read)' : '';
    io.stderr.write(`retro prepare: ${label}: ${issue.file}: ${issue.kind === 'encoding' || issue.kind === 'io' ? '' : `${where}: `}${issue.kind}: ${issue.message}${tail}\n`);
  }
  if (issues.length > MAX_ISSUE_LINES) io.stderr.write(`retro prepare: ... and ${issues.length - MAX_ISSUE_LINES} more problem(s), listed in manifest.json\n`);
  io.stdout.write(`${formatPrepareSummary(result)}\n`);

  const inputs = new Set([...(result.processed ?? []), ...(result.upToDate ?? [])]);
  const failed = (result.manifest?.sources ?? []).filter((s) => s.failed && inputs.has(s.path));
  for (const source of failed) {
    // Files skipped as already prepared still carry their old failure: say so every time.
    if (!result.processed?.includes(source.path)) io.stderr.write(`retro prepare: error: ${source.path}: ${source.failed!.kind}: ${source.failed!.message} (recorded in manifest.json by an earlier run)\n`);
  }
  const where = result.outDir ?? 'the output folder';
  if (failed.length > 0) {
    io.stderr.write(
      `retro prepare: error: ${failed.length} of ${inputs.size} input file(s) could not be read to the end (above); ` +
        `the readable records are in ${where}, fix the file(s) and rerun (prepared files are skipped)\n`,
    );
    return EXIT.failure;
  }
  const chunks = result.manifest?.totals?.chunks;
  if (chunks === 0) {
    io.stderr.write(`retro prepare: error: no chunk was produced from ${inputs.size} input file(s): nothing to train on in ${where}\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** One line for `retro prepare`: what was read and written (the manifest has the details). */
export function formatPrepareSummary(s: Partial<PrepareResult>): string {
  const parts = [
    `${(s.documents ?? 0).toLocaleString('en')} documents`,
    `${(s.chunks ?? 0).toLocaleString('en')} chunks`,
    `${(s.tokens ?? 0).toLocaleString('en')} tokens`,
    `${(s.seconds ?? 0).toFixed(1)} s`,
  ];
  if (s.upToDate?.length) parts.push(`${s.upToDate.length} file(s) already prepared`);
  if (s.issues?.length) parts.push(`${s.issues.length} problem(s) (listed above and in manifest.json)`);
  return `retro prepare: ${parts.join(', ')}`;
}
