/**
 * Issue #16's last step: a model fine-tuned by `retro finetune` and exported by `retro export`
 * carries the pooling it was trained with into the sentence-transformers files (CLS by default,
 * mean when fine-tuned with --pooling mean), and the exported encoder gives the fine-tuned
 * checkpoint's hidden states.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoModel } from '@retro/bert';
import { main } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-ft-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const base = fileURLToPath(new URL('../../../test-fixtures/hf-encoder/bert-for-masked-lm', import.meta.url));
const triples = join(root, 'triples.jsonl');
writeFileSync(
  triples,
  Array.from({ length: 8 }, (_, i) => JSON.stringify({ query: `查询 ${i} 天气`, pos: [`今天 天气 ${i}`], neg: [`股票 ${i} 上涨`] })).join('\n') + '\n',
);

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(argv, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stderr };
}

async function finetuneAndExport(name: string, extra: string[]): Promise<{ checkpoint: string; exported: string }> {
  const runDir = join(root, name);
  const ft = await run(['finetune', '--model', base, '--triples', triples, '--output', runDir, '--total-steps', '2', '--batch-size', '4', '--no-progress', ...extra]);
  expect(ft.code, ft.stderr).toBe(0);
  const checkpoint = join(runDir, readdirSync(runDir).filter((f) => f.startsWith('checkpoint-')).sort().at(-1)!);
  const exported = join(root, `${name}-exported`);
  const ex = await run(['export', '--model', checkpoint, '--output', exported]);
  expect(ex.code, ex.stderr).toBe(0);
  return { checkpoint, exported };
}

const pooling = (dir: string) => JSON.parse(readFileSync(join(dir, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;

describe('finetune -> export', () => {
  it('a CLS fine-tune (the default) exports CLS pooling and the fine-tuned encoder', async () => {
    const { checkpoint, exported } = await finetuneAndExport('cls', []);
    expect(pooling(exported)).toMatchObject({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: false });
    const ids = [[2, 17, 40, 9, 5, 3]];
    const a = AutoModel.fromPretrained(checkpoint).encode(ids).dataSync();
    const b = AutoModel.fromPretrained(exported).encode(ids).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    // the fine-tune moved the weights: the export is not the untouched base
    const c = AutoModel.fromPretrained(base).encode(ids).dataSync();
    expect(Array.from(b)).not.toEqual(Array.from(c));
  });

  it('a mean-pooling fine-tune exports mean pooling, from a checkpoint and from best/; embed and eval then pool by mean unless told', async () => {
    const dev = join(root, 'dev.jsonl');
    writeFileSync(dev, Array.from({ length: 6 }, (_, i) => JSON.stringify({ sentence1: `今天 天气 ${i}`, sentence2: `查询 ${i % 3} 天气`, score: i % 3 })).join('\n') + '\n');
    const { exported } = await finetuneAndExport('mean', ['--pooling', 'mean', '--dev', dev, '--eval-every', '1']);
    expect(pooling(exported)).toMatchObject({ pooling_mode_cls_token: false, pooling_mode_mean_tokens: true });
    // best/ holds no trainer_state.json: its best.json says the pooling.
    const fromBest = join(root, 'mean-best-exported');
    const ex = await run(['export', '--model', join(root, 'mean', 'best'), '--output', fromBest]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(pooling(fromBest)).toMatchObject({ pooling_mode_cls_token: false, pooling_mode_mean_tokens: true });

    const texts = join(root, 'texts.txt');
    writeFileSync(texts, '今天 天气 1\n股票 上涨\n');
    const embed = async (name: string, extra: string[]) => {
      const out = join(root, `${name}.jsonl`);
      const result = await run(['embed', '--model', fromBest, '--input', texts, '--output', out, ...extra]);
      expect(result.code, result.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    const byDefault = await embed('default', []);
    expect(byDefault).toBe(await embed('mean', ['--pooling', 'mean']));
    expect(byDefault).not.toBe(await embed('cls', ['--pooling', 'cls']));
  });
});
