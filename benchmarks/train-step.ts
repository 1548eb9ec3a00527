/**
 * Cost of the training-loop pieces around the model, per optimizer step, at BERT-small-ish
 * parameter counts (vocab 8000, hidden 256, 4 layers, ffn 1024: ~5.3M parameters; --quick: ~0.7M):
 * global grad norm + clipping, the AdamW kernel over every parameter, and one atomic checkpoint
 * save (model + optimizer.safetensors + trainer_state.json).
 *
 *   npm run bench:train -- [--json FILE] [--quick] [--reps N]
 *
 * SKELETON: the full step (RetroMAEForPretraining forward + backward on a real batch, tokens/s)
 * is TODO(lead) once @retro/enhanced-decoder and the @retro/data loader exist — add it as another
 * row so the loop overhead below can be read against the model time in the same run.
 * JSON rows: {piece, params, ms, reps}.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TensorModule from '../packages/tensor/src/index.js';
import type * as TrainModule from '../packages/train/src/index.js';
import { parseArgs, writeJson } from './lib/io.js';
import { median, timeMs } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';

interface Row {
  piece: string;
  params: number;
  ms: number;
  reps: number;
}

/** Parameter shapes of a BERT-like encoder (names as HF writes them, so the no-decay rule applies). */
function bertShapes(vocab: number, hidden: number, layers: number, ffn: number): Array<[string, number[]]> {
  const shapes: Array<[string, number[]]> = [
    ['bert.embeddings.word_embeddings.weight', [vocab, hidden]],
    ['bert.embeddings.position_embeddings.weight', [512, hidden]],
    ['bert.embeddings.LayerNorm.weight', [hidden]],
    ['bert.embeddings.LayerNorm.bias', [hidden]],
  ];
  for (let i = 0; i < layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    for (const name of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      shapes.push([`${p}.${name}.weight`, [hidden, hidden]], [`${p}.${name}.bias`, [hidden]]);
    }
    shapes.push([`${p}.intermediate.dense.weight`, [ffn, hidden]], [`${p}.intermediate.dense.bias`, [ffn]]);
    shapes.push([`${p}.output.dense.weight`, [hidden, ffn]], [`${p}.output.dense.bias`, [hidden]]);
  }
  return shapes;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const reps = Number(args.flags.reps ?? (args.quick ? 5 : 10));
  // import() rather than static imports: see benchmarks/ops.ts (one engine instance).
  const T: typeof TensorModule = await import('../packages/tensor/src/index.js');
  const train: typeof TrainModule = await import('../packages/train/src/index.js');

  const shapes = args.quick ? bertShapes(2000, 128, 2, 512) : bertShapes(8000, 256, 4, 1024);
  const named = shapes.map(([name, shape], i) => {
    const p = T.randn(shape, { seed: i, std: 0.02, requiresGrad: true });
    p.grad = T.randn(shape, { seed: 1000 + i, std: 0.01 });
    return [name, p] as [string, TensorModule.Tensor];
  });
  const params = named.map(([, p]) => p);
  const count = params.reduce((sum, p) => sum + p.size, 0);
  const optimizer = new train.AdamW(named, { lr: 1e-4, weightDecay: 0.01 });

  const measure = (piece: string, fn: () => void): Row => {
    fn();
    const times = Array.from({ length: reps }, () => timeMs(fn));
    return { piece, params: count, ms: median(times), reps };
  };
  const rows: Row[] = [
    measure('global grad norm', () => train.globalGradNorm(params)),
    measure('clipGradNorm (clips)', () => train.clipGradNorm(params, 1e-3)),
    measure('AdamW step', () => optimizer.step()),
  ];

  const dir = mkdtempSync(join(tmpdir(), 'retro-bench-'));
  try {
    let step = 0;
    const writeModel = (target: string): void => {
      const tensors = new Map(named.map(([name, p]) => [name, { shape: [...p.shape], data: p.toFloat32Array() }]));
      writeFileSync(join(target, 'model.safetensors'), train.encodeSafetensors(tensors));
    };
    const save = async (): Promise<void> => {
      step += 1;
      const state = optimizer.stateDict();
      // Only the fields a save touches; a real run fills the rest.
      const trainerState = { format: 'retro-trainer-state', version: 1, step, optimizer: { steps: state.steps } } as unknown as TrainModule.TrainerState;
      await train.saveCheckpoint(dir, { writeModel, optimizerTensors: state.tensors, state: trainerState });
      train.pruneCheckpoints(dir, 1);
    };
    await save();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await save();
      times.push(performance.now() - t0);
    }
    rows.push({ piece: 'checkpoint save (fsync)', params: count, ms: median(times), reps });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // TODO(lead): rows.push(measure('RetroMAE forward+backward', ...)) and tokens/s for a full train() step.

  console.log(`train-step pieces, ${count.toLocaleString()} parameters, median of ${reps} (backend ${T.getBackend().name})\n`);
  console.log(formatTable(rows, [
    { header: 'piece', value: (r) => r.piece },
    { header: 'ms', value: (r) => fmt(r.ms) },
    { header: 'ns/param', value: (r) => fmt((r.ms * 1e6) / r.params) },
  ]));
  if (args.json) writeJson(args.json, { benchmark: 'train-step', backend: T.getBackend().name, rows });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
