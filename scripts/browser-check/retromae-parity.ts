/**
 * RetroMAE parity in the browser, on whatever backend is active: forward outputs, both losses and
 * every parameter gradient against a fixture folder's float64 expected.safetensors, then AdamW
 * steps 1-3 against adamw.json. The same tolerances as the Node fixture tests
 * (packages/enhanced-decoder/test/fixtures.test.ts, packages/train/test/adamw-retromae-steps.test.ts).
 * Files come over HTTP from run.mjs (`/fixtures/<kind>/<file>`); every read is one async transfer.
 */
import { readTensors, type Tensor } from '@retro/tensor';
import { BertConfig, RobertaConfig, parseSafetensors, toFloat32 } from '@retro/bert';
import { RetroMAEForPretraining } from '@retro/enhanced-decoder';
import { AdamW } from '../../packages/train/src/optim/adamw.js';

export interface ParityCheck {
  check: string;
  pass: boolean;
  /** max |got - expected| / max |expected| (relative to the tensor's scale), or the loss's relative error. */
  relErr: number;
  note?: string;
}

export interface Inputs {
  attention_mask: number[][];
  encoder_input_ids: number[][];
  encoder_labels: number[][];
  decoder_input_ids: number[][];
  decoder_attention_mask: number[][][];
  decoder_labels: number[][];
  encoder_position_ids: number[][];
  decoder_embedding_position_ids: number[][];
}

interface AdamwFixture {
  hyperparameters: { lr: number; beta1: number; beta2: number; eps: number; weight_decay: number };
  tracked: Record<string, { shape: number[]; weight_decay: number }>;
  steps: Array<{ step: number; loss_before_step: number; params: Record<string, unknown> }>;
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

export const fetchJson = async <T>(url: string): Promise<T> => (await (await fetchOk(url)).json()) as T;
const bytes = async (url: string): Promise<Uint8Array> => new Uint8Array(await (await fetchOk(url)).arrayBuffer());

function tensorsOf(file: Uint8Array, source: string): Map<string, { shape: number[]; data: Float32Array }> {
  const parsed = parseSafetensors(file, source);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, raw] of parsed.tensors) out.set(name, { shape: [...raw.shape], data: toFloat32(raw, source, name) });
  return out;
}

export async function loadModel(base: string): Promise<RetroMAEForPretraining> {
  const config = await fetchJson<{ model_type?: string }>(`${base}/config.json`);
  const typed = config.model_type === 'roberta' ? RobertaConfig.fromJson(config, `${base}/config.json`) : BertConfig.fromJson(config, `${base}/config.json`);
  const model = RetroMAEForPretraining.fromConfig(typed);
  const weights = tensorsOf(await bytes(`${base}/model.safetensors`), `${base}/model.safetensors`);
  const names = new Map(model.namedParameters());
  const missing = [...names.keys()].filter((name) => !weights.has(name));
  const extra = [...weights.keys()].filter((name) => !names.has(name));
  if (missing.length || extra.length) throw new Error(`${base}/model.safetensors: missing ${missing.join(', ') || 'none'}; unexpected ${extra.join(', ') || 'none'}`);
  for (const [name, parameter] of names) parameter.assign(weights.get(name)!.data);
  model.eval();
  return model;
}

export function batchOf(inputs: Inputs) {
  return {
    encoderInputIds: inputs.encoder_input_ids,
    encoderAttentionMask: inputs.attention_mask,
    encoderLabels: inputs.encoder_labels,
    encoderPositionIds: inputs.encoder_position_ids,
    decoderInputIds: inputs.decoder_input_ids,
    decoderAttentionMask: inputs.decoder_attention_mask,
    decoderLabels: inputs.decoder_labels,
    decoderPositionIds: inputs.decoder_embedding_position_ids,
  };
}

/** max |got - want| relative to max |want|, with an absolute floor as the Node tests use. */
function relative(got: ArrayLike<number>, want: ArrayLike<number>, relTol: number, floor: number, what: string): ParityCheck {
  if (got.length !== want.length) return { check: what, pass: false, relErr: Infinity, note: `${got.length} values, expected ${want.length}` };
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    err = Number.isNaN(diff) ? Infinity : Math.max(err, diff);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { check: what, pass: err <= relTol * scale + floor, relErr: scale > 0 ? err / scale : err };
}

const flatten = (value: unknown): number[] => (Array.isArray(value) ? value.flatMap(flatten) : [value as number]);

/** Forward, losses and gradients of one fixture model (`kind` = bert | roberta). */
export async function forwardBackwardParity(kind: string): Promise<ParityCheck[]> {
  const base = `/fixtures/${kind}`;
  const inputs = await fetchJson<Inputs>(`${base}/inputs.json`);
  const expected = tensorsOf(await bytes(`${base}/expected.safetensors`), `${base}/expected.safetensors`);
  const model = await loadModel(base);
  const out = model.forward(batchOf(inputs), { outputLogits: true });
  const outputs: Array<[string, Tensor | undefined]> = [
    ['encoder.last_hidden_state', out.lastHiddenState],
    ['encoder.logits', out.encoderLogits],
    ['encoder.cls', out.cls],
    ['decoder.h1', out.h1],
    ['decoder.h2', out.h2],
    ['decoder.attention_output', out.decoderAttentionOutput],
    ['decoder.hidden', out.decoderHidden],
    ['decoder.logits', out.decoderLogits],
  ];
  const losses: Array<[string, Tensor | undefined]> = [
    ['encoder.loss', out.encoderLoss],
    ['decoder.loss', out.decoderLoss],
    ['loss', out.loss],
  ];
  const checks: ParityCheck[] = [];
  const present = [...outputs, ...losses].filter(([, t]) => t !== undefined) as Array<[string, Tensor]>;
  const values = await readTensors(present.map(([, t]) => t));
  present.forEach(([name, t], i) => {
    const want = expected.get(name);
    if (!want) {
      checks.push({ check: `${kind} ${name}`, pass: false, relErr: Infinity, note: 'not in expected.safetensors' });
      return;
    }
    if (t.shape.join() !== want.shape.join()) {
      checks.push({ check: `${kind} ${name}`, pass: false, relErr: Infinity, note: `shape [${t.shape}] vs [${want.shape}]` });
      return;
    }
    const isLoss = losses.some(([n]) => n === name);
    checks.push(isLoss ? relative(values[i], want.data, 1e-5, 0, `${kind} ${name}`) : relative(values[i], want.data, 1e-4, 1e-6, `${kind} ${name}`));
  });
  for (const [name, t] of outputs) if (!t) checks.push({ check: `${kind} ${name}`, pass: false, relErr: Infinity, note: 'the model did not return it' });

  out.loss.backward();
  const params = model.namedParameters();
  const grads = params.map(([name, p]) => {
    if (!p.grad) throw new Error(`${kind}: no gradient for ${name}`);
    return p.grad;
  });
  const gradValues = await readTensors(grads);
  let worst: ParityCheck = { check: '', pass: true, relErr: 0 };
  let failed = 0;
  params.forEach(([name], i) => {
    const want = expected.get(`grad.${name}`);
    const check = want ? relative(gradValues[i], want.data, 1e-3, 1e-6, `${kind} grad.${name}`) : { check: `${kind} grad.${name}`, pass: false, relErr: Infinity, note: 'not in expected.safetensors' };
    if (!check.pass) {
      failed++;
      checks.push(check);
    }
    // Key biases have a mathematically zero gradient: their relative error says nothing, and
    // they pass on the absolute floor.
    const scale = want ? Math.max(...Array.from(want.data, Math.abs)) : Infinity;
    if (scale > 1e-4 && (check.relErr > worst.relErr || !worst.check)) worst = check;
  });
  checks.push({
    check: `${kind} every gradient (${params.length} parameters)`,
    pass: failed === 0,
    relErr: worst.relErr,
    note: `worst: ${worst.check} (gradients with max |expected| <= 1e-4 are held to the 1e-6 absolute floor)`,
  });
  return checks;
}

/** AdamW steps 1-3 of the full model against torch.optim.AdamW in float64 (adamw.json). */
export async function adamwParity(kind: string): Promise<ParityCheck[]> {
  const base = `/fixtures/${kind}`;
  const fixture = await fetchJson<AdamwFixture>(`${base}/adamw.json`);
  const inputs = await fetchJson<Inputs>(`${base}/inputs.json`);
  const model = await loadModel(base);
  const h = fixture.hyperparameters;
  const optimizer = new AdamW(model.namedParameters(), { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, weightDecay: h.weight_decay });
  const params = new Map(model.namedParameters());
  const checks: ParityCheck[] = [];
  for (const expected of fixture.steps) {
    model.zeroGrad();
    const { loss } = model.forward(batchOf(inputs));
    const lossValue = await loss.itemAsync();
    checks.push({
      check: `${kind} AdamW loss before step ${expected.step}`,
      pass: Math.abs(lossValue - expected.loss_before_step) / expected.loss_before_step < 1e-5,
      relErr: Math.abs(lossValue - expected.loss_before_step) / expected.loss_before_step,
    });
    loss.backward();
    optimizer.step();
    const keys = Object.keys(fixture.tracked);
    const values = await readTensors(keys.map((key) => params.get(key)!));
    let worst = 0;
    const failedKeys: string[] = [];
    keys.forEach((key, i) => {
      const check = relative(values[i], flatten(expected.params[key]), 1e-4, 1e-6, key);
      worst = Math.max(worst, check.relErr);
      if (!check.pass) failedKeys.push(`${key} (${check.relErr.toExponential(1)})`);
    });
    checks.push({
      check: `${kind} AdamW step ${expected.step}: ${keys.length} tracked parameters`,
      pass: failedKeys.length === 0,
      relErr: worst,
      note: failedKeys.length ? `failed: ${failedKeys.join(', ')}` : undefined,
    });
  }
  return checks;
}
