import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpeTrainer, WordPieceVocabBuilder, readDocuments, tokenizerFor } from '@retro/data';
import type { TokenizerOptions } from '../commands/tokenizer.js';

/** Files of --input: files as given, folders expanded to their .json/.jsonl/.txt files in name order. */
function corpusFiles(inputs: readonly string[]): string[] {
  return inputs.flatMap((path) =>
    statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => /\.(json|jsonl|txt)$/i.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path],
  );
}

/** `retro tokenizer`: streams the corpus once into the builder and saves the tokenizer folder. */
export async function runBuildTokenizer(options: TokenizerOptions, onProgress?: (documents: number) => void): Promise<{ vocabSize: number; documents: number; files: number }> {
  const files = corpusFiles(options.input);
  if (files.length === 0) throw new Error(`retro tokenizer: no .json/.jsonl/.txt files in ${options.input.join(', ')}`);
  let documents = 0;
  async function* texts(): AsyncGenerator<string> {
    for await (const doc of readDocuments(files)) {
      documents++;
      if (documents % 1000 === 0) onProgress?.(documents);
      yield doc.text;
    }
  }
  if (options.type === 'bpe') {
    const trainer = new ByteLevelBpeTrainer({ vocabSize: options.vocabSize, minFrequency: options.minFrequency });
    await trainer.addAll(texts());
    const tokenizer = trainer.toTokenizer();
    await tokenizer.save(options.output);
    return { vocabSize: tokenizer.vocabSize, documents, files: files.length };
  }
  const builder = new WordPieceVocabBuilder({
    minCharFrequency: options.minCharFrequency,
    minWordFrequency: options.minWordFrequency,
    normalizer: { lowercase: options.lowercase, stripAccents: options.lowercase },
  });
  await builder.addAll(texts());
  const vocab = builder.build();
  const tokenizer = tokenizerFor(vocab);
  await tokenizer.save(options.output);
  return { vocabSize: vocab.vocab.length, documents, files: files.length };
}
