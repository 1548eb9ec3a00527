/** AutoTokenizer.fromFiles: tokenizer folders held in memory as text (browser uploads). */
import { describe, expect, it } from 'vitest';
import { AutoTokenizer, BertTokenizer, RobertaTokenizer } from '../src/index.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '床', '前', '明', '月', '光', 'hello', '##world'];

describe('AutoTokenizer.fromFiles', () => {
  it('vocab.txt alone gives a BertTokenizer with the usual ids', () => {
    const tok = AutoTokenizer.fromFiles({ 'vocab.txt': `\uFEFF${VOCAB.join('\n')}\n` }, 'up');
    expect(tok).toBeInstanceOf(BertTokenizer);
    expect(tok.encode('床前 helloworld 光').ids).toEqual([2, 5, 6, 10, 11, 9, 3]);
  });

  it('hfFiles() round-trips through tokenizer.json, casing from tokenizer_config.json', () => {
    const files = new BertTokenizer(VOCAB, { doLowerCase: true }).hfFiles();
    expect(Object.keys(files).sort()).toEqual(['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    const tok = AutoTokenizer.fromFiles(files);
    expect(tok.encode('HELLOworld 明月').ids).toEqual([2, 10, 11, 7, 8, 3]);
    const cased = AutoTokenizer.fromFiles({ 'vocab.txt': files['vocab.txt'], 'tokenizer_config.json': '{"do_lower_case": false}' });
    expect(cased.encode('HELLO').ids).toEqual([2, 1, 3]);
  });

  it('vocab.json + merges.txt gives a RobertaTokenizer', () => {
    const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, h: 4, i: 5, hi: 6, '<mask>': 7 };
    const tok = AutoTokenizer.fromFiles({ 'vocab.json': JSON.stringify(vocab), 'merges.txt': '#version: 0.2\nh i\n' });
    expect(tok).toBeInstanceOf(RobertaTokenizer);
    expect(tok.encode('hi').ids).toEqual([0, 6, 2]);
  });

  it('names the file for bad or missing input', () => {
    expect(() => AutoTokenizer.fromFiles({ 'tokenizer.json': '{"model": ' }, 'up')).toThrow(/up\/tokenizer\.json is not valid JSON/);
    expect(() => AutoTokenizer.fromFiles({ 'tokenizer.json': '{"model": {"type": "Unigram"}}' }, 'up')).toThrow(/up\/tokenizer\.json: field 'model\.type' is "Unigram", expected "WordPiece" or "BPE"/);
    expect(() => AutoTokenizer.fromFiles({ 'config.json': '{}' }, 'up')).toThrow(/up has none of tokenizer\.json, vocab\.txt, vocab\.json \+ merges\.txt/);
  });
});
