/**
 * Hostile inputs through the real `retro` entry point (issue #14): each case feeds the bad input,
 * checks the message and exit code, and that nothing the user had was lost.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-reliability-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

/** sha256 of every file below `dir`: equal before and after means nothing was lost. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const characters = '天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏';
const records = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  uniqueKey: `k${i}`,
  titleUkey: 't',
  dataType: '句子',
  title: '',
  content: `${[...characters].map((_, j) => characters[(i * 7 + j * 3) % characters.length]).join('').slice(0, 12)}。${characters.slice(i % 10, (i % 10) + 6)}。`,
}));
const corpusText = JSON.stringify(records);
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '。', ...characters].join('\n') + '\n';

const tokenizerDir = join(root, 'tokenizer');
const shards = join(root, 'shards');
const corpus = join(root, 'corpus.json');
const prep = (input: string, output: string, ...rest: string[]) => ['prepare', '--input', input, '--tokenizer', tokenizerDir, '--output', output, '--max-length', '16', '--whole-word', 'wordpiece', ...rest];

beforeAll(async () => {
  mkdirSync(tokenizerDir);
  writeFileSync(join(tokenizerDir, 'vocab.txt'), vocab);
  writeFileSync(corpus, corpusText);
  const { code, stderr } = await run(prep(corpus, shards));
  expect(code, stderr).toBe(0);
});

describe('retro prepare on inputs it cannot read', () => {
  const bad: Array<[string, Buffer | string, RegExp]> = [
    ['gzip', gzipSync(corpusText), /error: .*gz\.json: encoding: the file is gzip-compressed; decompress it first \(gunzip\)/],
    ['utf16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(corpusText, 'utf16le')]), /error: .*utf16\.json: encoding: the file is UTF-16 \(LE byte-order mark\); convert it to UTF-8/],
    ['utf16-no-bom', Buffer.from(corpusText, 'utf16le'), /error: .*utf16-no-bom\.json: encoding: the file has a NUL byte at offset 1/],
    ['truncated', corpusText.slice(0, Math.floor(corpusText.length / 2)), /error: .*truncated\.json: record \d+: truncated: .*\(the rest of the file was not read\)/],
    ['invalid', corpusText.replace('},{', '};{'), /error: .*invalid\.json: record 1: syntax: /],
  ];
  it.each(bad)('%s: exit 1, the file and record named on stderr', async (name, bytes, message) => {
    const file = join(root, name === 'gzip' ? 'gz.json' : `${name}.json`);
    writeFileSync(file, bytes);
    const out = join(root, `out-${name}`);
    const { code, stderr } = await run(prep(file, out));
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/error: 1 of 1 input file\(s\) could not be read to the end/);
    // Rerunning without fixing the file still fails: the failure is remembered, not forgotten.
    const again = await run(prep(file, out));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/recorded in manifest.json by an earlier run/);
  });

  it('a file with only bad records: exit 1, nothing to train on', async () => {
    const file = join(root, 'schema.jsonl');
    writeFileSync(file, '{"content": 5}\n{"title": "x"}\n');
    const { code, stderr } = await run(prep(file, join(root, 'out-schema')));
    expect(code).toBe(1);
    expect(stderr).toMatch(/warning: .*schema\.jsonl: line 1: schema: /);
    expect(stderr).toMatch(/error: no chunk was produced from 1 input file\(s\)/);
  });

  it('a skipped record among good ones warns on stderr and exits 0', async () => {
    const file = join(root, 'mixed.jsonl');
    writeFileSync(file, `${JSON.stringify({ content: '天地玄黄。' })}\n{"content": 7}\n${JSON.stringify({ content: '宇宙洪荒。' })}\n`);
    const { code, stderr } = await run(prep(file, join(root, 'out-mixed')));
    expect(code).toBe(0);
    expect(stderr).toMatch(/warning: .*mixed\.jsonl: line 2: schema: /);
  });

  it('never deletes a shard folder made with another tokenizer without --overwrite', async () => {
    const otherTokenizer = join(root, 'tokenizer2');
    mkdirSync(otherTokenizer);
    writeFileSync(join(otherTokenizer, 'vocab.txt'), `${vocab}额\n`);
    const before = fingerprint(shards);
    const { code, stderr } = await run(['prepare', '--input', corpus, '--tokenizer', otherTokenizer, '--output', shards, '--max-length', '16', '--whole-word', 'wordpiece']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/manifest.json lists \d+ shard\(s\) of 1 file\(s\) made with another tokenizer .*rebuilding would delete them: .*--overwrite/);
    expect(fingerprint(shards)).toEqual(before);
  });
});

describe('retro pretrain on shards it must not trust', () => {
  const pretrain = (data: string, output: string, ...rest: string[]) => [
    'pretrain', '--data', data, '--output', output, '--tokenizer', tokenizerDir, '--hidden-size', '16', '--num-layers', '1', '--num-heads', '2',
    '--intermediate-size', '32', '--batch-size', '4', '--total-steps', '2', '--no-progress', ...rest,
  ];
  function copyShards(name: string): string {
    const dir = join(root, name);
    mkdirSync(dir);
    for (const file of readdirSync(shards)) writeFileSync(join(dir, file), readFileSync(join(shards, file)));
    return dir;
  }

  it('a flipped byte in the last shard fails before step 1 (sha256 on by default), no checkpoint written', async () => {
    const dir = copyShards('flipped');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const last = join(dir, manifest.shards[manifest.shards.length - 1].file);
    const bytes = readFileSync(last);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(last, bytes);
    const before = fingerprint(dir);
    const out = join(root, 'run-flipped');
    const { code, stderr } = await run(pretrain(dir, out));
    expect(code).toBe(1);
    expect(stderr).toMatch(/\.rshard: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}/);
    expect(readdirSync(out).filter((n) => n.startsWith('checkpoint-'))).toEqual([]);
    expect(fingerprint(dir)).toEqual(before);
  });

  it('a shard path leaving the data folder is refused', async () => {
    const dir = copyShards('escape');
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest.shards[0].file = '../../../etc/passwd';
    writeFileSync(path, JSON.stringify(manifest));
    const { code, stderr } = await run(pretrain(dir, join(root, 'run-escape')));
    expect(code).toBe(1);
    expect(stderr).toMatch(/manifest.json: field 'shards\[0\]\.file' is "..\/..\/..\/etc\/passwd", expected a file name inside the shard folder/);
  });

  it('a manifest without tokenizer is a clear error', async () => {
    const dir = copyShards('no-tokenizer');
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    delete manifest.tokenizer;
    writeFileSync(path, JSON.stringify(manifest));
    const { code, stderr } = await run(pretrain(dir, join(root, 'run-no-tokenizer')));
    expect(code).toBe(1);
    expect(stderr).toMatch(/manifest.json: field 'tokenizer' is missing, expected an object/);
  });

  it('0 chunks fails clearly instead of "succeeding" with no checkpoint', async () => {
    const file = join(root, 'empty.jsonl');
    writeFileSync(file, '{"content": ""}\n');
    const dir = join(root, 'empty-shards');
    expect((await run(prep(file, dir))).code).toBe(1);
    const { code, stderr } = await run(pretrain(dir, join(root, 'run-empty')));
    expect(code).toBe(1);
    expect(stderr).toMatch(/manifest.json lists 0 chunks from 1 source file\(s\).*nothing to train on/);
  });

  it('--no-verify-shards is the explicit opt-out and still trains on intact shards', async () => {
    const out = join(root, 'run-noverify');
    const { code, stderr } = await run(pretrain(shards, out, '--no-verify-shards'));
    expect(code, stderr).toBe(0);
    expect(existsSync(join(out, 'checkpoint-2', 'trainer_state.json'))).toBe(true);
  });
});

describe('tokenizer files that are not what they claim', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['null tokenizer.json', 'tokenizer.json', 'null', /tokenizer\.json: the top level is null, expected an object/],
    ['added_tokens a string', 'tokenizer.json', JSON.stringify({ model: { type: 'WordPiece', vocab: { '[UNK]': 0 } }, added_tokens: 'x' }), /tokenizer\.json: field 'added_tokens' is "x", expected a list/],
    ['empty vocab', 'tokenizer.json', JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }), /tokenizer\.json: field 'model.vocab' is \{\}, expected a non-empty vocabulary/],
    ['unk_token not in vocab', 'tokenizer.json', JSON.stringify({ model: { type: 'WordPiece', unk_token: '[NOPE]', vocab: { '[UNK]': 0 } } }), /tokenizer\.json: field 'model.unk_token' is "\[NOPE\]", expected a token of model.vocab/],
    ['empty vocab.txt', 'vocab.txt', '', /vocab\.txt: .*the vocabulary is empty/],
    ['vocab.txt without [UNK]', 'vocab.txt', '[PAD]\n[CLS]\n[SEP]\n[MASK]\n天\n', /vocab\.txt: BertTokenizer: unk_token "\[UNK\]" is not in the vocabulary/],
  ];
  it.each(cases)('%s: exit 1 naming the file and field', async (name, file, contents, message) => {
    const dir = join(root, `tok-${name.replace(/\W+/g, '-')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, file), contents);
    const { code, stderr } = await run(prep(corpus, join(root, `out-${name.replace(/\W+/g, '-')}`)).map((a) => (a === tokenizerDir ? dir : a)));
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/TypeError|Cannot read properties/);
  });
});

describe('options valid per --help work; the rest fail at parse time naming the option', () => {
  const base = ['pretrain', '--data', shards, '--output', join(root, 'run-options'), '--tokenizer', tokenizerDir];
  it.each([
    [['--encoder-mask-ratio', '0'], /option --encoder-mask-ratio expects a number in \(0, 1\], found '0'/],
    [['--decoder-mask-ratio', '0'], /option --decoder-mask-ratio expects a number in \(0, 1\), found '0'/],
    [['--decoder-mask-ratio', '1'], /option --decoder-mask-ratio expects a number in \(0, 1\), found '1'/],
    [['--seed', '9007199254740993'], /option --seed expects an integer from 0 to 4294967295, found '9007199254740993'/],
    [['--seed', '4294967296'], /option --seed expects an integer from 0 to 4294967295/],
    [['--total-steps', '1e20'], /option --total-steps expects an integer from 1 to 1000000000, found '1e20'/],
    [['--batch-size', '1e300'], /option --batch-size expects an integer from 1 to 65536/],
  ])('%j', async (flags, message) => {
    const { code, stderr } = await run([...base, ...(flags as string[])]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
    expect(existsSync(join(root, 'run-options'))).toBe(false);
  });

  it('--help states the same ranges the parser enforces', async () => {
    const help = (await run(['pretrain', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--encoder-mask-ratio X Share of tokens the encoder MLM masks [default: 0.3; a number in (0, 1]]');
    expect(help).toContain('--decoder-mask-ratio X Share of tokens hidden from each decoder row [default: 0.5; a number in (0, 1)]');
    expect(help).toMatch(/--seed N [^[]*\[default: 42; an integer from 0 to 4294967295\]/);
    expect(help).toMatch(/--total-steps N [^[]*\[default: 1000; an integer from 1 to 1000000000\]/);
  });

  it('the edge values the help allows are accepted: encoder ratio 1, decoder ratio 0.99, seed 2^32-1', async () => {
    const out = join(root, 'run-edges');
    const { code, stderr } = await run([
      'pretrain', '--data', shards, '--output', out, '--tokenizer', tokenizerDir, '--hidden-size', '16', '--num-layers', '1', '--num-heads', '2',
      '--intermediate-size', '32', '--batch-size', '4', '--total-steps', '1', '--no-progress',
      '--encoder-mask-ratio', '1', '--decoder-mask-ratio', '0.99', '--seed', '4294967295',
    ]);
    expect(code, stderr).toBe(0);
    expect(existsSync(join(out, 'checkpoint-1', 'trainer_state.json'))).toBe(true);
  });

  it('--backend gpujs without a GPU fails loudly (exit 1) before any output is made', async () => {
    if (process.env.RETRO_GPUJS_MODE) return; // a mode asked for on purpose is the user's choice
    const out = join(root, 'run-gpujs');
    const { code, stderr } = await run([...base.slice(0, 3), '--output', out, '--tokenizer', tokenizerDir, '--backend', 'gpujs']);
    // On a machine where Node has WebGPU (dawn.node) this starts; everywhere else it must say why not.
    if (code === 0) return;
    expect(code).toBe(1);
    expect(stderr).toMatch(/option --backend gpujs: .*Node has no WebGPU here: the 'webgpu' package \(dawn\.node\) did not load.*glibc >= 2\.38.*or use --backend cpu/);
    expect(existsSync(out)).toBe(false);
  });
});
