/**
 * `prepare` with worker threads (src/prepare-pool.ts): the shards and the manifest's shard list
 * must be byte-identical for 1, 2 and 3 workers, on a corpus of several batches through jieba and
 * a real WordPiece vocab: one file (documents go out in batches, results are written in
 * submission order) and several files (each worker prepares whole files). Bad worker options
 * fail with a message naming the option.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepare } from '../src/prepare.js';
import { BATCH_CHARS } from '../src/prepare-file.js';
import { BertTokenizer } from '../src/tokenizers/index.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'retro-prepare-workers-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CHARS = '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严';
const PUNCT = '，。！？';

/** Deterministic pseudo-Chinese documents: sentences of random characters and punctuation. */
function corpus(file: string, chars: number, seed = 12345, broken = false): void {
  let state = seed;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const lines: string[] = [];
  let total = 0;
  while (total < chars) {
    const length = 50 + next(400);
    let text = '';
    for (let i = 0; i < length; i++) text += next(12) === 0 ? PUNCT[next(4)] : CHARS[next(CHARS.length)];
    lines.push(JSON.stringify({ title: '题', content: text }));
    total += length;
  }
  // A record whose content is not a string: a schema issue (skipped, or fatal under onError 'fail').
  if (broken) lines.splice(Math.floor(lines.length / 2), 0, JSON.stringify({ title: '题', content: 42 }));
  writeFileSync(file, lines.join('\n') + '\n');
}

describe('prepare on worker threads', () => {
  let tokenizerDir: string;
  let input: string;
  beforeAll(() => {
    tokenizerDir = join(root, 'tokenizer');
    mkdirSync(tokenizerDir);
    // Every character plus a few two-character words as ##-continuations, so WordPiece has work.
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...PUNCT, ...CHARS, ...[...CHARS.slice(0, 200)].map((c) => `##${c}`)];
    writeFileSync(join(tokenizerDir, 'vocab.txt'), [...new Set(vocab)].join('\n') + '\n');
    input = join(root, 'docs.jsonl');
    // Three and a half batches' worth of text, so every worker count splits it differently.
    corpus(input, Math.floor(BATCH_CHARS * 3.5));
  });

  const run = async (workers: number) => {
    const out = join(root, `out-${workers}`);
    const tokenizer = await BertTokenizer.fromVocabFile(join(tokenizerDir, 'vocab.txt'));
    const result = await prepare({
      inputs: [input],
      outDir: out,
      tokenizer,
      tokenizerFiles: [join(tokenizerDir, 'vocab.txt')],
      tokenizerDir,
      workers,
      maxTokensPerShard: 50_000,
      progress: false,
    });
    const files = readdirSync(out).filter((f) => f.endsWith('.rshard')).sort();
    return { result, files, bytes: files.map((f) => readFileSync(join(out, f))) };
  };

  it('writes byte-identical shards for 1, 2 and 3 workers', async () => {
    const one = await run(1);
    expect(one.files.length, 'the corpus spans several shards').toBeGreaterThan(2);
    for (const workers of [2, 3]) {
      const many = await run(workers);
      expect(many.files, `${workers} workers: shard names`).toEqual(one.files);
      many.bytes.forEach((b, i) => expect(b.equals(one.bytes[i]), `${workers} workers: ${many.files[i]} differs`).toBe(true));
      expect(many.result.manifest.shards).toEqual(one.result.manifest.shards);
      expect([many.result.documents, many.result.chunks, many.result.tokens]).toEqual([one.result.documents, one.result.chunks, one.result.tokens]);
    }
  }, 600_000);

  it('says which option is missing when workers cannot start', async () => {
    const tokenizer = await BertTokenizer.fromVocabFile(join(tokenizerDir, 'vocab.txt'));
    const base = { inputs: [input], outDir: join(root, 'bad'), tokenizer, tokenizerFiles: [join(tokenizerDir, 'vocab.txt')], progress: false as const };
    await expect(prepare({ ...base, workers: 2 })).rejects.toThrow(/workers 2 needs tokenizerDir/);
    await expect(prepare({ ...base, workers: 0 })).rejects.toThrow(/workers must be an integer >= 1, found 0/);
    const other = join(root, 'other-tokenizer');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '一'].join('\n') + '\n');
    await expect(prepare({ ...base, outDir: join(root, 'bad2'), workers: 2, tokenizerDir: other })).rejects.toThrow(/is not the one passed as tokenizer/);
  }, 120_000);

  describe('several files: each worker prepares whole files', () => {
    let inputs: string[];
    beforeAll(() => {
      // Uneven sizes, one with a malformed record, so workers finish out of order and issues cross threads.
      inputs = [0.3, 1.2, 0.2, 0.7, 0.5].map((batches, i) => {
        const file = join(root, `part-${i}.jsonl`);
        corpus(file, Math.floor(BATCH_CHARS * batches), 1000 + i, i === 3);
        return file;
      });
    });

    const runFiles = async (workers: number, extra: { onError?: 'skip' | 'fail'; inputs?: string[]; out?: string } = {}) => {
      const out = extra.out ?? join(root, `files-${workers}`);
      rmSync(out, { recursive: true, force: true });
      const tokenizer = await BertTokenizer.fromVocabFile(join(tokenizerDir, 'vocab.txt'));
      const issues: string[] = [];
      let lastProgress: { documents: number; tokens: number; bytesDone: number } | undefined;
      const result = await prepare({
        inputs: extra.inputs ?? inputs,
        outDir: out,
        tokenizer,
        tokenizerFiles: [join(tokenizerDir, 'vocab.txt')],
        tokenizerDir,
        workers,
        maxTokensPerShard: 20_000,
        onError: extra.onError,
        progress: false,
        onIssue: (issue) => issues.push(`${issue.file}#${issue.index} ${issue.kind}`),
        onProgress: (p) => (lastProgress = p),
      });
      const files = readdirSync(out).filter((f) => f.endsWith('.rshard')).sort();
      return { result, files, bytes: files.map((f) => readFileSync(join(out, f))), issues, lastProgress };
    };
    const sources = (r: { manifest: { sources: unknown[] } }) => r.manifest.sources;

    it('writes the same shards, manifest, issues and counts for 1, 2, 3 and 6 workers', async () => {
      const one = await runFiles(1);
      expect(one.files.length, 'several shards per file').toBeGreaterThan(inputs.length);
      expect(one.issues, 'the malformed record is reported').toEqual([`${inputs[3]}#${Math.floor((one.result.manifest.sources[3].records - 1) / 2)} schema`]);
      // 6 workers > 5 files: batches instead of whole files; the output must not change either.
      for (const workers of [2, 3, 6]) {
        const many = await runFiles(workers);
        expect(many.files, `${workers} workers: shard names`).toEqual(one.files);
        many.bytes.forEach((b, i) => expect(b.equals(one.bytes[i]), `${workers} workers: ${many.files[i]} differs`).toBe(true));
        expect(sources(many.result), `${workers} workers: manifest sources`).toEqual(sources(one.result));
        expect(many.result.manifest.shards).toEqual(one.result.manifest.shards);
        expect(many.result.processed).toEqual(one.result.processed);
        expect(many.issues.sort()).toEqual(one.issues);
        expect([many.result.documents, many.result.chunks, many.result.tokens]).toEqual([one.result.documents, one.result.chunks, one.result.tokens]);
        expect(many.lastProgress, `${workers} workers: the last progress report has every document`).toMatchObject({
          documents: one.result.documents,
          tokens: one.result.tokens,
          bytesDone: inputs.reduce((a, f) => a + readFileSync(f).length, 0),
        });
      }
    }, 600_000);

    it("under onError 'fail' rejects with the reader's error and leaves no shard of an unrecorded file", async () => {
      const out = join(root, 'files-fail');
      const failing = runFiles(2, { onError: 'fail', out });
      await expect(failing).rejects.toThrow(/part-3\.jsonl: record \d+: schema/);
      await expect(failing).rejects.toHaveProperty('name', 'CorpusError');
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { sources: Array<{ path: string; shards: string[] }> };
      const listed = new Set(manifest.sources.flatMap((s) => s.shards));
      const onDisk = readdirSync(out).filter((f) => f !== 'manifest.json');
      expect(onDisk.filter((f) => !listed.has(f)), 'files on disk that the manifest does not list').toEqual([]);
      expect(manifest.sources.map((s) => s.path), 'only files before the failing one can be recorded').not.toContain(inputs[3]);
      expect(manifest.sources.every((s) => inputs.indexOf(s.path) < 3)).toBe(true);
    }, 600_000);
  });
});
