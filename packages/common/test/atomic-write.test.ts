import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicTempPath, writeFileAtomic, writeFileSynced } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'retro-common-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const freshDir = (): string => {
  const dir = join(root, String(count++));
  mkdirSync(dir);
  return dir;
};

describe('writeFileAtomic', () => {
  it('replaces the file with the new bytes (strings as UTF-8) and leaves no temporary file', () => {
    const dir = freshDir();
    const path = join(dir, 'f.json');
    writeFileSync(path, 'old contents, longer than the new');
    writeFileAtomic(path, '新 contents');
    expect(readFileSync(path, 'utf8')).toBe('新 contents');
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['f.json']);
  });

  it('writes through a hidden temporary file named for this process (what resume cleans up after a crash)', () => {
    expect(atomicTempPath(join('a', 'latest'))).toBe(join('a', `.latest.tmp-${process.pid}`));
    expect(/^\..+\.tmp-(\d+)$/.exec('.latest.tmp-' + process.pid)?.[1]).toBe(String(process.pid));
  });

  it('fails naming the path, keeps the old file and removes its temporary file', () => {
    const dir = freshDir();
    const path = join(dir, 'target');
    mkdirSync(path); // a folder: the rename over it fails
    expect(() => writeFileAtomic(path, 'x')).toThrow(new RegExp(`writeFileAtomic ${path.replace(/[\\/.]/g, '\\$&')}: `));
    expect(readdirSync(dir)).toEqual(['target']);
    expect(() => writeFileAtomic(join(dir, 'missing', 'f'), 'x')).toThrow(/writeFileAtomic .*missing/);
  });
});

describe('writeFileSynced', () => {
  it('writes all bytes of a large buffer', () => {
    const path = join(freshDir(), 'big.bin');
    const bytes = new Uint8Array(3 << 20).map((_, i) => i % 251);
    writeFileSynced(path, bytes);
    expect(Buffer.compare(readFileSync(path), Buffer.from(bytes))).toBe(0);
  });
});
