/**
 * Training on WebGPU against the cpu backend, in one page: 50 AdamW steps of the fixture-sized
 * RetroMAE model (fixture weights and batch, so the same start on both) on cpu and on gpujs mode
 * webgpu must give the same loss curve within float32 noise; and a run stopped after 25 steps on one
 * backend, its parameters and optimizer state carried over as a checkpoint holds them (host arrays:
 * the same NamedArray / AdamW stateDict a checkpoint writes), must continue on the other backend
 * along the uninterrupted curve. Steps run through @retro/train's runUpdate (clip 1.0, AdamW on
 * the device), which on webgpu reads back once per step: checked here by the transfer count.
 */
import { gpujsInfo, readTensors, setBackend } from '@retro/tensor';
import { AdamW } from '../../packages/train/src/optim/adamw.js';
import { runUpdate } from '../../packages/train/src/loop/step.js';
import { RetroMAEObjective, type RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { batchOf, fetchJson, loadModel, type Inputs, type ParityCheck } from './retromae-parity.js';

interface Snapshot {
  params: Map<string, Float32Array>;
  optimizer: ReturnType<AdamW['stateDict']>;
}

interface Run {
  losses: number[];
  snapshot?: Snapshot;
  /** Device-to-host transfers per update (webgpu only). */
  transfersPerStep?: number[];
}

const LR = 1e-3;

async function train(backend: string, kind: string, inputs: Inputs, first: number, last: number, start?: Snapshot, snapshotAt?: number): Promise<Run> {
  setBackend(backend);
  const model: RetroMAEForPretraining = await loadModel(`/fixtures/${kind}`);
  const optimizer = new AdamW(model.namedParameters(), { lr: LR, weightDecay: 0.01 });
  const params = model.namedParameters();
  if (start) {
    for (const [name, p] of params) p.assign(start.params.get(name)!);
    optimizer.loadStateDict(start.optimizer, 'snapshot');
  }
  const run: Run = { losses: [], transfersPerStep: [] };
  const objective = new RetroMAEObjective(model);
  const batch = { ...batchOf(inputs), tokens: inputs.attention_mask.flat().filter((v) => v !== 0).length };
  const batches = { next: () => batch, state: () => null, restore: () => {} };
  const parts = { model: objective, batches, optimizer, namedParameters: params, params: params.map(([, p]) => p), accumulation: 1, clipNorm: 1.0 };
  for (let step = first; step < last; step++) {
    const before = backend === 'cpu' ? 0 : gpujsInfo(backend).transfers ?? 0;
    const { outcome } = await runUpdate(parts, LR, step + 1, step);
    if (backend !== 'cpu') run.transfersPerStep!.push((gpujsInfo(backend).transfers ?? 0) - before);
    run.losses.push(outcome!.losses.loss);
    if (snapshotAt === step + 1) {
      const values = await readTensors(params.map(([, p]) => p));
      await readTensors(optimizer.stateTensors());
      run.snapshot = { params: new Map(params.map(([name], i) => [name, values[i] as Float32Array])), optimizer: optimizer.stateDict() };
    }
  }
  return run;
}

function compareCurves(what: string, got: readonly number[], want: readonly number[], tolerance: number): ParityCheck {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.abs(want[i]));
  const pass = got.length === want.length && worst <= tolerance && got.every(Number.isFinite);
  return { check: what, pass, relErr: worst, note: `${got.length} steps, loss ${want[0]?.toFixed(4)} -> ${want[want.length - 1]?.toFixed(4)} (cpu), tolerance ${tolerance}` };
}

/** The loss-curve and cross-backend resume checks; `gpu` is the registered webgpu backend's name. */
export async function trainingParity(kind: string, gpu: string, steps = 50): Promise<{ checks: ParityCheck[]; curves: Record<string, number[]> }> {
  const inputs = await fetchJson<Inputs>(`/fixtures/${kind}/inputs.json`);
  const half = Math.floor(steps / 2);
  const cpu = await train('cpu', kind, inputs, 0, steps, undefined, half);
  const webgpu = await train(gpu, kind, inputs, 0, steps, undefined, half);
  const webgpuThenCpu = await train('cpu', kind, inputs, half, steps, webgpu.snapshot);
  const cpuThenWebgpu = await train(gpu, kind, inputs, half, steps, cpu.snapshot);
  setBackend(gpu);
  // float32 noise: both backends round differently at every op; over 50 Adam steps the curves
  // agreed to 4e-7 relative on SwiftShader, so 1e-4 leaves room without hiding a wrong kernel.
  const tolerance = 1e-4;
  const checks = [
    compareCurves(`${kind} ${steps} AdamW steps: webgpu loss curve vs cpu`, webgpu.losses, cpu.losses, tolerance),
    compareCurves(`${kind} resume: ${half} steps on webgpu, then cpu from its state`, webgpuThenCpu.losses, cpu.losses.slice(half), tolerance),
    compareCurves(`${kind} resume: ${half} steps on cpu, then webgpu from its state`, cpuThenWebgpu.losses, cpu.losses.slice(half), tolerance),
  ];
  const transfers = [...webgpu.transfersPerStep!, ...cpuThenWebgpu.transfersPerStep!];
  checks.push({
    check: `${kind} runUpdate on webgpu reads back once per step`,
    pass: transfers.length > 0 && transfers.every((n) => n === 1),
    relErr: Math.max(...transfers),
    note: `transfers per step: max ${Math.max(...transfers)}, min ${Math.min(...transfers)} over ${transfers.length} steps`,
  });
  const drop = cpu.losses[steps - 1] / cpu.losses[0];
  checks.push({ check: `${kind} the curve is a training curve (final/initial loss)`, pass: drop < 0.9, relErr: drop, note: 'final / initial cpu loss must be < 0.9' });
  return { checks, curves: { cpu: cpu.losses, webgpu: webgpu.losses, webgpuThenCpu: webgpuThenCpu.losses, cpuThenWebgpu: cpuThenWebgpu.losses } };
}
