/**
 * The WebGPU page (bundled by run.mjs --webgpu): selects gpujs in mode webgpu, runs the op suite
 * (packages/tensor/test/browser/op-suite.ts) and the RetroMAE fixture parity, and POSTs the
 * results back. Query: ?parts=ops,parity,training,memory&kinds=bert,roberta&steps=50&memory=tiny:16,base:1
 * (memory: CONFIG:BATCH pairs measured by memory-report.ts, RetroMAE and MLM each)
 */
import * as T from '@retro/tensor';
import { runOpSuite, type SuiteResult } from '../../packages/tensor/test/browser/op-suite.js';
import { adamwParity, forwardBackwardParity, type ParityCheck } from './retromae-parity.js';
import { trainingParity } from './training-parity.js';
import { measureMemory, parseMemoryPlan, type MemoryRow } from './memory-report.js';

const params = new URLSearchParams(location.search);
const parts = (params.get('parts') ?? 'ops,parity').split(',');
const kinds = (params.get('kinds') ?? 'bert,roberta').split(',').filter(Boolean);

const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const log = (line: string) => post('log', { line });
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function main(): Promise<void> {
  const result: {
    env: Record<string, unknown>;
    info?: unknown;
    ops: SuiteResult[];
    parity: ParityCheck[];
    training: ParityCheck[];
    curves?: Record<string, number[]>;
    memory?: MemoryRow[];
    fatal?: string;
  } = { env: { userAgent: navigator.userAgent, webgpu: 'gpu' in navigator }, ops: [], parity: [], training: [] };
  try {
    T.registerGpujsBackend({ mode: 'webgpu' });
    await T.setBackendAsync('gpujs');
    result.info = T.gpujsInfo('gpujs');
    await log(`backend gpujs: ${JSON.stringify(result.info)}`);
    if (parts.includes('ops')) result.ops = await runOpSuite((line) => void log(line));
    if (parts.includes('parity')) {
      for (const kind of kinds) {
        for (const run of [forwardBackwardParity, adamwParity]) {
          try {
            const checks = await run(kind);
            for (const c of checks) await log(`${c.pass ? 'ok  ' : 'FAIL'} ${c.check} relErr ${c.relErr.toExponential(2)}${c.note ? ` ${c.note}` : ''}`);
            result.parity.push(...checks);
          } catch (error) {
            result.parity.push({ check: `${kind} ${run.name}`, pass: false, relErr: Infinity, note: message(error) });
            await log(`FAIL ${kind} ${run.name}: ${message(error)}`);
          }
        }
      }
    }
    if (parts.includes('training')) {
      const steps = Number(params.get('steps') ?? 50);
      try {
        const { checks, curves } = await trainingParity(kinds[0], 'gpujs', steps);
        result.training = checks;
        result.curves = curves;
        for (const c of checks) await log(`${c.pass ? 'ok  ' : 'FAIL'} ${c.check} relErr ${c.relErr.toExponential(2)} ${c.note ?? ''}`);
      } catch (error) {
        result.training.push({ check: 'training parity', pass: false, relErr: Infinity, note: message(error) });
        await log(`FAIL training parity: ${message(error)}`);
      }
    }
    if (parts.includes('memory')) {
      result.memory = [];
      for (const { config, batch } of parseMemoryPlan(params.get('memory') ?? 'tiny:16')) {
        for (const objective of ['retromae', 'mlm'] as const) {
          const row = await measureMemory(config, objective, batch);
          result.memory.push(row);
          await log(`memory ${JSON.stringify(row)}`);
        }
      }
    }
    result.info = T.gpujsInfo('gpujs');
  } catch (error) {
    result.fatal = `${message(error)}\n${error instanceof Error ? error.stack : ''}`;
  }
  await post('result', result);
}

void main();
