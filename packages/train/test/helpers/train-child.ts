/**
 * A tiny training run as its own process, for the kill -9 test:
 *   node --import tsx train-child.ts <outputDir> <totalSteps> [--resume]
 * Prints one JSON line per optimizer update ({step, losses}) on stdout, flushed before the next
 * step starts, and `done` at the end. Run from the repository root so tsx maps @retro/* to src.
 */
import { runTiny } from './run-tiny.js';

const [outputDir, total, flag] = process.argv.slice(2);
const write = (line: string): Promise<void> => new Promise((resolve) => process.stdout.write(`${line}\n`, () => resolve()));

await runTiny({
  outputDir,
  totalSteps: Number(total),
  accumulation: 2,
  checkpointEvery: 2,
  keepCheckpoints: 2,
  logEvery: 3,
  data: { count: 7, batchSize: 2 },
  modelOptions: { dropout: 0.2, hidden: 16 },
  resume: flag === '--resume',
  onStep: (info) => write(JSON.stringify({ step: info.step, losses: info.losses })),
});
await write('done');
