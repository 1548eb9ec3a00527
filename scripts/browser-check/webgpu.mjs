/**
 * The WebGPU part of the browser check (run.mjs --webgpu, or --fixtures DIR): bundles
 * webgpu-page.ts (the tensor op suite and the RetroMAE parity, on gpujs mode webgpu), serves it and
 * a fixture folder from 127.0.0.1, loads it in headless Chromium with WebGPU on SwiftShader, and
 * returns the failures. SwiftShader is a CPU implementation: these runs check correctness, never speed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUIET_CHROMIUM_FLAGS, receivePost } from './shared.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

export const WEBGPU_FLAGS = [
  ...QUIET_CHROMIUM_FLAGS,
  // WebGPU without a GPU: Dawn on SwiftShader's Vulkan (software).
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

/**
 * Node builtins the model packages import for their file APIs (fromPretrained, savePretrained):
 * in the page they become stubs that throw if called, since the page loads files over HTTP.
 */
const nodeStub = {
  name: 'node-builtins-stub',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, name) => name === '__esModule' ? false : () => { throw new Error('${args.path}.' + String(name) + ' is not available in the browser page'); } });`,
      loader: 'js',
    }));
  },
};

async function bundle() {
  const require = createRequire(join(root, 'package.json'));
  const esbuild = require('esbuild');
  const alias = Object.fromEntries(
    ['common', 'random', 'tensor', 'bert', 'enhanced-decoder', 'data', 'train'].map((name) => [`@retro/${name}`, join(root, `packages/${name}/src/index.ts`)]),
  );
  const result = await esbuild.build({
    entryPoints: [join(here, 'webgpu-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
    alias,
    plugins: [nodeStub],
  });
  return result.outputFiles[0].text;
}

/** Checks `dir` has bert/ and roberta/ in the ../shared/fixtures layout; returns the kinds found. */
export function fixtureKinds(dir) {
  const files = ['config.json', 'model.safetensors', 'inputs.json', 'expected.safetensors', 'adamw.json'];
  const kinds = [];
  for (const kind of ['bert', 'roberta']) {
    const missing = files.filter((f) => !existsSync(join(dir, kind, f)));
    if (missing.length === files.length) continue;
    if (missing.length > 0) throw new Error(`browser-check --fixtures ${dir}: ${kind}/ lacks ${missing.join(', ')}`);
    kinds.push(kind);
  }
  if (kinds.length === 0) throw new Error(`browser-check --fixtures ${dir}: expected bert/ and/or roberta/ folders holding ${files.join(', ')}`);
  return kinds;
}

function serve(code, fixtures, onLog, onResult) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const headers = { 'cache-control': 'no-store' };
    if (req.method === 'POST') {
      return receivePost(req, res, headers, (data) => {
        if (url.pathname.endsWith('/log')) onLog(data.line);
        else if (url.pathname.endsWith('/result')) onResult(data);
      });
    }
    if (url.pathname.startsWith('/fixtures/')) {
      const path = resolve(fixtures, decodeURIComponent(url.pathname.slice('/fixtures/'.length)));
      if (!path.startsWith(fixtures + sep) || !existsSync(path) || !statSync(path).isFile()) return res.writeHead(404, headers).end();
      return res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' }).end(readFileSync(path));
    }
    if (url.pathname === '/webgpu/' || url.pathname === '/webgpu/index.html') {
      return res
        .writeHead(200, { ...headers, 'content-type': 'text/html' })
        .end(`<!doctype html><meta charset="utf-8"><title>retro webgpu check</title><script type="module" src="page.js${url.search}"></script>`);
    }
    if (url.pathname === '/webgpu/page.js') return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(code);
    res.writeHead(404, headers).end();
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: server.address().port })));
}

/**
 * Runs the page; resolves with { result, failures }. `options`: chromium, timeout (s),
 * fixtures (dir), parts ('ops,parity'), steps, memory ('tiny:16,base:1' for parts=memory), quiet.
 */
export async function runWebgpuCheck(options) {
  const fixtures = resolve(options.fixtures ?? join(root, 'test-fixtures/retromae'));
  const kinds = fixtureKinds(fixtures);
  if (!existsSync(options.chromium)) throw new Error(`browser-check: no Chromium at ${options.chromium} (Debian: apt-get install chromium; or --chromium PATH)`);
  const code = await bundle();
  let resolveResult;
  const resultPromise = new Promise((ok) => (resolveResult = ok));
  const { server, port } = await serve(code, fixtures, (line) => options.quiet || console.log(`  webgpu: ${line}`), (data) => resolveResult(data));
  const profile = mkdtempSync(join(tmpdir(), 'retro-webgpu-check-'));
  const query = `?parts=${encodeURIComponent(options.parts ?? 'ops,parity')}&kinds=${kinds.join(',')}&steps=${options.steps ?? 50}&memory=${encodeURIComponent(options.memory ?? 'tiny:16')}`;
  const child = spawn(options.chromium, [...WEBGPU_FLAGS, `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/webgpu/${query}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));
  let timer;
  const result = await Promise.race([
    resultPromise,
    new Promise((ok) => child.on('exit', (code) => ok({ fatal: `chromium exited (code ${code}) before the page reported` }))),
    new Promise((ok) => child.on('error', (e) => ok({ fatal: `chromium did not start: ${e.message}` }))),
    new Promise((ok) => (timer = setTimeout(() => ok({ fatal: `no result within ${options.timeout} s` }), options.timeout * 1000))),
  ]);
  clearTimeout(timer);
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  await new Promise((ok) => setTimeout(ok, 300));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  server.close();
  rmSync(profile, { recursive: true, force: true });
  const failures = [];
  if (result.fatal) {
    const noise = /dbus|Failed to connect to the bus|unexpected operator/;
    failures.push(`page: ${result.fatal}`);
    result.chromiumStderr = stderr.split('\n').filter((l) => l && !noise.test(l)).slice(-30).join('\n');
  }
  for (const op of result.ops ?? []) if (!op.pass) failures.push(`op ${op.name}: ${op.error}`);
  for (const c of result.parity ?? []) if (!c.pass) failures.push(`parity ${c.check}: relErr ${c.relErr}${c.note ? ` (${c.note})` : ''}`);
  for (const c of result.training ?? []) if (!c.pass) failures.push(`training ${c.check}: relErr ${c.relErr}${c.note ? ` (${c.note})` : ''}`);
  const wantedParts = (options.parts ?? 'ops,parity').split(',');
  if (!result.fatal && wantedParts.includes('ops') && !(result.ops?.length > 0)) failures.push('the op suite ran no case');
  if (!result.fatal && wantedParts.includes('parity') && !(result.parity?.length > 0)) failures.push('the RetroMAE parity ran no check');
  if (!result.fatal && wantedParts.includes('training') && !(result.training?.length > 0)) failures.push('the training parity ran no check');
  if (!result.fatal && wantedParts.includes('memory') && !(result.memory?.length > 0)) failures.push('the memory report measured nothing');
  return { result, failures, fixtures, kinds };
}

export function printWebgpu({ result, failures, fixtures, kinds }) {
  console.log(`\n=== WebGPU (gpujs mode webgpu), fixtures ${fixtures} (${kinds.join(', ')})`);
  if (result.info) console.log(`backend: ${JSON.stringify(result.info)}`);
  if (result.fatal) {
    console.log(`FATAL: ${result.fatal}`);
    if (result.chromiumStderr) console.log(`chromium stderr (tail):\n${result.chromiumStderr}`);
  }
  const pad = (s, n) => String(s).padEnd(n);
  for (const op of result.ops ?? []) console.log(`  ${op.pass ? 'ok  ' : 'FAIL'} ${pad(op.name, 96)} ${op.ms.toFixed(0)} ms${op.error ? `  ${op.error}` : ''}`);
  for (const c of [...(result.parity ?? []), ...(result.training ?? [])]) console.log(`  ${c.pass ? 'ok  ' : 'FAIL'} ${pad(c.check, 64)} relErr ${Number.isFinite(c.relErr) ? c.relErr.toExponential(2) : c.relErr}${c.note ? `  ${c.note}` : ''}`);
  const ops = result.ops ?? [];
  const parity = result.parity ?? [];
  const training = result.training ?? [];
  console.log(`op suite: ${ops.filter((o) => o.pass).length}/${ops.length} passed; RetroMAE parity: ${parity.filter((c) => c.pass).length}/${parity.length} passed; training: ${training.filter((c) => c.pass).length}/${training.length} passed`);
  console.log(failures.length ? `\n${failures.length} failure(s):\n  ${failures.join('\n  ')}` : '\nWebGPU: all checks passed');
}
