#!/usr/bin/env node
/**
 * Builds RetroMAE Studio into static files, or serves it for development.
 *
 *   node examples/browser-studio/build.mjs [--out DIR]                 (npm run app:build)
 *   node examples/browser-studio/build.mjs --serve [--port 5173]       (npm run app)
 *
 * esbuild bundles src/main.ts (the page) and src/worker.ts (the engine: tokenizing, training,
 * search) from the packages' TypeScript sources. The packages also hold Node-only code (file
 * reading, jieba, stream-json) that the page never calls; those imports resolve to stand-ins
 * that throw "not available in the browser" if called, so a path that needs Node fails loudly
 * instead of the bundle failing to build. The demo corpus and document list (from the
 * `chinese-poetry` npm package) are written next to the bundle.
 *
 * The server (127.0.0.1 only) sends COOP/COEP headers, so the page is cross-origin isolated
 * (SharedArrayBuffer available: the cpu backend runs on every core through Web Workers); it serves
 * files only, all computation runs in the page. The build writes the same headers to dist/_headers
 * for static hosts that read one.
 */
import { builtinModules, createRequire } from 'node:module';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoData } from './scripts/demo-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const require = createRequire(join(here, 'package.json'));
const esbuild = require('esbuild');

const PACKAGES = ['common', 'random', 'tensor', 'bert', 'data', 'enhanced-decoder', 'train', 'eval', 'finetune'];
/** Imports the page never runs: Node built-ins and native/stream-only dependencies. */
const NODE_ONLY = [/^node:/, new RegExp(`^(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`), /^@node-rs\/jieba/, /^stream-json/];

function parseArgs(argv) {
  const args = { serve: false, port: 5173, out: join(here, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (argv[i + 1] === undefined) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--serve') args.serve = true;
    else if (a === '--port') args.port = Number(next());
    else if (a === '--out') args.out = resolve(next());
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) fail(`--port must be 0..65535, got ${args.port}`);
  return args;
}

function fail(message) {
  console.error(`browser-studio: ${message}`);
  process.exit(2);
}

/**
 * Node-only modules become ES modules exporting the same names (read from the real module
 * here in Node), each a function that throws when the page calls or constructs it.
 */
const nodeOnlyStandIns = {
  name: 'node-only-stand-ins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!NODE_ONLY.some((pattern) => pattern.test(args.path))) return undefined;
      return { path: args.path, namespace: 'node-only', pluginData: { importer: args.importer } };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, async (args) => {
      let names = [];
      try {
        const real = createRequire(args.pluginData.importer || join(root, 'package.json'))(args.path);
        names = Object.keys(real).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
      } catch {
        // Not loadable here either: only a default export.
      }
      const lines = [
        `const standIn = (name) => { const f = function () { throw new Error(${JSON.stringify(args.path)} + ': ' + name + ' is not available in the browser'); }; return f; };`,
        'export default standIn("default");',
        ...names.map((name) => `export const ${name} = standIn(${JSON.stringify(name)});`),
      ];
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

function buildOptions(out) {
  return {
    entryPoints: { app: join(here, 'src/main.ts'), worker: join(here, 'src/worker.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    // Class names appear in messages (config classes, tokenizers); keep them through minification-free renaming.
    keepNames: true,
    logLevel: 'warning',
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
    alias: Object.fromEntries(PACKAGES.map((name) => [`@retro/${name}`, join(root, `packages/${name}/src/index.ts`)])),
    plugins: [nodeOnlyStandIns],
    // gpu.js reads `process.env`-free paths in the browser; the packages guard `typeof process`.
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, so the cpu backend's Web Workers). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

function copyStatic(out) {
  mkdirSync(out, { recursive: true });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(here, 'src', file), join(out, file));
  // Static hosts that read a _headers file (Netlify, Cloudflare Pages) send these with every file;
  // for others see the README (without them the cpu backend runs on one thread and says so).
  writeFileSync(join(out, '_headers'), `/*\n${Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** Static files from `out` on 127.0.0.1 with cross-origin isolation headers. */
export function serveStatic(out, port) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = normalize(join(out, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
    const headers = { 'cache-control': 'no-store', ...ISOLATION_HEADERS };
    if (!path.startsWith(out + sep) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end(`not found: ${url.pathname}`);
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise(server));
  });
}

/** Bundles the app into `out` (emptied first) with the demo data; returns esbuild's result. */
export async function buildStudio(out = join(here, 'dist')) {
  rmSync(out, { recursive: true, force: true });
  copyStatic(out);
  makeDemoData(join(out, 'demo'));
  return esbuild.build(buildOptions(out));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  await buildStudio(args.out);
  console.error(`browser-studio: built ${args.out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (!args.serve) return;
  // Rebuild on source changes (the packages' src included) while serving.
  const context = await esbuild.context({ ...buildOptions(args.out), plugins: [...buildOptions(args.out).plugins, { name: 'static', setup: (b) => b.onEnd(() => copyStatic(args.out)) }] });
  await context.watch();
  const server = await serveStatic(args.out, args.port);
  console.error(`browser-studio: serving http://127.0.0.1:${server.address().port}/ (cross-origin isolated; Ctrl-C to stop)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`browser-studio: ${error.stack ?? error}`);
    process.exit(1);
  });
}
