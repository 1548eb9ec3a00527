/**
 * The output guard: outputs never equal, lie inside or contain an input; destructive writes need
 * --overwrite; nothing on disk changes when the guard says no.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Wiring } from '../src/index.js';
import { guardOutput } from '../src/io/output-guard.js';
import { UsageError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'retro-guard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file below `dir` with its bytes, to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path] = readFileSync(path, 'latin1');
    }
  };
  walk(dir);
  return out;
}

let called = 0;
const wiring: Partial<Wiring> = {
  prepare: async () => {
    called++;
    return undefined;
  },
  pretrain: async () => {
    called++;
  },
};

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const { defaultWiring } = await import('../src/wiring.js');
  const code = await main(argv, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, wiring: { ...defaultWiring, ...wiring } });
  return { code, stderr };
}

// Inputs: a corpus folder, a tokenizer folder, a shard folder, a model folder.
const corpus = join(root, 'corpus');
mkdirSync(corpus);
writeFileSync(join(corpus, 'part-000.json'), '[{"content": "天地玄黄"}]\n');
const tokenizer = join(root, 'tokenizer');
mkdirSync(tokenizer);
writeFileSync(join(tokenizer, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n天\n');
const shards = join(root, 'shards');
mkdirSync(shards);
writeFileSync(join(shards, 'manifest.json'), '{"format": "retro-shards"}\n');
const model = join(root, 'model');
mkdirSync(model);
writeFileSync(join(model, 'config.json'), '{}');
writeFileSync(join(model, 'model.safetensors'), 'weights');
const notes = join(root, 'notes');
mkdirSync(notes);
writeFileSync(join(notes, 'todo.txt'), 'keep me');

describe('retro prepare --output', () => {
  const base = ['prepare', '--input', corpus, '--tokenizer', tokenizer];
  it.each([
    ['the tokenizer folder', tokenizer, /option --output: '.*tokenizer' is the same path as --tokenizer/],
    ['inside the tokenizer folder', join(tokenizer, 'shards'), /option --output: '.*tokenizer\/shards' lies inside the --tokenizer folder '.*tokenizer'/],
    ['inside the corpus folder', join(corpus, 'shards'), /lies inside the --input folder '.*corpus'/],
    ['a file of the corpus folder', join(corpus, 'part-000.json'), /option --output: '.*part-000.json' lies inside the --input folder/],
    ['a folder holding the input', root, /option --output: '.*' contains --input '.*corpus'/],
    ['a non-empty folder that is no shard folder', notes, /folder '.*notes' is not empty \(1 entry: todo.txt\) and is not a shard folder.*pass --overwrite/],
    ['a model folder', model, /is a model folder/],
    ['a file', join(notes, 'todo.txt'), /option --output expects a folder, found a file/],
    ['a path below a file', join(notes, 'todo.txt', 'x'), /cannot create '.*todo.txt\/x': '.*todo.txt' is not a folder/],
    ['/dev/null', '/dev/null', /expects a folder, found a special file '\/dev\/null'/],
  ])('refuses %s with exit 2 and changes nothing', async (_what, output, message) => {
    const before = snapshot(root);
    called = 0;
    const { code, stderr } = await run([...base, '--output', output]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(called).toBe(0);
    expect(snapshot(root)).toEqual(before);
  });

  it('names the option, the path and the collision', async () => {
    for (const [output, message] of [
      [tokenizer, /option --output: '.*tokenizer' is the same path as --tokenizer '.*tokenizer'/],
      [notes, /folder '.*notes' is not empty \(1 entry: todo.txt\) and is not a shard folder \(no manifest.json\); pass --overwrite/],
      [model, /option --output: '.*model' is a model folder/],
    ] as const) {
      const { stderr } = await run([...base, '--output', output]);
      expect(stderr).toMatch(message);
    }
  });

  it('refuses the input file itself', async () => {
    const file = join(corpus, 'part-000.json');
    const { code, stderr } = await run(['prepare', '--input', file, '--tokenizer', tokenizer, '--output', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/option --output: '.*part-000.json' is the same path as --input '.*part-000.json'/);
    expect(readFileSync(file, 'utf8')).toBe('[{"content": "天地玄黄"}]\n');
  });

  it('a symlink to the corpus is the corpus', async () => {
    const link = join(root, 'link-to-corpus');
    symlinkSync(corpus, link);
    const { code, stderr } = await run([...base, '--output', join(link, 'out')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/lies inside the --input folder/);
    rmSync(link);
  });

  it('fails, instead of spinning, under a path no folder can be made in', async () => {
    const { code, stderr } = await run([...base, '--output', '/proc/retro-no-such/shards']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/option --output: cannot create folder '\/proc\/retro-no-such' \(E[A-Z]+/);
  }, 10_000);

  it('accepts a new folder, an existing shard folder, and a non-empty one with --overwrite', async () => {
    called = 0;
    const fresh = join(root, 'out', 'nested');
    expect((await run([...base, '--output', fresh])).code).toBe(0);
    expect(statSync(fresh).isDirectory()).toBe(true);
    expect((await run([...base, '--output', shards])).code).toBe(0);
    expect((await run([...base, '--output', notes, '--overwrite'])).code).toBe(0);
    expect(called).toBe(3);
    expect(readFileSync(join(notes, 'todo.txt'), 'utf8')).toBe('keep me');
  });
});

describe('retro pretrain --output', () => {
  const base = ['pretrain', '--data', shards, '--tokenizer', tokenizer];
  it.each([
    ['the shard folder', shards, /option --output: '.*shards' is the same path as --data '.*shards'/],
    ['inside the shard folder', join(shards, 'run'), /lies inside the --data folder '.*shards'/],
    ['the tokenizer folder', tokenizer, /is the same path as --tokenizer/],
    ['inside the init model', join(model, 'run'), /lies inside the --init-from folder '.*model'/],
    ['a folder holding --init-from', root, /contains --data|contains --init-from/],
    ['a non-empty folder that is no run folder', notes, /folder '.*notes' is not empty .* and is not a run folder .*; pass --overwrite/],
  ])('refuses %s with exit 2 and changes nothing', async (_what, output, message) => {
    const before = snapshot(root);
    called = 0;
    const { code, stderr } = await run([...base, '--init-from', model, '--output', output]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(called).toBe(0);
    expect(snapshot(root)).toEqual(before);
  });

  it('accepts a run folder (the trainer decides about --resume there)', async () => {
    const runDir = join(root, 'run');
    mkdirSync(join(runDir, 'checkpoint-10'), { recursive: true });
    called = 0;
    expect((await run([...base, '--output', runDir])).code).toBe(0);
    expect(called).toBe(1);
  });
});

describe('guardOutput for file outputs', () => {
  const input = join(root, 'texts.jsonl');
  writeFileSync(input, '{"text": "a"}\n');
  const check = (output: string, overwrite = false) =>
    guardOutput({ command: 'embed', output: { option: 'output', path: output, kind: 'file' }, inputs: [{ option: 'model', path: model }, { option: 'input', path: input }], overwrite });

  it('refuses the input file, a file inside the model, and an existing file without --overwrite', () => {
    expect(() => check(input, true)).toThrow(/option --output: '.*texts.jsonl' is the same path as --input/);
    expect(() => check(join(model, 'model.safetensors'), true)).toThrow(/lies inside the --model folder/);
    const existing = join(root, 'vectors.jsonl');
    writeFileSync(existing, 'old');
    expect(() => check(existing)).toThrow(UsageError);
    expect(() => check(existing)).toThrow(/file '.*vectors.jsonl' exists; pass --overwrite to replace it/);
    expect(() => check(existing, true)).not.toThrow();
    expect(() => check(join(root, 'new.jsonl'))).not.toThrow();
    expect(() => check(notes, true)).toThrow(/expects a file, found folder/);
    expect(readFileSync(existing, 'utf8')).toBe('old');
  });
});
