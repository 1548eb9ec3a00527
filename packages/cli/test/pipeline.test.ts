/**
 * The whole path a user runs, through the real CLI entry point: WuDao corpus -> vocabulary ->
 * `retro prepare` -> `retro pretrain` (RetroMAE, then a resume) -> `retro embed` -> `retro eval`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWordPieceVocab, ShardDataset, writeWordPieceVocab } from '@retro/data';
import { main } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-pipeline-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
  });
  return { code, stdout, stderr };
}

// A small generated corpus: sentences over a fixed set of characters, in WuDao 2.0 layout.
const characters = '天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈';
function makeCorpus(path: string, documents: number): string[] {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const texts: string[] = [];
  for (let d = 0; d < documents; d++) {
    const sentences = 1 + Math.floor(next() * 3);
    let text = '';
    for (let s = 0; s < sentences; s++) {
      const length = 5 + Math.floor(next() * 12);
      for (let c = 0; c < length; c++) text += characters[Math.floor(next() * characters.length)];
      text += '。';
    }
    texts.push(text);
  }
  const records = texts.map((content, id) => JSON.stringify({ id, uniqueKey: `k${id}`, titleUkey: 't', dataType: '句子', title: '', content }));
  writeFileSync(path, `[\n${records.join(',\n')}\n]\n`);
  return texts;
}

describe('retro CLI end to end', () => {
  it('prepares, pretrains RetroMAE with a resume, embeds and evaluates', async () => {
    const corpusDir = join(root, 'corpus');
    mkdirSync(corpusDir);
    const texts = makeCorpus(join(corpusDir, 'part-000.json'), 300);
    const tokenizerDir = join(root, 'tokenizer');
    await writeWordPieceVocab(await buildWordPieceVocab(texts, { minCharFrequency: 1 }), tokenizerDir);

    const shards = join(root, 'shards');
    const prepared = await run(['prepare', '--input', corpusDir, '--tokenizer', tokenizerDir, '--output', shards, '--max-length', '32']);
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(existsSync(join(shards, 'manifest.json'))).toBe(true);

    const runDir = join(root, 'run');
    const common = ['pretrain', '--data', shards, '--output', runDir, '--tokenizer', tokenizerDir, '--hidden-size', '32', '--num-layers', '1', '--num-heads', '2',
      '--intermediate-size', '64', '--batch-size', '8', '--total-steps', '6', '--lr', '1e-3', '--checkpoint-every', '3', '--log-every', '1', '--no-progress'];
    const first = await run([...common, '--stop-at-step', '3']);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await run([...common, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss) && Number.isFinite(m.encoderLoss) && Number.isFinite(m.decoderLoss)).toBe(true);
      expect(m.loss).toBeCloseTo(m.encoderLoss + m.decoderLoss, 4);
    }
    // The finished run is extended only when asked; then the schedule is recomputed and said.
    const silent = await run([...common, '--resume', '--total-steps', '8']);
    expect(silent.code).not.toBe(0);
    expect(silent.stderr).toMatch(/totalSteps is 8 but the checkpoint was made with 6; pass extend \(CLI: --extend\)/);
    const extended = await run([...common, '--resume', '--extend', '--total-steps', '8']);
    expect(extended.code, extended.stderr).toBe(0);
    const after = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(after.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(existsSync(join(runDir, 'loss.svg'))).toBe(true);
    const checkpoint = join(runDir, readdirSync(runDir).filter((d) => d.startsWith('checkpoint-')).sort().pop()!);
    // model_max_length says what the position table holds (128 here), not the copied vocabulary's 512.
    expect(JSON.parse(readFileSync(join(tokenizerDir, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(512);
    expect(JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')).max_position_embeddings).toBe(128);
    expect(JSON.parse(readFileSync(join(checkpoint, 'tokenizer_config.json'), 'utf8')).model_max_length).toBe(128);

    const input = join(root, 'texts.jsonl');
    writeFileSync(input, texts.slice(0, 5).map((text, i) => JSON.stringify({ id: i, text })).join('\n'));
    const vectorsFile = join(root, 'vectors.jsonl');
    const embedded = await run(['embed', '--model', checkpoint, '--input', input, '--output', vectorsFile, '--normalize']);
    expect(embedded.code, embedded.stderr).toBe(0);
    const vectors = readFileSync(vectorsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line).embedding as number[]);
    expect(vectors).toHaveLength(5);
    for (const v of vectors) {
      expect(v).toHaveLength(32);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }

    const suite = join(root, 'suite', 'stsb');
    mkdirSync(suite, { recursive: true });
    writeFileSync(join(suite, 'test.jsonl'), texts.slice(0, 20).map((text, i) => JSON.stringify({ sentence1: text, sentence2: texts[i + 1], score: i % 5 })).join('\n'));
    const evaluated = await run(['eval', '--model', checkpoint, '--data', join(root, 'suite'), '--tasks', 'sts']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/^stsb\s+sts\s+test\s+spearman -?\d/m);
  });

  it('prepare --whole-word picks the word grouping stored for masking: jieba words or single characters', async () => {
    const dir = join(root, 'whole-word');
    mkdirSync(join(dir, 'corpus'), { recursive: true });
    // words jieba knows as words, so jieba grouping must differ from one-token words
    writeFileSync(join(dir, 'corpus', 'part-000.json'), JSON.stringify([{ id: 0, uniqueKey: 'a', titleUkey: 't', dataType: '句子', title: '', content: '中华人民共和国成立了。我们喜欢学习中文。' }]));
    const tokenizerDir = join(dir, 'tokenizer');
    await writeWordPieceVocab(await buildWordPieceVocab(['中华人民共和国成立了。我们喜欢学习中文。'], { minCharFrequency: 1 }), tokenizerDir);
    const starts: Record<string, number[]> = {};
    for (const grouping of ['jieba', 'wordpiece']) {
      const out = join(dir, grouping);
      const result = await run(['prepare', '--input', join(dir, 'corpus'), '--tokenizer', tokenizerDir, '--output', out, '--whole-word', grouping]);
      expect(result.code, result.stderr).toBe(0);
      const shard = ShardDataset.open(out).loadShard(0);
      starts[grouping] = Array.from(shard.wordStarts);
      expect(ShardDataset.open(out).manifest.config?.segmenter).toBe(grouping === 'jieba' ? 'jieba' : 'none');
    }
    expect(starts.wordpiece!.every((s) => s === 1), `wordpiece: ${starts.wordpiece}`).toBe(true);
    expect(starts.jieba!.filter((s) => s === 0).length, `jieba: ${starts.jieba}`).toBeGreaterThan(5);
    const bad = await run(['prepare', '--input', join(dir, 'corpus'), '--tokenizer', tokenizerDir, '--output', join(dir, 'x'), '--whole-word', 'bpe']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/whole-word.*jieba.*wordpiece/s);
  });

  it('prepare --workers N writes the same shards for 1 and 3 workers over 3 files, and refuses 0', async () => {
    const dir = join(root, 'workers');
    mkdirSync(join(dir, 'corpus'), { recursive: true });
    const texts = [0, 1, 2].flatMap((i) => makeCorpus(join(dir, 'corpus', `part-00${i}.json`), 60 + 40 * i));
    const tokenizerDir = join(dir, 'tokenizer');
    await writeWordPieceVocab(await buildWordPieceVocab(texts, { minCharFrequency: 1 }), tokenizerDir);
    const shardsOf = (out: string) => readdirSync(out).filter((f) => f.endsWith('.rshard')).sort().map((f) => [f, readFileSync(join(out, f)).toString('base64')]);
    const outputs: Array<Array<string[]>> = [];
    for (const workers of ['1', '3']) {
      const out = join(dir, `w${workers}`);
      const result = await run(['prepare', '--input', join(dir, 'corpus'), '--tokenizer', tokenizerDir, '--output', out, '--max-length', '32', '--shard-tokens', '2048', '--workers', workers]);
      expect(result.code, result.stderr).toBe(0);
      outputs.push(shardsOf(out));
    }
    expect(outputs[0]!.length, 'several shards').toBeGreaterThan(3);
    expect(outputs[1]).toEqual(outputs[0]);
    const bad = await run(['prepare', '--input', join(dir, 'corpus'), '--tokenizer', tokenizerDir, '--output', join(dir, 'w0'), '--workers', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--workers/);
  }, 120_000);
});
