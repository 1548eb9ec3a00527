import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const launcher = fileURLToPath(new URL('../bin/retro.js', import.meta.url));

describe('bin.ts', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('sets the process exit code: 0 for --help, 2 for a usage error', () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', bin, 'eval', '--help'], { cwd: repoRoot, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: retro eval');
    const bad = spawnSync(process.execPath, ['--import', 'tsx', bin, 'eval', '--bogus'], { cwd: repoRoot, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown option --bogus');
  });
});

describe('bin/retro.js (the installed `retro`)', () => {
  // The launcher beside a stand-in dist/bin.js that reports what it was started with.
  const root = mkdtempSync(join(tmpdir(), 'retro-launcher-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist'));
  copyFileSync(launcher, join(root, 'bin', 'retro.js'));
  writeFileSync(join(root, 'package.json'), '{"type":"module"}');
  writeFileSync(join(root, 'dist', 'bin.js'), 'console.log(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES ?? null, argv: process.argv.slice(2), pid: process.pid })); process.exitCode = 3;\n');
  symlinkSync(join(root, 'bin', 'retro.js'), join(root, 'retro'));
  const run = (argv: string[], env: Record<string, string | undefined>, file = join(root, 'retro')) => {
    const base = { ...process.env };
    delete base.GLIBC_TUNABLES;
    delete base.RETRO_HUGEPAGE_MALLOC;
    const r = spawnSync(file, argv, { encoding: 'utf8', env: { ...base, ...env } });
    return { status: r.status, pid: r.pid, out: JSON.parse(r.stdout.trim()) as { tunables: string | null; argv: string[]; pid: number } };
  };
  const linux = platform() === 'linux';

  it('is the package bin, starts as a shell script and runs the built CLI as an ES module', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(pkg.bin.retro).toBe('./bin/retro.js');
    expect(pkg.files).toContain('bin');
    const text = readFileSync(launcher, 'utf8');
    expect(text.split('\n')[0]).toBe('#!/bin/sh');
    expect(text).toContain("import '../dist/bin.js';");
  });

  it('runs node in its own process (exec): same pid, arguments and exit code passed through, via a symlink', () => {
    const r = run(['pretrain', 'a b', '--x=1'], {});
    expect(r.status).toBe(3);
    expect(r.out.argv).toEqual(['pretrain', 'a b', '--x=1']);
    expect(r.out.pid).toBe(r.pid);
  });

  it.runIf(linux)('on Linux turns on glibc huge-page malloc, keeping tunables the user set', () => {
    expect(run([], {}).out.tunables).toBe('glibc.malloc.hugetlb=1');
    expect(run([], { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).out.tunables).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it.runIf(linux)('leaves malloc alone with RETRO_HUGEPAGE_MALLOC=0 or when the user chose glibc.malloc.hugetlb', () => {
    expect(run([], { RETRO_HUGEPAGE_MALLOC: '0' }).out.tunables).toBeNull();
    expect(run([], { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).out.tunables).toBe('glibc.malloc.hugetlb=0');
  });

  it('run as `node bin/retro.js` it is plain JavaScript and sets nothing', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'retro.js'), 'x'], { encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: '' } });
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ tunables: '', argv: ['x'] });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));
});
