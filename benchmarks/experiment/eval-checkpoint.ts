/**
 * Scores one checkpoint on the experiment's tasks exactly as run.ts does (one forward pass, CLS
 * and mean pooling, the same suite and max length), outside the experiment's state: for weights
 * trained elsewhere, e.g. torch_replay.py's PyTorch RetroMAE merged by merge_safetensors.py.
 *
 *   node --import tsx benchmarks/experiment/eval-checkpoint.ts CHECKPOINT_DIR OUT.json [--cmteb ../shared/cmteb-lite]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluate } from '@retro/eval';
import { checkAgainstEncode, embedBoth, openCheckpoint } from './lib/embed.js';
import { loadExperimentSuite, suiteTexts } from './lib/suite.js';

const MAX_LENGTH = 128;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--cmteb');
  const cmteb = flag >= 0 ? args[flag + 1]! : resolve('..', 'shared', 'cmteb-lite');
  const [dir, out] = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--cmteb');
  if (!dir || !out) {
    console.error('usage: eval-checkpoint.ts CHECKPOINT_DIR OUT.json [--cmteb DIR]');
    process.exit(2);
  }
  const suite = loadExperimentSuite(cmteb);
  const encoder = await openCheckpoint(dir);
  const texts = suiteTexts(suite);
  const check = checkAgainstEncode(encoder, texts.filter((_, i) => i % 97 === 0).slice(0, 40), MAX_LENGTH);
  const vectors = embedBoth(encoder, texts, { batchSize: 64, maxLength: MAX_LENGTH });
  const results: Record<string, unknown> = { checkpoint: resolve(dir), checkAgainstEncode: check };
  for (const pooling of ['cls', 'mean'] as const) {
    const map = vectors[pooling];
    const r = await evaluate(suite, { name: `${dir} (${pooling})`, embed: (batch) => batch.map((t) => map.get(t)!) }, { batchSize: 4096 });
    results[pooling] = { sts: r.sts?.spearman, rerankingMap: r.reranking?.map, retrievalNdcg10: r.retrieval?.ndcg10 };
    console.log(`${pooling}: retrieval nDCG@10 ${r.retrieval?.ndcg10?.toFixed(1)}, reranking MAP ${r.reranking?.map?.toFixed(1)}, STS ${r.sts?.spearman?.toFixed(1)}`);
  }
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
