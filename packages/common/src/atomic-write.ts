/**
 * Files written so that nothing is lost: a reader (or a resumed run) sees the old contents or the
 * new ones, never half of either, even after a kill or a power cut. Every retro package that
 * publishes a file (safetensors, config.json, shards, manifest.json, checkpoints, metrics, eval
 * results) writes it through here.
 */
import { nodeFs, nodePath } from './node-builtins.js';

/** Flushes a directory entry so a rename inside it survives a power cut, not only a kill. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = nodeFs.openSync(dir, 'r');
    nodeFs.fsyncSync(fd);
  } catch {
    // Some filesystems (and Windows) refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) nodeFs.closeSync(fd);
  }
}

/** Writes bytes (a string as UTF-8) to `path` and fsyncs them before returning. */
export function writeFileSynced(path: string, data: string | Uint8Array): void {
  const fd = nodeFs.openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.byteLength) written += nodeFs.writeSync(fd, bytes, written, bytes.byteLength - written);
    nodeFs.fsyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
}

/**
 * The temporary name `writeFileAtomic` uses for `path`: hidden, beside it (a rename never crosses
 * filesystems), tagged with the writing process so a later run can remove a dead one's leftovers
 * (`/^\..+\.tmp-(\d+)$/`).
 */
export function atomicTempPath(path: string): string {
  return nodePath.join(nodePath.dirname(path), `.${nodePath.basename(path)}.tmp-${process.pid}`);
}

/**
 * Replaces `path` all at once: the bytes go to a temporary file in the same folder, which is
 * fsynced, renamed over `path`, and the folder fsynced. Errors name `path`; the temporary file is
 * removed on failure.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temp = atomicTempPath(path);
  try {
    writeFileSynced(temp, data);
    nodeFs.renameSync(temp, path);
  } catch (error) {
    nodeFs.rmSync(temp, { force: true });
    throw new Error(`writeFileAtomic ${path}: ${(error as Error).message}`, { cause: error });
  }
  syncDirectory(nodePath.dirname(path));
}
