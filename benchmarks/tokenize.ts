/**
 * Tokenizer throughput: @retro/data's BertTokenizer vs HF's JS implementation
 * (@huggingface/tokenizers) built from the same tokenizer.json, on shared corpus documents.
 *
 *   npm run bench:tokenize -- [--json FILE] [--quick] [--docs N] [--reps N] [--warmup N]
 *                             [--vocab PATH] [--shared DIR]
 *
 * The vocabulary is ../shared/experiment/vocab.txt (the reference run's, lower-cased BERT-Chinese
 * style) unless --vocab is given; it is saved as tokenizer.json by BertTokenizer and both
 * implementations load that. Each variant runs `warmup` passes over the documents, then `reps`
 * interleaved passes; medians are reported. MB/s counts UTF-8 input bytes; tokens/s counts the
 * ids of `encode` (specials included), the same number for every variant. `ours cold` is one pass
 * of a freshly built tokenizer (empty word cache). Ids are checked equal before timing.
 * JSON: {config, rows: [{impl, variant, ms, mbPerS, tokensPerS, reps}]}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, timeMs, interleaved } from './lib/stats.js';
import { fmt, formatTable } from './lib/table.js';
import { parseArgs, writeJson } from './lib/io.js';

interface Row {
  impl: string;
  variant: string;
  ms: number;
  mbPerS: number;
  tokensPerS: number;
  reps: number;
}

async function main(): Promise<void> {
  const args = parseArgs();
  const num = (name: string, dflt: number): number => {
    const v = args.flags[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`bench:tokenize: --${name} must be a non-negative integer, found ${String(v)}`);
    return n;
  };
  const shared = typeof args.flags.shared === 'string' ? args.flags.shared : resolve(process.cwd(), '..', 'shared');
  const vocabPath = typeof args.flags.vocab === 'string' ? args.flags.vocab : join(shared, 'experiment', 'vocab.txt');
  const part = join(shared, 'corpus', 'part-000.json');
  for (const p of [vocabPath, part]) {
    if (!existsSync(p)) throw new Error(`bench:tokenize: ${p} not found (pass --shared DIR or --vocab PATH)`);
  }
  const nDocs = num('docs', args.quick ? 1000 : 5000);
  const reps = num('reps', args.quick ? 3 : 7);
  const warmup = num('warmup', 1);

  // Imported here: this file may run as CommonJS, the tokenizers are ESM.
  const { BertTokenizer } = await import('../packages/data/src/tokenizers/index.js');
  const { Tokenizer } = await import('@huggingface/tokenizers');

  const docs = (JSON.parse(readFileSync(part, 'utf8')) as { content: string }[]).slice(0, nDocs).map((d) => d.content);
  const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d, 'utf8'), 0);
  const vocabText = readFileSync(vocabPath, 'utf8');
  const ours = BertTokenizer.fromVocabText(vocabText);
  const json = ours.toTokenizerJson();
  const hf = new Tokenizer(json as never, ours.tokenizerConfig());

  let tokens = 0;
  let mismatches = 0;
  for (const d of docs) {
    const a = ours.encode(d).ids;
    const b = hf.encode(d).ids;
    tokens += a.length;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) mismatches++;
  }
  if (mismatches > 0) console.log(`WARNING: ids differ on ${mismatches}/${docs.length} documents`);

  const coldMs = timeMs(() => {
    const fresh = BertTokenizer.fromVocabText(vocabText);
    for (const d of docs) fresh.encode(d);
  });
  let sink = 0;
  const variants: { impl: string; variant: string; run: () => void }[] = [
    { impl: 'ours', variant: 'encode (ids, tokens, masks)', run: () => docs.forEach((d) => (sink += ours.encode(d).ids.length)) },
    { impl: 'ours', variant: 'encodeIds (ids only)', run: () => docs.forEach((d) => (sink += ours.encodeIds(d).ids.length)) },
    { impl: '@huggingface/tokenizers', variant: 'encode', run: () => docs.forEach((d) => (sink += hf.encode(d).ids.length)) },
  ];
  const times = interleaved(variants.map((v) => v.run), reps, warmup);
  const row = (impl: string, variant: string, ms: number, n: number): Row => ({
    impl,
    variant,
    ms,
    mbPerS: bytes / 1e6 / (ms / 1e3),
    tokensPerS: tokens / (ms / 1e3),
    reps: n,
  });
  const rows = [row('ours', 'encode, cold (new tokenizer, empty cache)', coldMs, 1), ...variants.map((v, i) => row(v.impl, v.variant, median(times[i]!), reps))];
  const hfMs = rows[rows.length - 1]!.ms;

  console.log(
    formatTable(rows, [
      { header: 'impl', value: (r) => r.impl },
      { header: 'variant', value: (r) => r.variant },
      { header: 'ms (median)', value: (r) => fmt(r.ms), right: true },
      { header: 'MB/s', value: (r) => fmt(r.mbPerS), right: true },
      { header: 'tokens/s', value: (r) => fmt(r.tokensPerS), right: true },
      { header: 'vs HF', value: (r) => `${fmt(hfMs / r.ms)}x`, right: true },
    ]),
  );
  console.log(
    `\n${docs.length} documents of ${part}, ${fmt(bytes / 1e6)} MB UTF-8, ${tokens} tokens; vocab ${vocabPath} (${ours.vocabSize} entries);` +
      ` ${reps} reps after ${warmup} warm-up; ids equal on ${docs.length - mismatches}/${docs.length} documents.`,
  );
  if (args.json) {
    writeJson(args.json, {
      config: { documents: docs.length, bytes, tokens, vocab: vocabPath, vocabSize: ours.vocabSize, reps, warmup, idsEqual: docs.length - mismatches, node: process.version },
      rows,
    });
    console.log(`wrote ${args.json}`);
  }
  if (sink < 0) console.log(sink);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
