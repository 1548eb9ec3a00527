import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ExperimentState } from '../experiment/lib/state.js';

const SETTINGS = { steps: 10, batchSize: 2, vocab: 'reference' };

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'retro-state-'));
}

describe('ExperimentState (benchmarks/experiment/lib/state.ts)', () => {
  it('merges stages finished by two invocations sharing one folder', () => {
    const dir = freshDir();
    const a = new ExperimentState(dir, SETTINGS, ['--seed', '42']);
    const b = new ExperimentState(dir, SETTINGS, ['--seed', '43']);
    a.finish('eval:init-s42@0', new Date(), { n: 1 });
    b.finish('eval:init-s43@0', new Date(), { n: 2 });
    a.addPartialSeconds('pretrain:mlm-s42', 5);
    b.addPartialSeconds('pretrain:mlm-s43', 7);
    expect(a.addPartialSeconds('pretrain:mlm-s42', 1)).toBe(6);
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(Object.keys(file.stages).sort()).toEqual(['eval:init-s42@0', 'eval:init-s43@0']);
    expect(file.partialSeconds).toEqual({ 'pretrain:mlm-s42': 6, 'pretrain:mlm-s43': 7 });
    expect(file.invocations.map((i: { argv: string[] }) => i.argv[1])).toEqual(['42', '43']);
    // a stage finished elsewhere is seen as done without reopening
    expect(a.done('eval:init-s43@0')?.result).toEqual({ n: 2 });
  });

  it('refuses other settings and names both', () => {
    const dir = freshDir();
    new ExperimentState(dir, SETTINGS, []);
    expect(() => new ExperimentState(dir, { ...SETTINGS, steps: 20 }, [])).toThrow(/other settings:\n  recorded \{"steps":10,.*\n  now      \{"steps":20/);
  });

  it('accepts files whose settings still list seeds and evalAt', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, settings: { ...SETTINGS, seeds: [42], evalAt: [] }, stages: {}, partialSeconds: {}, invocations: [] }));
    const state = new ExperimentState(dir, SETTINGS, ['--seeds', '3']);
    expect(state.data.settings).toEqual(SETTINGS);
  });

  it('reads a setting added later as its recorded default, and still refuses another value', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, settings: SETTINGS, stages: {}, partialSeconds: {}, invocations: [] }));
    const state = new ExperimentState(dir, { ...SETTINGS, wholeWord: 'jieba' }, [], { wholeWord: 'jieba' });
    expect(state.data.settings).toEqual({ ...SETTINGS, wholeWord: 'jieba' });
    expect(() => new ExperimentState(dir, { ...SETTINGS, wholeWord: 'wordpiece' }, [], { wholeWord: 'jieba' })).toThrow(/"wholeWord":"jieba".*\n.*"wholeWord":"wordpiece"/);
  });

  it('lets one live process hold a stage; a dead holder is taken over', () => {
    const dir = freshDir();
    const state = new ExperimentState(dir, SETTINGS, []);
    const file = join(dir, 'state.json');
    const data = JSON.parse(readFileSync(file, 'utf8'));
    // pid 1 (init) is alive on every Linux/macOS host
    data.claims = { 'pretrain:mlm-s42': { pid: 1, since: 'earlier' } };
    writeFileSync(file, JSON.stringify(data));
    expect(() => state.claim('pretrain:mlm-s42')).toThrow(/stage pretrain:mlm-s42 is being run by process 1 since earlier/);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    data.claims = { 'pretrain:mlm-s42': { pid: Number(dead.stdout), since: 'earlier' } };
    writeFileSync(file, JSON.stringify(data));
    state.claim('pretrain:mlm-s42');
    expect(JSON.parse(readFileSync(file, 'utf8')).claims['pretrain:mlm-s42'].pid).toBe(process.pid);
    state.finish('pretrain:mlm-s42', new Date(), null);
    expect(JSON.parse(readFileSync(file, 'utf8')).claims).toEqual({});
  });
});
