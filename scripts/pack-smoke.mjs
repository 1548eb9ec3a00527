#!/usr/bin/env node
// Packs the built packages, installs the tarballs into an empty folder, and uses them from there:
// proves each package declares what it needs and works without the monorepo around it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const requested = process.argv.slice(2);
const packages = requested.length > 0 ? requested : ['tensor'];
const work = mkdtempSync(join(tmpdir(), 'retro-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const tarballs = [];
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    if (!existsSync(join(dir, 'dist', 'index.js'))) throw new Error(`pack-smoke: packages/${name}/dist is missing; run npm run build first`);
    const file = run('npm', ['pack', '--silent', '--pack-destination', work], dir).trim().split('\n').pop();
    tarballs.push(join(work, file));
  }
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'retro-pack-smoke', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], app);
  const esm = `
    import { tensor, matmul, randn, getBackend } from '@retro/tensor';
    const w = randn([3, 2], { seed: 7, requiresGrad: true });
    const y = matmul(tensor([[1, 2, 3]]), w).sum();
    y.backward();
    const g = Array.from(w.grad.toFloat32Array());
    if (g.join(',') !== '1,1,2,2,3,3') throw new Error('unexpected gradient ' + g);
    console.log('esm ok: backend', getBackend().name, 'grad', g.join(','));
  `;
  writeFileSync(join(app, 'smoke.mjs'), esm);
  process.stdout.write(run('node', ['smoke.mjs'], app));
  const cjs = `
    const { tensor, add } = require('@retro/tensor');
    const s = add(tensor([1, 2]), tensor([3, 4])).toFloat32Array();
    if (s[0] !== 4 || s[1] !== 6) throw new Error('unexpected sum ' + s);
    console.log('cjs ok');
  `;
  writeFileSync(join(app, 'smoke.cjs'), cjs);
  process.stdout.write(run('node', ['smoke.cjs'], app));
  console.log(`pack-smoke: ${packages.map((p) => '@retro/' + p).join(', ')} installed alone and ran (${readdirSync(work).filter((f) => f.endsWith('.tgz')).length} tarballs)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
