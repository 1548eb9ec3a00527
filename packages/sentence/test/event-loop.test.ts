/**
 * The point of the worker: while a long encode runs, the caller's event loop keeps ticking (a
 * server keeps answering). Measured as the longest gap between 10 ms timer ticks during one
 * single-batch encode; the same encode on the calling thread shows what blocking looks like, so
 * the measurement is known to catch it.
 */
import { describe, expect, it } from 'vitest';
import { SentenceEncoder } from '../src/index.js';
import { FIXTURE } from './helpers.js';

const chars = '万东丱乆乛买亅亚亯仄与乔乷乾介优佥侲俿偌備僦亨仵伦';
// 480 texts: on a quiet 2-core machine 120 encoded in ~230 ms, under the 300 ms the comparison needs
const texts = Array.from({ length: 480 }, (_, i) => Array.from({ length: 60 }, (_, k) => chars[(i * 7 + k * 3) % chars.length]).join(''));

async function timerGapsDuringEncode(encoder: SentenceEncoder): Promise<{ ms: number; maxGap: number; ticks: number }> {
  await encoder.encode(texts.slice(0, 4)); // warm up (kernels, first allocation)
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 10);
  const started = performance.now();
  // One batch: on the calling thread nothing else could run until it is done.
  await encoder.encode(texts, { batchSize: texts.length });
  const ms = performance.now() - started;
  clearInterval(timer);
  maxGap = Math.max(maxGap, performance.now() - last);
  return { ms, maxGap, ticks };
}

describe('SentenceEncoder keeps the event loop free', () => {
  it('in a worker thread, timers keep firing during a long encode; on the calling thread they do not', async () => {
    const inWorker = await SentenceEncoder.fromPretrained(FIXTURE);
    const free = await timerGapsDuringEncode(inWorker);
    await inWorker.close();
    const onThread = await SentenceEncoder.fromPretrained(FIXTURE, { worker: false });
    const blocked = await timerGapsDuringEncode(onThread);
    await onThread.close();
    console.log(`worker: encode ${free.ms.toFixed(0)} ms, ${free.ticks} ticks, longest gap ${free.maxGap.toFixed(0)} ms; calling thread: encode ${blocked.ms.toFixed(0)} ms, ${blocked.ticks} ticks, longest gap ${blocked.maxGap.toFixed(0)} ms`);
    expect(free.ms).toBeGreaterThan(300); // long enough for the comparison to mean something
    expect(free.maxGap).toBeLessThan(free.ms / 4);
    expect(free.ticks).toBeGreaterThan(free.ms / 10 / 4);
    expect(blocked.maxGap).toBeGreaterThan(blocked.ms * 0.8);
  });
});
