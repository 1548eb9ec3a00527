/**
 * Writes the exact encoder batches an MLM run sees (`retro pretrain --mlm-only` with the same
 * shards, tokenizer, batch size, seed and mask ratio: same loader, same whole-word masks), so that
 * an independent trainer can replay them: torch_replay.py does, in PyTorch, to separate "our
 * trainer differs" from "our data differs" when losses disagree with a reference run.
 *
 *   node --import tsx benchmarks/experiment/dump-batches.ts SHARDS TOKENIZER_DIR OUT.bin.gz [--steps 1200] [--batch 32] [--seed 42] [--mask 0.3] [--decoder-ratio 0.5]
 *
 * With --decoder-ratio the batches are RetroMAE's (collateRetroMAE, as `retro pretrain` without
 * --mlm-only): each step also holds the decoder's input ids (int16 [batch, length], the unmasked
 * ids) and M, each sequence's real n x n block as packed bits (row-major, most significant bit
 * first, every block padded to whole bytes; 1 = visible). Decoder labels follow from the ids.
 *
 * OUT: gzip of a JSON header line ({steps, batch, length, vocabSize, padTokenId, ...}) followed by,
 * per step, int16 inputIds [batch, length] then int16 labels [batch, length] (-100 = not scored),
 * every row padded to `length` with padTokenId / -100 (the attention mask is inputIds != pad
 * within each row's length, written as int16 lengths [batch] after the labels).
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { AutoTokenizer, BatchLoader, ShardDataset, specialIdsOf } from '@retro/data';
import { collateRetroMAE } from '@retro/enhanced-decoder';
import type { Tensor } from '@retro/tensor';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const [shards, tokenizerDir, out] = positional;
if (!shards || !tokenizerDir || !out) {
  console.error('usage: dump-batches.ts SHARDS TOKENIZER_DIR OUT.bin.gz [--steps 1200] [--batch 32] [--seed 42] [--mask 0.3] [--decoder-ratio 0.5]');
  process.exit(2);
}
const steps = flag('steps', 1200);
const batchSize = flag('batch', 32);
const seed = flag('seed', 42);
const ratio = flag('mask', 0.3);
const decoderRatio = flag('decoder-ratio', 0);
const LENGTH = 128;

async function main(): Promise<void> {
  const tokenizer = await AutoTokenizer.fromPretrained(tokenizerDir);
  const loader = new BatchLoader(ShardDataset.open(shards), {
    batchSize,
    seed,
    epochs: Infinity,
    padTokenId: tokenizer.padTokenId,
    encoderMasking: { ratio, maskTokenId: tokenizer.maskTokenId, vocabSize: tokenizer.vocabSize, specialIds: specialIdsOf(tokenizer) },
  });
  const header = { steps, batch: batchSize, length: LENGTH, vocabSize: tokenizer.vocabSize, padTokenId: tokenizer.padTokenId, seed, maskRatio: ratio, decoderRatio: decoderRatio || null, shards };
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(header)}\n`)];
  let scored = 0;
  for (let step = 0; step < steps; step++) {
    const batch = loader.next();
    if (!batch) throw new Error(`dump-batches: the loader ended at step ${step}`);
    const [B, L] = batch.shape;
    if (B !== batchSize || L > LENGTH) throw new Error(`dump-batches: step ${step} has shape [${B}, ${L}], expected [${batchSize}, <=${LENGTH}]`);
    const ids = new Int16Array(batchSize * LENGTH).fill(tokenizer.padTokenId);
    const labels = new Int16Array(batchSize * LENGTH).fill(-100);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < L; i++) {
        ids[b * LENGTH + i] = batch.encoderInputIds![b * L + i];
        labels[b * LENGTH + i] = batch.encoderLabels![b * L + i];
        if (batch.encoderLabels![b * L + i] !== -100) scored++;
      }
    }
    parts.push(Buffer.from(ids.buffer), Buffer.from(labels.buffer), Buffer.from(Int16Array.from(batch.lengths).buffer));
    if (decoderRatio > 0) {
      // the same call `retro pretrain` makes, so M is the one that run sampled
      const collated = collateRetroMAE(batch, { decoderRatio, seed });
      const decoderIds = new Int16Array(batchSize * LENGTH).fill(tokenizer.padTokenId);
      const sourceIds = (collated.decoderInputIds as Tensor).toInt32Array();
      for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) decoderIds[b * LENGTH + i] = sourceIds[b * L + i];
      parts.push(Buffer.from(decoderIds.buffer));
      const m = (collated.decoderAttentionMask as Tensor).toInt32Array();
      for (let b = 0; b < B; b++) {
        const n = batch.lengths[b];
        const bits = new Uint8Array(Math.ceil((n * n) / 8));
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (m[b * L * L + i * L + j]) bits[(i * n + j) >> 3] |= 0x80 >> ((i * n + j) & 7);
          }
        }
        parts.push(Buffer.from(bits.buffer));
      }
    }
  }
  writeFileSync(out, gzipSync(Buffer.concat(parts), { level: 6 }));
  console.log(`wrote ${steps} batches of [${batchSize}, ${LENGTH}] (${scored} scored tokens) to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
