/**
 * How hard is the MLM task under each word grouping? Scores a trained checkpoint's MLM loss on the
 * same chunks masked two ways: whole jieba words (what `retro prepare` records by default) and
 * single characters (every token its own word, as HF's DataCollatorForWholeWordMask does for
 * Chinese text without a `chinese_ref` file). Eval mode, no dropout, same masking ratio.
 *
 *   node --import tsx benchmarks/experiment/mask-probe.ts CHECKPOINT_DIR SHARDS_DIR [--batches 8] [--ratio 0.3] [--json FILE]
 *
 * Shapes: ids [B, L] -> logits [B, L, V]; loss = mean cross-entropy over the selected positions.
 */
import { writeFileSync } from 'node:fs';
import { AutoModelForMaskedLM } from '@retro/bert';
import { BatchLoader, Generator, maskBatch, ShardDataset, type Batch } from '@retro/data';
import { noGrad, tensor } from '@retro/tensor';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const [checkpoint, shards] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!checkpoint || !shards) {
  console.error('usage: mask-probe.ts CHECKPOINT_DIR SHARDS_DIR [--batches 8] [--ratio 0.3] [--json FILE]');
  process.exit(2);
}
const batches = Number(flag('batches', '8'));
const ratio = Number(flag('ratio', '0.3'));

const model = AutoModelForMaskedLM.fromPretrained(checkpoint);
model.eval();
const dataset = ShardDataset.open(shards);
const t = dataset.manifest.tokenizer;
const loader = BatchLoader.fromDataset(dataset, { batchSize: 32, seed: 1234, encoderMaskRatio: false });
const plan = { ratio, maskTokenId: t.maskTokenId, vocabSize: t.vocabSize, specialIds: t.specialIds };

/** Mean CE over selected positions, weighted by their count across batches. */
const totals = { jieba: { sum: 0, n: 0, words: 0 }, char: { sum: 0, n: 0, words: 0 } };
/** Jieba masking only: summed CE and count per MaskKind (1 [MASK], 2 random, 3 kept). */
const byKind = new Map<number, { sum: number; n: number }>();
let wordTokens = 0;
let realTokens = 0;
noGrad(() => {
  for (let k = 0; k < batches; k++) {
    const batch = loader.next() as Batch;
    const [B, L] = batch.shape;
    for (let i = 0; i < B * L; i++) {
      if (batch.attentionMask[i]) {
        realTokens++;
        wordTokens += batch.wordStarts[i]!;
      }
    }
    for (const grouping of ['jieba', 'char'] as const) {
      const view = grouping === 'jieba' ? batch : { ...batch, wordStarts: Uint8Array.from(batch.attentionMask) };
      const masked = maskBatch(view, new Generator(1000 + k), plan);
      const out = model.forward({
        inputIds: tensor(masked.encoderInputIds, [B, L]),
        attentionMask: tensor(Int32Array.from(batch.attentionMask), [B, L]),
        labels: tensor(masked.encoderLabels, [B, L]),
      });
      let n = 0;
      for (const v of masked.encoderLabels) if (v !== -100) n++;
      totals[grouping].sum += out.loss!.item() * n;
      totals[grouping].n += n;
      if (grouping === 'jieba') {
        const logits = out.logits.dataSync();
        const V = t.vocabSize;
        for (let i = 0; i < B * L; i++) {
          const label = masked.encoderLabels[i]!;
          if (label === -100) continue;
          let max = -Infinity;
          for (let v = 0; v < V; v++) max = Math.max(max, logits[i * V + v]!);
          let z = 0;
          for (let v = 0; v < V; v++) z += Math.exp(logits[i * V + v]! - max);
          const ce = Math.log(z) + max - logits[i * V + label]!;
          const kind = masked.encoderMaskKinds[i]!;
          const k = byKind.get(kind) ?? { sum: 0, n: 0 };
          k.sum += ce;
          k.n++;
          byKind.set(kind, k);
        }
      }
    }
  }
});
const result = {
  checkpoint,
  batches,
  ratio,
  tokensPerJiebaWord: realTokens / wordTokens,
  jiebaWordMaskingLoss: totals.jieba.sum / totals.jieba.n,
  charMaskingLoss: totals.char.sum / totals.char.n,
  scoredTokens: { jieba: totals.jieba.n, char: totals.char.n },
  jiebaLossByKind: Object.fromEntries([...byKind].sort((a, b) => a[0] - b[0]).map(([kind, k]) => [['none', 'mask', 'random', 'kept'][kind], { loss: k.sum / k.n, count: k.n }])),
};
console.log(JSON.stringify(result, null, 2));
const json = flag('json', '');
if (json) writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
