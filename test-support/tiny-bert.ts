/** A tiny BERT folder (config.json, model.safetensors, vocab.txt) and texts over its characters, for fast tests. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertForMaskedLM } from '@retro/bert';

export const CHARS = Array.from('一二三四五六七八九十天地人日月山水火木金土上下大小中国猫狗鸟鱼花草');

export function tempDir(prefix = 'retro-ft-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes the folder and returns its path. */
export function tinyModelDir(options: { dropout?: number; seed?: number; dir?: string } = {}): string {
  const dir = options.dir ?? tempDir();
  mkdirSync(dir, { recursive: true });
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...CHARS];
  const model = new BertForMaskedLM(
    {
      vocabSize: vocab.length,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 32,
      maxPositionEmbeddings: 32,
      hiddenDropoutProb: options.dropout ?? 0.1,
      attentionProbsDropoutProb: options.dropout ?? 0.1,
      // wide init: at HF's 0.02 a tiny random model maps every text to nearly the same vector, and
      // contrastive gradients become near-cancelling sums that float32 cannot compare tightly
      initializerRange: 0.3,
    },
    { seed: options.seed ?? 3 },
  );
  model.savePretrained(dir);
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  return dir;
}

/** Deterministic short texts over CHARS. */
export function texts(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: count }, () => {
    const length = 3 + (next() % 8);
    return Array.from({ length }, () => CHARS[next() % CHARS.length]).join('');
  });
}
