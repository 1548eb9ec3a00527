/**
 * RetroMAE Studio in a real browser (Debian's /usr/bin/chromium, driven by playwright-core; no
 * browser download): builds the app, serves it on 127.0.0.1, then as a user would
 *   - is refused bad files with errors that name them,
 *   - loads a small model folder made here (fresh tiny RetroMAE, vocab built from the corpus)
 *     and a corpus (the app's demo build of the `chinese-poetry` npm package),
 *   - trains a few steps (pausing and resuming once, and once with the tab hidden): every loss is
 *     finite and the loss goes down,
 *   - indexes documents and searches: a document's own text finds it first, scores sorted,
 *   - downloads the checkpoint zip and loads it in Node with `fromPretrained`: the same logits
 *     as the page's model.
 * Screenshots go to runs/browser-studio/. Without chromium the test is skipped with a message,
 * unless env CI is set (then it fails: .ci/run installs chromium).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWordPieceVocab, tokenizerFor } from '@retro/data';
import { RetroMAEForPretraining, retroMAEToMemory } from '@retro/enhanced-decoder';
// @ts-expect-error: plain .mjs build script without type declarations
import { buildStudio, serveStatic } from '../build.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve(here, '../../../runs/browser-studio');
/** Pretraining steps of the test run (the download is named after them). */
const STEPS = 32;
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`browser-studio test: ${CHROMIUM} is missing and CI is set (install Debian's chromium: apt-get install -y chromium)`);

interface StepReport {
  step: number;
  loss: number;
  encoderLoss: number;
  decoderLoss: number;
  tokensPerSecond: number;
}
interface StudioState {
  hasModel: boolean;
  hasCorpus: boolean;
  hasPairs: boolean;
  train: string;
  steps: StepReport[];
  finetune: { state: string; steps: StepReport[] };
  backend: string;
  events: string[];
  visibility: string[];
}

const studioState = (page: Page): Promise<StudioState> => page.evaluate(() => (window as unknown as { retroStudio: { state(): StudioState } }).retroStudio.state());

/** Polls the page's state; an error shown in `panel` meanwhile fails at once with its text. */
async function waitFor(page: Page, what: string, panel: string, predicate: (state: StudioState) => boolean, timeoutMs = 60_000): Promise<StudioState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await studioState(page);
    if (predicate(state)) return state;
    const error = await page.$eval(`#error-${panel}`, (box) => ((box as HTMLElement).hidden ? null : box.textContent));
    if (error) throw new Error(`while waiting for ${what}: the ${panel} panel shows: ${error}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; state ${JSON.stringify({ ...state, steps: state.steps.length })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function errorText(page: Page, panel: string): Promise<string> {
  await page.waitForSelector(`#error-${panel}:not([hidden])`, { timeout: 30_000 });
  return (await page.textContent(`#error-${panel}`)) ?? '';
}

describe.skipIf(!hasChromium)(`browser-studio in ${CHROMIUM}${hasChromium ? '' : ' (skipped: chromium missing; apt-get install -y chromium)'}`, () => {
  let work: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let url: string;
  const modelFiles: string[] = [];
  let corpusFile: string;
  let documents: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'retro-studio-'));
    mkdirSync(SHOTS, { recursive: true });
    const dist = join(work, 'dist');
    await buildStudio(dist);
    corpusFile = join(dist, 'demo', 'corpus.json');
    documents = readFileSync(join(dist, 'demo', 'documents.txt'), 'utf8').trim().split('\n');

    // The "bundled" model: a fresh tiny RetroMAE with a vocabulary built from the corpus, saved as an HF folder.
    const records = JSON.parse(readFileSync(corpusFile, 'utf8')) as Array<{ content: string }>;
    const tokenizer = tokenizerFor(await buildWordPieceVocab(records.map((r) => r.content), { minCharFrequency: 2 }));
    const model = RetroMAEForPretraining.fromConfig(
      { modelType: 'bert', vocabSize: tokenizer.vocabSize, hiddenSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 128, padTokenId: tokenizer.padTokenId },
      { seed: 7 },
    );
    const folder = join(work, 'tiny-retromae');
    mkdirSync(folder);
    const files = { ...retroMAEToMemory(model), 'vocab.txt': tokenizer.hfFiles()['vocab.txt'] };
    for (const [name, contents] of Object.entries(files)) {
      writeFileSync(join(folder, name), contents);
      modelFiles.push(join(folder, name));
    }

    server = await serveStatic(dist, 0);
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
    page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('backend-line')?.textContent?.startsWith('Backend:'), null, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('chooses a backend and says what it tried', async () => {
    const line = (await page.textContent('#backend-line')) ?? '';
    const attempts = await page.$$eval('#backend-attempts li', (items) => items.map((i) => i.textContent ?? ''));
    console.log(`[browser-studio] ${line}\n  ${attempts.join('\n  ')}`);
    expect(line).toMatch(/^Backend: (cpu|gpujs-webgl2|gpujs-webgpu) — /);
    // One candidate used, every other one with its reason.
    expect(attempts.filter((a) => a.startsWith('✔'))).toHaveLength(1);
    expect(attempts.some((a) => a.includes('gpujs-webgl2'))).toBe(true);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  });

  it('refuses bad files with errors that name them', async () => {
    const bad = join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'config.json'), '{"model_type": "bert"');
    writeFileSync(join(bad, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n');
    await page.setInputFiles('#model-files', [join(bad, 'config.json'), join(bad, 'vocab.txt')]);
    expect(await errorText(page, 'model')).toMatch(/missing model\.safetensors/);

    writeFileSync(join(bad, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    await page.setInputFiles('#model-files', [join(bad, 'config.json'), join(bad, 'vocab.txt'), join(bad, 'model.safetensors')]);
    await page.waitForFunction(() => !/missing/.test(document.getElementById('error-model')?.textContent ?? ''));
    expect(await errorText(page, 'model')).toMatch(/config\.json: not valid JSON/);

    writeFileSync(join(bad, 'corpus.json'), new Uint8Array([0xff, 0xfe, 0x00, 0x81]));
    writeFileSync(join(bad, 'broken.jsonl'), '{"text": "ok"\n');
    await page.setInputFiles('#corpus-files', [join(bad, 'corpus.json'), join(bad, 'broken.jsonl')]);
    const corpusError = await errorText(page, 'corpus');
    expect(corpusError).toMatch(/corpus\.json: not UTF-8 text/);
    expect(corpusError).toMatch(/broken\.jsonl: record 0: syntax: line 1 is not valid JSON/);
    expect((await studioState(page)).hasModel).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'errors.png'), fullPage: true });
  });

  it('loads a model folder and a corpus, tokenized in the worker', async () => {
    await page.setInputFiles('#model-files', modelFiles);
    await waitFor(page, 'the model', 'model', (s) => s.hasModel);
    expect(await page.textContent('#model-summary')).toMatch(/bert, 1 layers, hidden 32, 2 heads.*decoder c_head loaded/s);
    await page.fill('#max-length', '48');
    await page.setInputFiles('#corpus-files', [corpusFile]);
    await waitFor(page, 'the corpus', 'corpus', (s) => s.hasCorpus);
    await page.waitForFunction(() => /→ \d+ chunks/.test(document.getElementById('corpus-summary')?.textContent ?? ''));
    expect(await page.textContent('#corpus-summary')).toMatch(/^1000 documents from corpus\.json \(wudao, 1000 documents\) → \d+ chunks/);
    const events = (await studioState(page)).events;
    expect(events.filter((e) => e === 'corpus-progress').length).toBeGreaterThan(2);
  });

  it('cpu backend: helper threads are Web Workers, and the logits are bit-identical at 1, 2 and 3 threads', async () => {
    const backend = (await studioState(page)).backend;
    if (backend !== 'cpu') return console.log(`[browser-studio] backend ${backend}: the cpu thread check does not apply`);
    expect(await page.textContent('#backend-line')).toMatch(/cpu — WebAssembly (relaxed )?SIMD, \d+ threads? \(Web Workers over a shared WebAssembly\.Memory/);
    // 8 rows x 40 tokens of the demo text; every product parallel (threshold 0).
    const vocab = readFileSync(modelFiles.find((f) => f.endsWith('vocab.txt'))!, 'utf8').split('\n');
    const index = new Map(vocab.map((token, i) => [token, i]));
    const ids = documents.slice(0, 8).map((text) => [...text.padEnd(40, '。')].slice(0, 40).map((ch) => index.get(ch) ?? index.get('[UNK]')!));
    // Compared in the page (the logits are ~1M numbers): bits differing from the 1-thread run.
    type Run = { threads: number; info: { threads: number; workers: string; singleThreadReason?: string }; forwards: Array<{ threads: number; items: number; callerItems: number; differing: number }> };
    const runs = await page.evaluate(async (rows) => {
      type Logits = { data: number[]; gemm: { threads: number; items: number; callerItems: number } };
      const studio = (window as unknown as { retroStudio: { gemm(n: number, min?: number): Promise<Run['info']>; logits(ids: number[][]): Promise<Logits> } }).retroStudio;
      let reference: Float32Array | undefined;
      const out: Run[] = [];
      for (const threads of [1, 2, 3]) {
        const info = await studio.gemm(threads, 0);
        const forwards: Run['forwards'] = [];
        // Workers that are asleep or descheduled (shared cores) may let the caller take every item of
        // a product: at least 3 forwards, more (up to 15) until a worker has run items.
        for (let i = 0; i < 15 && (i < 3 || (threads > 1 && forwards.every((f) => f.callerItems === f.items))); i++) {
          const { data, gemm } = await studio.logits(rows);
          const bits = new Uint32Array(Float32Array.from(data).buffer);
          reference ??= new Float32Array(bits.buffer);
          const ref = new Uint32Array(reference.buffer);
          let differing = 0;
          for (let j = 0; j < bits.length; j++) if (bits[j] !== ref[j]) differing++;
          forwards.push({ ...gemm, differing });
        }
        out.push({ threads, info, forwards });
      }
      await studio.gemm(navigator.hardwareConcurrency || 1, 1 << 21);
      return out;
    }, ids);
    for (const { threads, info, forwards } of runs) {
      console.log(`[browser-studio] ${threads} thread(s): GEMM items run by Web Workers in the last product of ${forwards.length} forwards: ${forwards.map((f) => `${f.items - f.callerItems}/${f.items}`).join(', ')}`);
      expect(info, JSON.stringify(info)).toMatchObject({ threads, workers: 'web-workers' });
      for (const f of forwards) {
        expect(f.threads).toBe(threads);
        expect(f.differing, `${threads} threads: logits differing from 1 thread`).toBe(0);
      }
      if (threads > 1) expect(forwards.some((f) => f.callerItems < f.items), `${threads} threads: no item ran on a worker`).toBe(true);
      else expect(forwards.every((f) => f.callerItems === f.items)).toBe(true);
    }
  });

  it('trains: finite losses that go down, through a pause, another tab in front, a hidden tab and a frozen page', async () => {
    const steps = STEPS;
    await page.fill('#train-steps', String(steps));
    await page.fill('#train-batch', '8');
    await page.fill('#train-lr', '0.005');
    await page.fill('#train-warmup', '2');
    await page.click('#train-start');
    await waitFor(page, 'step 4', 'train', (s) => s.steps.length >= 4);
    await page.click('#train-pause');
    const paused = await waitFor(page, 'the pause', 'train', (s) => s.train === 'paused');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await studioState(page)).steps.length).toBe(paused.steps.length);
    await page.screenshot({ path: join(SHOTS, 'paused.png'), fullPage: true });
    await page.click('#train-resume');
    await waitFor(page, 'running again', 'train', (s) => s.train === 'running');

    // Another tab in front: its worker keeps training.
    const other = await page.context().newPage();
    await other.bringToFront();
    const visibility = await page.evaluate(() => document.visibilityState);
    const before = (await studioState(page)).steps.length;
    const whileBehind = await waitFor(page, 'steps with another tab in front', 'train', (s) => s.steps.length >= before + 2 || s.train === 'done');
    await other.close();
    await page.bringToFront();
    // Headless Chromium keeps background tabs 'visible', so the page's hidden path is checked next by emulation.
    console.log(`[browser-studio] visibility with another tab in front: ${visibility}; steps ${before} -> ${whileBehind.steps.length}`);
    expect(whileBehind.steps.length).toBeGreaterThan(before);

    // A hidden tab (emulated: document.visibilityState 'hidden' and its event): the worker trains on
    // and stops making plots nobody sees; visible again, the plot catches up with every step.
    const pointsNow = () => page.evaluate(() => document.querySelector('#loss-plot svg polyline')?.getAttribute('points')?.trim().split(/\s+/).length ?? 0);
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    const hiddenFrom = (await studioState(page)).steps.length;
    await setHidden(true);
    // The update running when the message came still sends its plot; the worker reads the message
    // before the next one, so from step hiddenFrom + 2 on no plot is made.
    const settled = await waitFor(page, 'the worker to see the hidden page', 'train', (s) => s.steps.length >= hiddenFrom + 2 || s.train === 'done');
    await new Promise((r) => setTimeout(r, 200)); // the frame that draws a plot already received
    const plotWhenHidden = await pointsNow();
    const whileHidden = await waitFor(page, 'steps while hidden', 'train', (s) => s.steps.length >= settled.steps.length + 3 || s.train === 'done');
    const plotWhileHidden = await pointsNow();
    await setHidden(false);
    const shown = (await studioState(page)).steps.length;
    await page.waitForFunction((n) => (document.querySelector('#loss-plot svg polyline')?.getAttribute('points')?.trim().split(/\s+/).length ?? 0) >= n, shown);
    console.log(`[browser-studio] emulated hidden tab: steps ${settled.steps.length} -> ${whileHidden.steps.length} while hidden; plot points ${plotWhenHidden} -> ${plotWhileHidden} while hidden, >= ${shown} once visible`);
    expect(whileHidden.steps.length).toBeGreaterThanOrEqual(settled.steps.length + 3);
    expect(plotWhileHidden).toBe(plotWhenHidden);
    expect(whileHidden.visibility.slice(-1)).toEqual(['hidden']);
    expect((await studioState(page)).events).toContain('plot');

    // A frozen page (what Chrome does to long-hidden tabs; CDP Page.setWebLifecycleState): nothing is
    // lost, and training goes on from where it was once the page is active again.
    const cdp = await page.context().newCDPSession(page);
    const frozenFrom = (await studioState(page)).steps.length;
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await new Promise((r) => setTimeout(r, 1500));
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    const thawed = await waitFor(page, 'steps after the page was frozen', 'train', (s) => s.steps.length >= frozenFrom + 2 || s.train === 'done');
    console.log(`[browser-studio] frozen 1.5 s at step ${frozenFrom}; ${thawed.steps.length} steps once active again`);
    await cdp.detach();

    const done = await waitFor(page, 'the end of training', 'train', (s) => s.train === 'done', 120_000);
    expect(done.steps.map((s) => s.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    for (const report of done.steps) {
      for (const key of ['loss', 'encoderLoss', 'decoderLoss', 'tokensPerSecond'] as const) expect(Number.isFinite(report[key]), `step ${report.step} ${key}`).toBe(true);
      expect(report.loss).toBeCloseTo(report.encoderLoss + report.decoderLoss, 4);
    }
    const mean = (xs: StepReport[]) => xs.reduce((a, r) => a + r.loss, 0) / xs.length;
    const first = mean(done.steps.slice(0, 4));
    const last = mean(done.steps.slice(-4));
    console.log(`[browser-studio] loss ${first.toFixed(3)} (steps 1-4) -> ${last.toFixed(3)} (steps ${steps - 3}-${steps}); ${Math.round(done.steps[steps - 1].tokensPerSecond)} tokens/s on ${done.backend}`);
    expect(last).toBeLessThan(first - 0.3);
    expect(await page.textContent('#train-status')).toMatch(new RegExp(`Done \\(finished ${steps} steps\\) on ${done.backend}: step ${steps}, loss \\d+\\.\\d+, [\\d,]+ tokens/s`));
    // The plot is drawn on the next animation frame with all the steps.
    await page.waitForFunction((n) => document.querySelector('#loss-plot svg polyline')?.getAttribute('points')?.trim().split(/\s+/).length === n, steps);
  });

  it('searches a document list: top-k with scores, a document finds itself first', async () => {
    type Row = { index: number; score: number; text: string | null };
    const search = async (query: string): Promise<Row[]> => {
      await page.fill('#search-query', query);
      await page.fill('#search-k', '5');
      await page.$eval('#search-results tbody', (body) => (body.innerHTML = ''));
      await page.click('#search-run');
      await page.waitForSelector('#search-results tbody tr');
      return page.$$eval('#search-results tbody tr', (trs) =>
        trs.map((tr) => ({ index: Number((tr as HTMLElement).dataset.index), score: Number((tr as HTMLElement).dataset.score), text: tr.children[2].textContent })),
      );
    };
    await page.click('#search-demo');
    await page.waitForFunction(() => (document.getElementById('search-documents') as HTMLTextAreaElement).value.length > 0);

    // RetroMAE's [CLS] embedding: after a few dozen steps it barely varies between inputs, so only the mechanics are checked.
    await page.click('#search-index');
    await page.waitForFunction(() => /Indexed 60 documents \(32-d \[CLS\] vectors\)/.test(document.getElementById('index-status')?.textContent ?? ''));
    const cls = await search(documents[5]);
    expect(cls).toHaveLength(5);
    for (let i = 1; i < cls.length; i++) expect(cls[i].score).toBeLessThanOrEqual(cls[i - 1].score);

    // Mean pooling separates documents even this early: each document finds itself first, with a
    // margin far above rounding. (a few dozen steps of a 32-wide model give no retrieval quality to measure:
    // every pair of poems scores ~0.998.)
    await page.selectOption('#search-pooling', 'mean');
    await page.click('#search-index');
    await page.waitForFunction(() => /Indexed 60 documents \(32-d mean-pooled vectors\)/.test(document.getElementById('index-status')?.textContent ?? ''));
    for (const target of [3, 17, 41]) {
      const rows = await search(documents[target]);
      console.log(`[browser-studio] document ${target} as the query: ${rows.map((r) => `${r.index}:${r.score.toFixed(5)}`).join(', ')}`);
      expect(rows).toHaveLength(5);
      for (let i = 1; i < rows.length; i++) expect(rows[i].score).toBeLessThanOrEqual(rows[i - 1].score);
      expect(rows[0]).toMatchObject({ index: target, text: documents[target] });
      expect(rows[0].score).toBeGreaterThan(0.99999);
      expect(rows[1].score).toBeLessThan(rows[0].score - 1e-4);
    }
    await page.screenshot({ path: join(SHOTS, 'studio.png'), fullPage: true });
  });

  it('downloads the checkpoint; Node loads it with fromPretrained to the same logits', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`retromae-studio-step-${STEPS}.zip`);
    const zipPath = join(work, download.suggestedFilename());
    await download.saveAs(zipPath);
    const entries = unzipSync(new Uint8Array(readFileSync(zipPath)));
    const folder = join(work, 'downloaded');
    for (const [name, bytes] of Object.entries(entries)) {
      mkdirSync(dirname(join(folder, name)), { recursive: true });
      writeFileSync(join(folder, name), bytes);
    }
    const dir = join(folder, `retromae-studio-step-${STEPS}`);
    expect(Object.keys(entries).map((n) => n.slice(n.indexOf('/') + 1)).sort()).toEqual(['config.json', 'metrics.jsonl', 'model.safetensors', 'vocab.txt']);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(STEPS);

    const loaded = RetroMAEForPretraining.fromPretrained(dir);
    const ids = [documents[3], documents[40]].map((text) => {
      const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').split('\n');
      const index = new Map(vocab.map((token, i) => [token, i]));
      return [index.get('[CLS]')!, ...[...text].slice(0, 14).map((ch) => index.get(ch) ?? index.get('[UNK]')!), index.get('[SEP]')!];
    });
    const inPage = (await page.evaluate((rows) => (window as unknown as { retroStudio: { logits(ids: number[][]): Promise<{ shape: number[]; data: number[] }> } }).retroStudio.logits(rows), ids)) as { shape: number[]; data: number[] };
    const inNode = loaded.encoder.forward({ inputIds: ids });
    expect(inPage.shape).toEqual([...inNode.logits.shape]);
    const expected = inNode.logits.toFloat32Array();
    let maxErr = 0;
    let maxRef = 0;
    for (let i = 0; i < expected.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(inPage.data[i] - expected[i]));
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
    }
    console.log(`[browser-studio] downloaded checkpoint: max |logit(page) - logit(node)| = ${maxErr.toExponential(2)} (max |logit| ${maxRef.toFixed(2)})`);
    expect(maxErr).toBeLessThanOrEqual(1e-4 * maxRef + 1e-6);
    // The page's model is trained: the download is not the initial model.
    const initial = RetroMAEForPretraining.fromPretrained(dirname(modelFiles[0])).encoder.forward({ inputIds: ids }).logits.toFloat32Array();
    expect(initial.some((v, i) => Math.abs(v - expected[i]) > 1e-3)).toBe(true);
  });

  it('fine-tunes contrastively on dropped pairs (finite, falling InfoNCE loss), and search then uses the fine-tuned model', async () => {
    // Bad pair files are refused, naming file, line and field.
    const bad = join(work, 'bad-pairs');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'sts.jsonl'), '{"sentence1":"a","sentence2":"b","score":1}\n{"sentence1":"a","sentence2":"b"}\n');
    await page.setInputFiles('#pairs-files', [join(bad, 'sts.jsonl')]);
    expect(await errorText(page, 'finetune')).toMatch(/sts\.jsonl:2: field "score": expected a finite number, found nothing/);
    writeFileSync(join(bad, 'other.jsonl'), '{"text":"a"}\n');
    await page.setInputFiles('#pairs-files', [join(bad, 'other.jsonl')]);
    await page.waitForFunction(() => !/sts\.jsonl/.test(document.getElementById('error-finetune')?.textContent ?? ''));
    expect(await errorText(page, 'finetune')).toMatch(/other\.jsonl:1: expected \{"query", "pos": \[\.\.\], "neg": \[\.\.\]\} \(InfoNCE\) or \{"sentence1", "sentence2", "score"\} \(CoSENT\) records, found fields \["text"\]/);
    expect((await studioState(page)).hasPairs).toBe(false);

    // The demo pairs: a verse -> its poem; the search documents are 60 of those poems.
    await page.click('#pairs-demo');
    await waitFor(page, 'the pairs', 'finetune', (s) => s.hasPairs);
    expect(await page.textContent('#pairs-summary')).toMatch(/^300 query\/passage triples from demo\/pairs\.jsonl \(300\) → InfoNCE/);
    const verses = readFileSync(join(work, 'dist', 'demo', 'pairs.jsonl'), 'utf8').trim().split('\n').slice(0, 60).map((line) => (JSON.parse(line) as { query: string }).query);

    // Rank of each verse's own poem among the 60 documents (mean pooling, the fine-tuned embedding).
    const targets = Array.from({ length: 15 }, (_, i) => i * 4);
    const ranks = async (): Promise<number[]> => {
      const out: number[] = [];
      for (const target of targets) {
        await page.fill('#search-query', verses[target]);
        await page.fill('#search-k', '60');
        await page.$eval('#search-results tbody', (body) => (body.innerHTML = ''));
        await page.click('#search-run');
        await page.waitForSelector('#search-results tbody tr');
        out.push((await page.$$eval('#search-results tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.index)))).indexOf(target));
      }
      return out;
    };
    await page.selectOption('#search-pooling', 'mean');
    const before = await ranks();

    const steps = 20;
    await page.fill('#finetune-steps', String(steps));
    await page.fill('#finetune-batch', '16');
    await page.fill('#finetune-lr', '0.01');
    await page.fill('#finetune-temperature', '0.05');
    await page.selectOption('#finetune-pooling', 'mean');
    await page.click('#finetune-start');
    const done = await waitFor(page, 'the end of fine-tuning', 'finetune', (s) => s.finetune.state === 'done', 180_000);
    const losses = done.finetune.steps.map((r) => r.loss);
    expect(done.finetune.steps.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    for (const report of done.finetune.steps) {
      expect(Number.isFinite(report.loss) && Number.isFinite(report.tokensPerSecond), `fine-tuning step ${report.step}`).toBe(true);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`[browser-studio] fine-tuning InfoNCE (batch 16, in-batch negatives; ln 16 = 2.77): ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) - 0.5);
    // The pretraining steps are untouched; the fine-tuning plot has every step.
    expect(done.steps).toHaveLength(STEPS);
    await page.waitForFunction((n) => document.querySelector('#finetune-plot svg polyline')?.getAttribute('points')?.trim().split(/\s+/).length === n, steps);
    expect(await page.textContent('#finetune-status')).toMatch(new RegExp(`Done \\(finished ${steps} steps\\) on ${done.backend}: step ${steps}, loss \\d+\\.\\d+`));

    // Search re-embeds the documents with the fine-tuned encoder: verses find their poems far better.
    const after = await ranks();
    console.log(`[browser-studio] rank of each verse's poem among 60 (0 = first): before ${before.join(',')} (mean ${mean(before).toFixed(1)}), after fine-tuning ${after.join(',')} (mean ${mean(after).toFixed(1)})`);
    expect(mean(after)).toBeLessThan(mean(before) / 2);
    // The README's screenshot: a verse as the query, top 5.
    await page.fill('#search-query', verses[8]);
    await page.fill('#search-k', '5');
    await page.$eval('#search-results tbody', (body) => (body.innerHTML = ''));
    await page.click('#search-run');
    await page.waitForSelector('#search-results tbody tr');
    await page.screenshot({ path: join(SHOTS, 'finetune.png'), fullPage: true });
  });
});
