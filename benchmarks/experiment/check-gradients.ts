/**
 * Experiment-scale check of the encoder's MLM loss and gradients against an independent float64
 * NumPy implementation (check_gradients.py): a trained checkpoint, a real [B, 128] batch with
 * padding and whole-word masking, eval mode. The unit tests check the same against
 * ../shared/fixtures at small sizes; this one covers the experiment's sequence length and weights.
 *
 *   node --import tsx benchmarks/experiment/check-gradients.ts CHECKPOINT SHARDS OUT.json [--batch 8]
 *   python3 benchmarks/experiment/check_gradients.py OUT.json   (numpy; scipy optional)
 *
 * OUT.json: {checkpoint, B, L, inputIds, attentionMask, labels (all [B*L]), loss, grads: {name: first 4096 values}}.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AutoModelForMaskedLM } from '@retro/bert';
import { BatchLoader, ShardDataset, type Batch } from '@retro/data';
import { tensor } from '@retro/tensor';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const [checkpoint, shards, out] = positional;
if (!checkpoint || !shards || !out) {
  console.error('usage: check-gradients.ts CHECKPOINT SHARDS OUT.json [--batch 8]');
  process.exit(2);
}
const batchFlag = process.argv.indexOf('--batch');
const B = batchFlag > 0 ? Number(process.argv[batchFlag + 1]) : 8;

const model = AutoModelForMaskedLM.fromPretrained(checkpoint);
model.eval();
const loader = BatchLoader.fromDataset(ShardDataset.open(shards), { batchSize: B, seed: 7, padTo: 128 });
const batch = loader.next() as Batch;
const [rows, L] = batch.shape;
const output = model.forward({
  inputIds: tensor(batch.encoderInputIds!, [rows, L]),
  attentionMask: tensor(Int32Array.from(batch.attentionMask), [rows, L]),
  labels: tensor(batch.encoderLabels!, [rows, L]),
});
output.loss!.backward();
const grads: Record<string, number[]> = {};
for (const [name, parameter] of model.namedParameters()) grads[name] = Array.from(parameter.grad!.dataSync().subarray(0, 4096));
writeFileSync(
  out,
  JSON.stringify({
    checkpoint: resolve(checkpoint),
    B: rows,
    L,
    inputIds: Array.from(batch.encoderInputIds!),
    attentionMask: Array.from(batch.attentionMask),
    labels: Array.from(batch.encoderLabels!),
    loss: output.loss!.item(),
    grads,
  }),
);
console.log(`loss ${output.loss!.item()} on [${rows}, ${L}]; wrote ${out}; now: python3 benchmarks/experiment/check_gradients.py ${out}`);
