import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BertConfig, RobertaConfig } from '@retro/bert';
import { alignTokenizerMaxLength } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/run-tiny.js';

afterAll(removeTempDirs);

const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('alignTokenizerMaxLength', () => {
  it("BERT: model_max_length becomes max_position_embeddings; the other fields stay", () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), new BertConfig({ vocabSize: 10, maxPositionEmbeddings: 128 }).toJsonString());
    writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n[UNK]\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, model_max_length: 512, tokenizer_class: 'BertTokenizer' }));
    expect(alignTokenizerMaxLength(dir)).toBe(128);
    expect(read(join(dir, 'tokenizer_config.json'))).toEqual({ do_lower_case: false, model_max_length: 128, tokenizer_class: 'BertTokenizer' });
  });

  it('RoBERTa: positions start after pad_token_id, so 130 positions with pad 1 hold 128 tokens', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), new RobertaConfig({ vocabSize: 10, maxPositionEmbeddings: 130, padTokenId: 1 }).toJsonString());
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    expect(alignTokenizerMaxLength(dir)).toBe(128);
    // No tokenizer_config.json was there: one holding only this field is written.
    expect(read(join(dir, 'tokenizer_config.json'))).toEqual({ model_max_length: 128 });
  });

  it('replaces a symlinked tokenizer_config.json instead of writing through it', () => {
    const dir = tempDir();
    const elsewhere = join(tempDir(), 'tokenizer_config.json');
    writeFileSync(elsewhere, JSON.stringify({ model_max_length: 512 }));
    writeFileSync(join(dir, 'config.json'), new BertConfig({ vocabSize: 10, maxPositionEmbeddings: 64 }).toJsonString());
    writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n');
    symlinkSync(elsewhere, join(dir, 'tokenizer_config.json'));
    expect(alignTokenizerMaxLength(dir)).toBe(64);
    expect(read(join(dir, 'tokenizer_config.json'))).toEqual({ model_max_length: 64 });
    expect(read(elsewhere)).toEqual({ model_max_length: 512 });
  });

  it('leaves folders alone that hold no tokenizer or no BERT/RoBERTa config', () => {
    const noTokenizer = tempDir();
    writeFileSync(join(noTokenizer, 'config.json'), new BertConfig({ vocabSize: 10 }).toJsonString());
    expect(alignTokenizerMaxLength(noTokenizer)).toBeUndefined();
    const other = tempDir();
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'config.json'), JSON.stringify({ model_type: 'gpt2' }));
    writeFileSync(join(other, 'vocab.txt'), '[PAD]\n');
    writeFileSync(join(other, 'tokenizer_config.json'), '{"model_max_length":512}');
    expect(alignTokenizerMaxLength(other)).toBeUndefined();
    expect(read(join(other, 'tokenizer_config.json'))).toEqual({ model_max_length: 512 });
  });
});
