import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, main, type PretrainOptions, type Wiring } from '../src/index.js';
import { camelCase } from '../src/args/spec.js';

const root = mkdtempSync(join(tmpdir(), 'retro-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataDir = join(root, 'shards');
mkdirSync(dataDir);
const modelDir = join(root, 'model');
mkdirSync(modelDir);

async function run(argv: string[], wiring?: Partial<Wiring>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  const { defaultWiring } = await import('../src/wiring.js');
  const code = await main(argv, { ...io, wiring: { ...defaultWiring, ...wiring } });
  return { code, stdout, stderr };
}

describe('retro --help', () => {
  it('lists every subcommand at the top level', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const name of ['prepare', 'pretrain', 'embed', 'eval']) expect(stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help explains every option', async (name) => {
    const { code, stdout } = await run([name, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: retro ${name}`);
    for (const option of COMMANDS.find((c) => c.name === name)!.options) {
      expect(stdout, option.name).toMatch(new RegExp(`--${option.name}\\b`));
      expect(option.description.length, option.name).toBeGreaterThan(10);
    }
  });

  it('with no command prints help and fails; --version prints the version', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('argument errors name the option, the expectation and what was found', () => {
  it.each([
    [['pretrain', '--totl-steps', '3'], /unknown option --totl-steps \(did you mean --total-steps\?\)/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--total-steps', 'abc'], /option --total-steps expects an integer from 1 to 1000000000, found 'abc'/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--total-steps', '2.5'], /--total-steps expects an integer from 1 to 1000000000, found '2.5'/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--schedule', 'step'], /--schedule expects one of linear, cosine, constant, found 'step'/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--lr'], /--lr expects a number >= 0, found nothing/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--dropout', '1.5'], /--dropout expects a number from 0 to 0.9, found '1.5'/],
    [['pretrain', '--output', 'o'], /missing required option --data/],
    [['pretrain', '--data', join(root, 'nope'), '--output', 'o'], /option --data: directory '.*nope' does not exist/],
    [['pretrain', '--data', dataDir, '--output', 'o', 'extra'], /unexpected argument 'extra'/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--hidden-size', '30', '--num-heads', '4'], /--num-heads \(4\) must divide --hidden-size \(30\)/],
    [['pretrain', '--data', dataDir, '--output', 'o', '--warmup-steps', '50', '--total-steps', '10'], /--warmup-steps \(50\) exceeds --total-steps \(10\)/],
    [['embed', '--model', modelDir, '--input', join(root, 'nope.txt'), '--output', 'x.npy'], /option --input: file '.*nope.txt' does not exist/],
  ])('%j', async (argv, message) => {
    const { code, stderr } = await run(argv as string[]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message as RegExp);
    expect(stderr).toContain(`Run 'retro ${(argv as string[])[0]} --help'`);
  });

  it('unknown command suggests the closest', async () => {
    const { code, stderr } = await run(['pretrian']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command 'pretrian' \(did you mean 'pretrain'\?\)/);
  });
});

describe('config files', () => {
  it('YAML sections and JSON files feed options; flags win; kebab- and camelCase keys both work', async () => {
    const yaml = join(root, 'run.yaml');
    writeFileSync(yaml, `pretrain:\n  data: ${dataDir}\n  output: ${join(root, 'out')}\n  total-steps: 50\n  lr: 3.0e-4\n  schedule: cosine\nprepare:\n  max-length: 64\n`);
    let seen: PretrainOptions | undefined;
    let settings: unknown;
    const wiring = { pretrain: async (o: PretrainOptions, s: unknown) => { seen = o; settings = s; } };
    expect((await run(['pretrain', '--config', yaml, '--total-steps', '80'], wiring)).code).toBe(0);
    expect(seen).toMatchObject({ data: dataDir, totalSteps: 80, lr: 3e-4, schedule: 'cosine', batchSize: 32, warmupRatio: 0.1 });
    expect(settings).toMatchObject({ totalSteps: 80, schedule: { kind: 'cosine', warmupSteps: 8 }, optimizer: { lr: 3e-4, weightDecay: 0.01 }, clipNorm: 1 });

    const json = join(root, 'run.json');
    writeFileSync(json, JSON.stringify({ data: dataDir, output: 'o', batchSize: 4, clipNorm: 0, mlmOnly: true }));
    expect((await run(['pretrain', '-c', json], wiring)).code).toBe(0);
    expect(seen).toMatchObject({ batchSize: 4, mlmOnly: true });
    expect(settings).toMatchObject({ clipNorm: null });
  });

  it('unknown keys and bad values in the file are errors naming the file and key', async () => {
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'data: x\nbatch_size: 3\n');
    const first = await run(['pretrain', '--config', bad]);
    expect(first.code).toBe(2);
    expect(first.stderr).toMatch(/config file .*bad.yaml: unknown key 'batch_size' for 'retro pretrain' \(did you mean 'batch-size'\?\)/);
    writeFileSync(bad, 'data: x\nbatchSize: lots\n');
    expect((await run(['pretrain', '--config', bad])).stderr).toMatch(/config file .*bad.yaml: key 'batchSize' expects an integer from 1 to 65536, found 'lots'/);
    writeFileSync(bad, 'data: [unclosed\n');
    expect((await run(['pretrain', '--config', bad])).stderr).toMatch(/cannot parse YAML/);
    expect((await run(['pretrain', '--config', join(root, 'x.toml')])).stderr).toMatch(/does not exist/);
  });
});

describe('retro embed output', () => {
  const input = join(root, 'texts.jsonl');
  writeFileSync(input, '{"id": "a", "text": "床前明月光"}\n\n{"text": "疑是地上霜"}\n');
  // A fake encoder: vector = [length, row index].
  const wiring = { embed: async (texts: readonly string[]) => ({ vectors: Float32Array.from(texts.flatMap((t, i) => [t.length, i])), dim: 2 }) };

  it('writes JSONL with ids from the input (or line numbers)', async () => {
    const output = join(root, 'v.jsonl');
    expect((await run(['embed', '--model', modelDir, '--input', input, '--output', output], wiring)).code).toBe(0);
    expect(readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 'a', embedding: [5, 0] },
      { id: 3, embedding: [5, 1] },
    ]);
  });

  it('writes NPY v1.0 float32 [N, H] that a reader following the spec decodes', async () => {
    const output = join(root, 'v.npy');
    expect((await run(['embed', '--model', modelDir, '--input', input, '--output', output], wiring)).code).toBe(0);
    const bytes = readFileSync(output);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/);
    const data = bytes.subarray(10 + headerLength);
    expect([0, 1, 2, 3].map((i) => data.readFloatLE(i * 4))).toEqual([5, 0, 5, 1]);
  });

  it('names the line and field when JSONL input lacks the text field', async () => {
    const broken = join(root, 'broken.jsonl');
    writeFileSync(broken, '{"text": "ok"}\n{"body": "x"}\n');
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', broken, '--output', join(root, 'b.jsonl')], wiring);
    expect(code).toBe(1);
    expect(stderr).toMatch(/broken.jsonl:2: field 'text' should be a string, found no such field/);
  });

  it('asks for --format when the extension says nothing', async () => {
    const { code, stderr } = await run(['embed', '--model', modelDir, '--input', input, '--output', join(root, 'v.bin')], wiring);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot tell the format from '.*v.bin'.*--format jsonl\|npy/);
  });
});

describe('option names', () => {
  it('are unique per command (flags and short aliases) and camelCase cleanly', () => {
    for (const command of COMMANDS) {
      const names = command.options.map((o) => o.name);
      expect(new Set(names).size, command.name).toBe(names.length);
      const shorts = command.options.flatMap((o) => (o.short ? [o.short] : []));
      expect(new Set(shorts).size, command.name).toBe(shorts.length);
      for (const name of names) expect(camelCase(name)).toMatch(/^[a-z][A-Za-z0-9]*$/);
    }
  });
});
