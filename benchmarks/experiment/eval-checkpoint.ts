/**
 * Scores one checkpoint on the experiment's tasks exactly as run.ts does (lib/score-checkpoint.ts),
 * outside the experiment's state: for weights trained elsewhere, e.g. torch_replay.py's PyTorch
 * RetroMAE merged by merge_safetensors.py.
 *
 *   node --import tsx benchmarks/experiment/eval-checkpoint.ts CHECKPOINT_DIR OUT.json [--cmteb ../shared/cmteb-lite]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { scoreCheckpoint } from './lib/score-checkpoint.js';
import { loadExperimentSuite } from './lib/suite.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--cmteb');
  const cmteb = flag >= 0 ? args[flag + 1]! : resolve('..', 'shared', 'cmteb-lite');
  const [dir, out] = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--cmteb');
  if (!dir || !out) {
    console.error('usage: eval-checkpoint.ts CHECKPOINT_DIR OUT.json [--cmteb DIR]');
    process.exit(2);
  }
  const scored = await scoreCheckpoint(loadExperimentSuite(cmteb), dir, { name: dir, batchSize: 64 });
  const results: Record<string, unknown> = { checkpoint: resolve(dir), checkAgainstEncode: scored.check };
  for (const { pooling, result: r } of scored.poolings) {
    results[pooling] = { sts: r.sts?.spearman, rerankingMap: r.reranking?.map, retrievalNdcg10: r.retrieval?.ndcg10 };
    console.log(`${pooling}: retrieval nDCG@10 ${r.retrieval?.ndcg10?.toFixed(1)}, reranking MAP ${r.reranking?.map?.toFixed(1)}, STS ${r.sts?.spearman?.toFixed(1)}`);
  }
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
