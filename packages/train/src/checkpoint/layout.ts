import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** File names inside a checkpoint directory and next to it. */
export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const LATEST_FILE = 'latest';
export const TRAINER_STATE_FORMAT = 'retro-trainer-state';

const COMPLETE = /^checkpoint-(\d+)$/;
/** Leftovers of an interrupted save or prune: `checkpoint-12.tmp-4711`, `.old-4711`, `.deleting-4711`. */
const LEFTOVER = /^checkpoint-(\d+)\.(tmp|old|deleting)-(\d+)$/;

export function checkpointName(step: number): string {
  return `checkpoint-${step}`;
}

/** The step of a complete checkpoint directory name, or undefined for anything else. */
export function parseCheckpointName(name: string): number | undefined {
  const match = COMPLETE.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function parseLeftoverName(name: string): { step: number; kind: string; pid: number } | undefined {
  const match = LEFTOVER.exec(name);
  return match ? { step: Number(match[1]), kind: match[2], pid: Number(match[3]) } : undefined;
}

/** Complete checkpoint directories under `outputDir`, oldest step first. */
export function listCheckpoints(outputDir: string): Array<{ step: number; dir: string }> {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir)
    .map((name) => ({ name, step: parseCheckpointName(name) }))
    .filter((entry): entry is { name: string; step: number } => entry.step !== undefined)
    .map(({ name, step }) => ({ step, dir: join(outputDir, name) }))
    .filter(({ dir }) => statSync(dir).isDirectory())
    .sort((a, b) => a.step - b.step);
}

/** What `latest` names (a directory name such as `checkpoint-40`), or undefined. */
export function readLatestPointer(outputDir: string): string | undefined {
  const path = join(outputDir, LATEST_FILE);
  if (!existsSync(path)) return undefined;
  const name = readFileSync(path, 'utf8').trim();
  return name.length > 0 ? name : undefined;
}
