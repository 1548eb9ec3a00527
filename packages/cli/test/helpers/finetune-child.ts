/**
 * A fine-tuning run in its own process, so a test can SIGKILL it: prints one JSON line per update
 * ({step, loss}) and "done" at the end.
 *   node --import tsx finetune-child.ts MODEL_DIR TRIPLES DEV OUTPUT_DIR TOTAL [--resume]
 */
import { readScoredPairs, readTriples } from '@retro/finetune';
import { finetune } from '../../src/pipelines/finetune-run.js';

const [modelDir, triples, dev, outputDir, total, ...flags] = process.argv.slice(2);
const result = await finetune({
  modelDir,
  data: { kind: 'triples', items: readTriples(triples) },
  batchSize: 4,
  group: 2,
  temperature: 0.05,
  symmetric: true,
  chunkSize: 3,
  maxLength: 16,
  dev: readScoredPairs(dev),
  evalEvery: 4,
  loop: {
    outputDir,
    seed: 7,
    totalSteps: Number(total),
    optimizer: { lr: 3e-3, weightDecay: 0.01 },
    schedule: { kind: 'linear', warmupSteps: 2 },
    checkpointEvery: 3,
    keepCheckpoints: 2,
    logEvery: 2,
    resume: flags.includes('--resume'),
    progress: false,
    onStep: (info) => {
      process.stdout.write(`${JSON.stringify({ step: info.step, loss: info.losses.loss })}\n`);
    },
  },
});
process.stdout.write(`${JSON.stringify({ best: result.best?.step ?? null, dev: result.dev.length })}\ndone\n`);
