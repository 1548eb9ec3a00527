/** `retro tokenizer`: WordPiece and byte-level BPE vocabularies from a small corpus, loadable by AutoTokenizer. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoTokenizer, BertTokenizer, RobertaTokenizer } from '@retro/data';
import { main } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-tokenizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const corpus = join(root, 'corpus');
mkdirSync(corpus);
// WuDao JSON and a text file: 床 appears 4 times, 霜 3 times, 鸟 once; "hello" 3 times.
writeFileSync(join(corpus, 'part-000.json'), JSON.stringify([
  { id: 0, uniqueKey: 'a', titleUkey: 't', dataType: '句子', title: '', content: '床前明月光 hello' },
  { id: 1, uniqueKey: 'b', titleUkey: 't', dataType: '句子', title: '', content: '疑是地上霜 hello' },
]));
writeFileSync(join(corpus, 'more.txt'), '床前霜\n床床霜 hello\n鸟\n');

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await main(argv, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stderr };
}

describe('retro tokenizer', () => {
  it('--type wordpiece keeps characters by frequency and writes a BERT tokenizer folder', async () => {
    const out = join(root, 'wp');
    const { code, stderr } = await run(['tokenizer', '--input', corpus, '--output', out, '--min-char-frequency', '3', '--min-word-frequency', '3']);
    expect(code, stderr).toBe(0);
    const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').trim().split('\n');
    expect(vocab.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(vocab).toContain('床');
    expect(vocab).toContain('霜');
    expect(vocab).not.toContain('鸟');
    expect(vocab).toContain('hello');
    const tokenizer = await AutoTokenizer.fromPretrained(out);
    expect(tokenizer).toBeInstanceOf(BertTokenizer);
    expect(tokenizer.tokenize('床 鸟 hello')).toEqual(['床', '[UNK]', 'hello']);
    expect(stderr).toMatch(/wordpiece vocabulary of \d+ tokens from 5 documents \(2 files\)/);
  });

  it('--type bpe writes a RoBERTa tokenizer of the asked size', async () => {
    const out = join(root, 'bpe');
    const { code, stderr } = await run(['tokenizer', '--input', join(corpus, 'more.txt'), '--type', 'bpe', '--vocab-size', '270', '--min-frequency', '2', '--output', out]);
    expect(code, stderr).toBe(0);
    const tokenizer = await AutoTokenizer.fromPretrained(out);
    expect(tokenizer).toBeInstanceOf(RobertaTokenizer);
    expect(tokenizer.vocabSize).toBeLessThanOrEqual(270);
    expect(tokenizer.vocabSize).toBeGreaterThan(261);
    expect(tokenizer.decode(tokenizer.encode('床前霜 hello').ids, { skipSpecialTokens: true })).toBe('床前霜 hello');
  });

  it('refuses a non-empty output without --overwrite', async () => {
    const { code, stderr } = await run(['tokenizer', '--input', corpus, '--output', corpus]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--output/);
  });
});
