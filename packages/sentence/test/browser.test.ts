/**
 * The browser entry: bundled by esbuild for platform=browser with no Node built-in anywhere in its
 * import graph, loaded from an in-memory file map (bytes and File objects), and, where Chromium is
 * installed, run in headless Chromium on the page (fromPretrained(url) by fetch) and in a module
 * Web Worker (connectWorker), each checked against the fixture's float64 references.
 */
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as esbuild from 'esbuild';
import { FIXTURE, FIXTURE_TEXTS, expectedTensor, filesOf, maxDifference } from './helpers.js';

const repo = resolve(__dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'retro-sentence-browser-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const bundle = join(out, 'sentence.js');
let metafile: esbuild.Metafile;

const packages = ['common', 'random', 'tensor', 'bert', 'data', 'sentence'];
beforeAll(async () => {
  const result = await esbuild.build({
    entryPoints: [join(repo, 'packages/sentence/src/browser.ts')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
    // Inputs named relative to the repository, whatever folder vitest was started in.
    absWorkingDir: repo,
    // The packages' sources, as a bundler of the published packages would see them through the "browser" condition.
    alias: {
      '@retro/data/tokenizers': join(repo, 'packages/data/src/tokenizers/index.ts'),
      ...Object.fromEntries(packages.map((name) => [`@retro/${name}`, join(repo, `packages/${name}/src/${name === 'sentence' ? 'browser' : 'index'}.ts`)])),
    },
  });
  metafile = result.metafile;
});

const isNodeBuiltin = (path: string) => path.startsWith('node:') || builtinModules.includes(path) || builtinModules.includes(path.split('/')[0]!);

describe('@retro/sentence in browsers', () => {
  it('bundles for platform=browser with no Node built-in imported anywhere (tensor, tokenizers, bert included)', () => {
    const inputs = Object.keys(metafile.inputs);
    // The tensor core, the tokenizers and bert are really in the bundle, not left out.
    for (const part of ['packages/tensor/src/index.ts', 'packages/data/src/tokenizers/auto.ts', 'packages/bert/src/in-memory.ts', 'packages/sentence/src/browser.ts']) {
      expect(inputs.some((input) => input.endsWith(part)), part).toBe(true);
    }
    // Neither jieba nor anything else of @retro/data beyond the tokenizers.
    expect(inputs.filter((input) => /packages\/data\/src\/(corpus|text|shards|masking|batching|prepare)|@node-rs/.test(input))).toEqual([]);
    const nodeImports = Object.entries(metafile.inputs).flatMap(([input, info]) => info.imports.filter((i) => isNodeBuiltin(i.path)).map((i) => `${input} -> ${i.path}`));
    expect(nodeImports).toEqual([]);
    const outputImports = Object.values(metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(outputImports).toEqual([]);
  });

  it('the bundle loads the model from an in-memory file map (bytes, or File objects as a folder picker gives them)', () => {
    // A plain Node process runs the bundle (vitest's module runner would transform it).
    const script = join(out, 'in-memory.mjs');
    writeFileSync(
      script,
      `import { SentenceEncoder } from ${JSON.stringify(pathToFileURL(bundle).href)};
const files = ${JSON.stringify(Object.fromEntries(Object.entries(filesOf(FIXTURE)).map(([path, bytes]) => [path, Buffer.from(bytes).toString('base64')])))};
const bytes = Object.fromEntries(Object.entries(files).map(([path, b64]) => [path, new Uint8Array(Buffer.from(b64, 'base64'))]));
const texts = ${JSON.stringify(FIXTURE_TEXTS)};
const out = {};
const fromBytes = await SentenceEncoder.fromFiles(bytes, { source: 'dropped' });
out.info = fromBytes.info;
out.runsIn = fromBytes.runsIn;
out.fromBytes = (await fromBytes.encode(texts, { batchSize: 2 })).map((row) => Array.from(row));
const picked = Object.entries(bytes).map(([path, b]) => {
  const file = new File([b], path.split('/').pop());
  Object.defineProperty(file, 'webkitRelativePath', { value: 'bert-model/' + path });
  return file;
});
const fromFileObjects = await SentenceEncoder.fromFiles(picked);
out.poolingFrom = fromFileObjects.info.poolingFrom;
out.fromFileObjects = (await fromFileObjects.encode(texts)).map((row) => Array.from(row));
const { 'model.safetensors': _w, ...withoutWeights } = bytes;
out.missing = await SentenceEncoder.fromFiles(withoutWeights, { source: 'dropped' }).then(() => 'loaded', (e) => e.message);
console.log(JSON.stringify(out));
`,
    );
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
    const reference = expectedTensor('sentence_embedding_cls_normalized').data;
    expect(result.runsIn).toBe('this thread');
    expect(result.info).toMatchObject({ source: 'dropped', dimension: 32, pooling: 'cls', normalize: true });
    expect(maxDifference(result.fromBytes.map((r: number[]) => Float32Array.from(r)), reference)).toBeLessThan(1e-5);
    expect(result.poolingFrom).toMatch(/1_Pooling\/config\.json$/);
    expect(maxDifference(result.fromFileObjects.map((r: number[]) => Float32Array.from(r)), reference)).toBeLessThan(1e-5);
    expect(result.missing).toMatch(/dropped: no model\.safetensors \(the folder holds 1_Pooling\/config\.json, config\.json/);
  });

  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  it.skipIf(!existsSync(chromium))(`headless Chromium: fromPretrained(url) on the page and connectWorker in a module Web Worker (skips without ${chromium})`, async () => {
    const site = join(out, 'site');
    mkdirSync(site, { recursive: true });
    cpSync(bundle, join(site, 'sentence.js'));
    cpSync(FIXTURE, join(site, 'model'), { recursive: true });
    writeFileSync(join(site, 'worker.js'), "import { serveSentenceEncoderInWorker } from './sentence.js';\nserveSentenceEncoderInWorker();\n");
    writeFileSync(
      join(site, 'index.html'),
      `<!doctype html><meta charset="utf-8"><script type="module">
import { SentenceEncoder, connectWorker } from './sentence.js';
const texts = ${JSON.stringify(FIXTURE_TEXTS)};
try {
  const onPage = await SentenceEncoder.fromPretrained('./model/');
  const page = (await onPage.encode(texts, { batchSize: 2 })).map((row) => Array.from(row));
  const worker = await connectWorker(new Worker('./worker.js', { type: 'module' }), { url: new URL('./model/', location.href).href });
  const progress = [];
  const inWorker = (await worker.encode(texts, { batchSize: 3, onProgress: (p) => progress.push(p.done) })).map((row) => Array.from(row));
  await worker.close();
  window.result = { page, inWorker, progress, runsIn: [onPage.runsIn, worker.runsIn] };
} catch (error) { window.result = { error: String(error && error.stack || error) }; }
</script>`,
    );
    const server: Server = createServer((req, res) => {
      const path = normalize(join(site, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      if (!path.startsWith(site + sep) || !existsSync(path)) return void res.writeHead(404).end();
      const type = { '.js': 'text/javascript; charset=utf-8', '.html': 'text/html; charset=utf-8' }[extname(path)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type }).end(readFileSync(path));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { chromium: launcher } = await import('playwright-core');
    const browser = await launcher.launch({ executablePath: chromium, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const port = (server.address() as { port: number }).port;
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 90_000 });
      const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as { page: number[][]; inWorker: number[][]; progress: number[]; runsIn: string[]; error?: string };
      expect(result.error).toBeUndefined();
      const reference = expectedTensor('sentence_embedding_cls_normalized').data;
      expect(maxDifference(result.page.map((r) => Float32Array.from(r)), reference)).toBeLessThan(1e-5);
      expect(maxDifference(result.inWorker.map((r) => Float32Array.from(r)), reference)).toBeLessThan(1e-5);
      expect(result.progress).toEqual([3, 4]);
      expect(result.runsIn).toEqual(['this thread', 'worker']);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
