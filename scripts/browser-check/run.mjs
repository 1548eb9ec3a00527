#!/usr/bin/env node
/**
 * Runs @retro/tensor in headless Chromium (SwiftShader WebGL2) and prints what starts, how its
 * ops compare with float64 references, and matmul speed per backend. Not part of CI: it needs
 * a Chromium binary (Debian: apt-get install chromium). See docs/browser-check.md.
 *
 *   node scripts/browser-check/run.mjs [--json out.json] [--dist] [--backends a,b] [--sizes 256,512]
 *                                      [--no-isolated] [--timeout 600] [--chromium /usr/bin/chromium]
 *                                      [--entry /tmp/patched/src/index.ts]
 *   node scripts/browser-check/run.mjs --webgpu [--fixtures DIR] [--parts ops,parity,training] [--steps 50]
 *
 * --webgpu runs instead the WebGPU check (webgpu.mjs): gpujs in mode webgpu on SwiftShader, the
 * tensor op suite (forward + backward vs float64) and the RetroMAE parity (forward, both losses,
 * every gradient, AdamW steps 1-3). --fixtures DIR (implies --webgpu) takes the fixtures from any
 * folder in the layout of ../shared/fixtures (bert/ and roberta/ beside each other); the default is
 * test-fixtures/retromae. `training` (with --steps N, default 50) trains the fixture model N AdamW
 * steps on cpu and on webgpu and compares the loss curves, plus resumes crossing the backends.
 * Exits non-zero on any mismatch. npm test runs it (packages/tensor/test/webgpu-browser.test.ts).
 *
 * Two page loads: a plain one (no cross-origin isolation, so no SharedArrayBuffer) running every
 * backend, and a cross-origin-isolated one (COOP/COEP headers) running the cpu backend, whose
 * wasm GEMM and row kernels take their shared-memory path there, on Web Workers: each page says
 * which ("threads: Web Workers ..." or "threads: single thread: <why>") and checks that results
 * are bit-identical at 1, 2 and max(3, cores) threads. No automation library: the page POSTs its
 * progress and results back to this script's 127.0.0.1 server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUIET_CHROMIUM_FLAGS, receivePost } from './shared.mjs';
import { printWebgpu, runWebgpuCheck } from './webgpu.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

function parseArgs(argv) {
  const args = {
    json: null,
    dist: false,
    entry: null,
    backends: 'cpu,gpujs-webgl2,gpujs-webgl,gpujs-webasm,gpujs-cpu,gpujs',
    sizes: '256,512',
    isolated: true,
    timeout: 600,
    chromium: process.env.CHROMIUM ?? '/usr/bin/chromium',
    webgpu: false,
    fixtures: null,
    parts: 'ops,parity',
    steps: 50,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`browser-check: ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--json') args.json = resolve(next());
    else if (a === '--dist') args.dist = true;
    else if (a === '--entry') args.entry = resolve(next());
    else if (a === '--backends') args.backends = next();
    else if (a === '--sizes') args.sizes = next();
    else if (a === '--no-isolated') args.isolated = false;
    else if (a === '--timeout') args.timeout = Number(next());
    else if (a === '--chromium') args.chromium = next();
    else if (a === '--webgpu') args.webgpu = true;
    else if (a === '--fixtures') {
      args.fixtures = resolve(next());
      args.webgpu = true;
    } else if (a === '--parts') args.parts = next();
    else if (a === '--steps') args.steps = Number(next());
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`browser-check: unknown argument ${a}`);
  }
  return args;
}

/**
 * Bundles the tensor package for the browser: src by default, the tsup build with --dist, or
 * any copy of src (a patch under test) with --entry; bare imports (gpu.js) resolve from the repo.
 */
async function bundle(args) {
  const require = createRequire(join(root, 'package.json'));
  const esbuild = require('esbuild');
  const entry = args.entry ?? (args.dist ? join(root, 'packages/tensor/dist/index.js') : join(root, 'packages/tensor/src/index.ts'));
  if (!existsSync(entry)) throw new Error(`browser-check: ${entry} is missing (run npm run build first, or drop --dist)`);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
  });
  const inputs = Object.keys(result.metafile.inputs);
  return {
    entry: entry.startsWith(root) ? entry.slice(root.length + 1) : entry,
    code: result.outputFiles[0].text,
    warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`),
    externalInputs: inputs.filter((p) => p.includes('node_modules')),
    esbuild: esbuild.version,
  };
}

const pageHtml = (query) =>
  `<!doctype html><meta charset="utf-8"><title>retro tensor browser check</title>` +
  `<script type="module" src="page.js${query}"></script>`;

/**
 * Serves the page on 127.0.0.1: /plain/* without and /coi/* with cross-origin isolation
 * headers. Resolves each page's result through `waiters`.
 */
function startServer(code, onLog) {
  const waiters = new Map();
  const pageJs = readFileSync(join(here, 'page.js'), 'utf8');
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const [, scope, file] = url.pathname.split('/');
    const headers = { 'cache-control': 'no-store' };
    if (scope === 'coi') {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    if (req.method === 'POST') {
      return receivePost(req, res, headers, (data) => {
        if (file === 'log') onLog(scope, data.line);
        else if (file === 'result') waiters.get(scope)?.(data);
      });
    }
    const send = (type, text) => res.writeHead(200, { ...headers, 'content-type': type }).end(text);
    if (file === '' || file === 'index.html') send('text/html', pageHtml(url.search));
    else if (file === 'page.js') send('text/javascript', pageJs);
    else if (file === 'tensor.js') send('text/javascript', code);
    else res.writeHead(404, headers).end();
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: server.address().port, waiters })));
}

const CHROMIUM_FLAGS = [
  ...QUIET_CHROMIUM_FLAGS,
  // WebGL2 without a GPU: ANGLE on SwiftShader's Vulkan (software).
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

function chromiumVersion(bin) {
  return new Promise((ok) => {
    const p = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => ok(out.trim()));
    p.on('error', (e) => ok(`unavailable: ${e.message}`));
  });
}

/** Loads one page in a fresh Chromium profile; resolves with the page's result or a timeout/exit note. */
async function runPage(args, port, waiters, scope, query) {
  const profile = mkdtempSync(join(tmpdir(), 'retro-browser-check-'));
  const url = `http://127.0.0.1:${port}/${scope}/${query}`;
  const child = spawn(args.chromium, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, url], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true, // own process group, so its helpers end with it
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-20000)));
  let timer;
  const result = await new Promise((ok) => {
    waiters.set(scope, ok);
    child.on('exit', (code) => ok({ fatal: `chromium exited (code ${code}) before the page reported` }));
    child.on('error', (e) => ok({ fatal: `chromium did not start: ${e.message}` }));
    timer = setTimeout(() => ok({ fatal: `no result within ${args.timeout} s` }), args.timeout * 1000);
  });
  clearTimeout(timer);
  waiters.delete(scope);
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {}
  await new Promise((ok) => setTimeout(ok, 300));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  rmSync(profile, { recursive: true, force: true });
  if (result.fatal) {
    const noise = /dbus|Failed to connect to the bus|unexpected operator/;
    result.chromiumStderr = stderr.split('\n').filter((l) => l && !noise.test(l)).slice(-30).join('\n');
  }
  return result;
}

// ------------------------------------------------------------------ report

const fmtErr = (v) => (v === null || v === undefined ? '-' : Number.isFinite(v) ? v.toExponential(1) : String(v));
const pad = (s, n) => String(s).padEnd(n);

function printPage(title, page) {
  console.log(`\n=== ${title}`);
  if (page.fatal) {
    console.log(`FATAL: ${page.fatal}${page.stack ? `\n${page.stack}` : ''}`);
    if (page.chromiumStderr) console.log(`chromium stderr (tail):\n${page.chromiumStderr}`);
    return;
  }
  const e = page.env;
  console.log(`crossOriginIsolated=${e.crossOriginIsolated} SharedArrayBuffer=${e.sharedArrayBuffer} hardwareConcurrency=${e.hardwareConcurrency}`);
  console.log(`webgl2: ${e.webgl2 ? `${e.webgl2.renderer} (max texture ${e.webgl2.maxTextureSize}, color_buffer_float ${e.webgl2.colorBufferFloat})` : 'none'}`);
  console.log(`webgl:  ${e.webgl ? `${e.webgl.renderer} (OES_texture_float ${e.webgl.textureFloat}, color_buffer_float ${e.webgl.colorBufferFloat})` : 'none'}`);
  if (page.modes) {
    console.log('probeGpujsModes():');
    for (const [m, v] of Object.entries(page.modes)) console.log(`  ${pad(m, 11)} ${v}`);
  }
  for (const b of page.backends) {
    if (!b.started) {
      console.log(`\n[${b.name}] DID NOT START: ${b.startError}`);
      continue;
    }
    const info = b.name === 'cpu'
      ? `gemm ${JSON.stringify(b.info?.gemm)} kernels ${b.info?.kernels?.path}`
      : `mode ${b.info?.mode} deviceResident ${b.info?.deviceResident} compilations ${b.info?.compilations}${b.info?.skipped && Object.keys(b.info.skipped).length ? ` skipped ${Object.keys(b.info.skipped).join(',')}` : ''}`;
    console.log(`\n[${b.name}] ${info}`);
    for (const c of b.checks) {
      const vsCpu = c.maxErrVsCpu !== undefined ? ` vsCpu ${fmtErr(c.maxErrVsCpu)}` : '';
      const tail = c.error ? `ERROR ${c.error}` : c.note ?? '';
      console.log(`  ${pad(c.check, 36)} ${c.pass ? 'ok  ' : 'FAIL'} maxErr ${pad(fmtErr(c.maxErr), 8)}${vsCpu} ${tail}`);
    }
    if (b.threads) {
      const t = b.threads;
      console.log(
        t.workers === 'web-workers'
          ? `  threads: Web Workers over a shared WebAssembly.Memory (page cross-origin isolated)`
          : `  threads: single thread: ${t.singleThreadReason ?? t.error ?? 'unknown reason'}`,
      );
      for (const r of t.runs ?? []) {
        console.log(`    ${pad(`${r.threads} requested`, 12)} ${r.used} used, ${r.workerItems}/${r.items} GEMM items on workers, ${r.differing} values differing from 1 thread`);
      }
      if (t.error) console.log(`    ERROR ${t.error}`);
      console.log(`    bit-identical for every thread count: ${t.pass ? 'yes' : 'NO'}`);
    }
    for (const t of b.timings) {
      if (t.error) console.log(`  matmul ${t.n}^3: ERROR ${t.error}`);
      else console.log(`  matmul ${t.n}^3: ${t.gflops.toFixed(2)} GFLOP/s  best ${t.bestMs.toFixed(1)} ms of ${t.runs}, first ${t.firstMs.toFixed(0)} ms${t.threads ? `, ${t.threads} thread(s)` : ''}`);
    }
  }
}

function failures(page) {
  if (page.fatal) return [`page: ${page.fatal}`];
  const out = [];
  for (const b of page.backends) {
    if (!b.started) {
      // A mode the browser lacks is no failure; a GL mode whose context the page could open is.
      const gl = { 'gpujs-webgl2': page.env.webgl2, 'gpujs-webgl': page.env.webgl }[b.name];
      if (gl && !gl.error && gl.textureFloat && gl.colorBufferFloat) {
        out.push(`${b.name}: did not start although the page has ${b.name.slice(6)} with float textures (${gl.renderer}): ${b.startError}`);
      }
      continue;
    }
    for (const c of b.checks) if (!c.pass) out.push(`${b.name}: ${c.check}${c.error ? `: ${c.error}` : ''}`);
    for (const t of b.timings) if (t.error) out.push(`${b.name}: matmul ${t.n}^3: ${t.error}`);
    if (b.threads && !b.threads.pass) out.push(`${b.name}: threads: ${b.threads.error ?? `${b.threads.differing} values differ between thread counts`}`);
    // Isolated: the helpers must be Web Workers; a silent single thread there is a failure.
    if (b.threads && page.env.crossOriginIsolated && b.threads.workers !== 'web-workers') out.push(`${b.name}: cross-origin isolated but single-threaded: ${b.threads.singleThreadReason}`);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.webgpu) {
    const version = await chromiumVersion(args.chromium);
    console.log(`chromium: ${args.chromium}: ${version}`);
    const report = await runWebgpuCheck({ chromium: args.chromium, timeout: args.timeout, fixtures: args.fixtures, parts: args.parts, steps: args.steps });
    printWebgpu(report);
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify({ chromium: version, ...report }, null, 2)}\n`);
      console.log(`JSON: ${args.json}`);
    }
    process.exit(report.failures.length ? 1 : 0);
  }
  const version = await chromiumVersion(args.chromium);
  console.log(`chromium: ${args.chromium}: ${version}`);
  const built = await bundle(args);
  console.log(`bundle: ${built.entry} -> ${(built.code.length / 1024).toFixed(0)} KiB (esbuild ${built.esbuild}, platform browser); from node_modules: ${built.externalInputs.join(', ') || 'none'}`);
  for (const w of built.warnings) console.log(`  esbuild warning: ${w}`);
  const { server, port, waiters } = await startServer(built.code, (scope, line) => console.log(`  ${scope}: ${line}`));
  const report = { chromium: version, bundle: { ...built, code: undefined }, pages: {} };
  try {
    const q = `?backends=${encodeURIComponent(args.backends)}&sizes=${encodeURIComponent(args.sizes)}`;
    report.pages.plain = await runPage(args, port, waiters, 'plain', q);
    if (args.isolated) {
      report.pages.isolated = await runPage(args, port, waiters, 'coi', `?backends=cpu&sizes=${encodeURIComponent(args.sizes)}`);
    }
  } finally {
    server.close();
  }
  printPage('plain page (not cross-origin isolated)', report.pages.plain);
  if (report.pages.isolated) printPage('cross-origin-isolated page (COOP/COEP), cpu backend', report.pages.isolated);
  const failed = Object.values(report.pages).flatMap(failures);
  report.failures = failed;
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nJSON: ${args.json}`);
  }
  console.log(failed.length ? `\n${failed.length} failure(s):\n  ${failed.join('\n  ')}` : '\nall checks passed on every backend that started');
  process.exit(failed.length ? 1 : 0);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(2);
});
