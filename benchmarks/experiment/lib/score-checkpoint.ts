/**
 * Scores one checkpoint on the experiment's suite: one forward pass over every text (both
 * poolings from it), then CLS and mean pooling evaluated. run.ts (experiment stages) and
 * eval-checkpoint.ts (weights trained elsewhere) both score through here, so their numbers compare.
 */
import { evaluate, type EvalResult, type TaskSuite } from '@retro/eval';
import { checkAgainstEncode, embedBoth, openCheckpoint } from './embed.js';
import { suiteTexts } from './suite.js';

/** The experiment's sequence length: chunks, the model's positions and evaluation inputs. */
export const MAX_LENGTH = 128;

export interface CheckpointScores {
  /** 1 - cosine between our one-pass pooling and @retro/bert's model.encode on a sample. */
  check: { cls: number; mean: number };
  forwardSeconds: number;
  texts: number;
  poolings: Array<{ pooling: 'cls' | 'mean'; result: EvalResult; scoreSeconds: number }>;
}

export async function scoreCheckpoint(
  suite: TaskSuite,
  dir: string,
  options: { name: string; batchSize: number; meta?: Record<string, unknown>; onBatch?: (done: number, total: number) => void },
): Promise<CheckpointScores> {
  const encoder = await openCheckpoint(dir);
  const texts = suiteTexts(suite);
  // before the long pass: our one-pass pooling must equal @retro/bert's model.encode
  const check = checkAgainstEncode(encoder, texts.filter((_, i) => i % 97 === 0).slice(0, 40), MAX_LENGTH);
  const t0 = Date.now();
  const vectors = embedBoth(encoder, texts, { batchSize: options.batchSize, maxLength: MAX_LENGTH, onBatch: options.onBatch });
  const forwardSeconds = (Date.now() - t0) / 1000;
  const poolings: CheckpointScores['poolings'] = [];
  for (const pooling of ['cls', 'mean'] as const) {
    const map = vectors[pooling];
    const t1 = Date.now();
    const result = await evaluate(suite, { name: `${options.name} (${pooling})`, embed: (batch) => batch.map((t) => map.get(t)!) }, { batchSize: 4096, meta: { checkpoint: dir, pooling, ...options.meta } });
    poolings.push({ pooling, result, scoreSeconds: (Date.now() - t1) / 1000 });
  }
  return { check, forwardSeconds, texts: texts.length, poolings };
}
