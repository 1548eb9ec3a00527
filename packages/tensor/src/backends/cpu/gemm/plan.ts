/**
 * Blocking and memory layout of one wasm GEMM job: how K is cut into cache blocks, how C is cut
 * into compute items and the operands into pack items, and where each region sits in wasm memory.
 */
import { MR, NR } from './wasm-bytes.js';

/** K block: an 8-column B strip (kc*32 bytes) stays in L1, a 4-row A strip (kc*16 bytes) too. */
export const KC_MAX = 256;
/** Rows of C per compute item: the A block (MC*kc*4 bytes = 128 KiB) sits in L2. */
export const MC_MAX = 128;
/** Columns of C per compute item: the B block (kc*NC*4 bytes = 512 KiB) sits in L2. */
export const NC_MAX = 512;
/** Elements an operand pack item aims to move: big enough to amortise the claim, small enough to share. */
const PACK_TARGET = 32768;
/** First byte of operand data; the page below holds the control block. */
export const DATA_BASE = 65536;

const roundUp = (x: number, q: number): number => Math.ceil(x / q) * q;
const align64 = (bytes: number): number => roundUp(bytes, 64);

export interface GemmPlan {
  m: number;
  n: number;
  k: number;
  /** Batch items in this job. */
  batch: number;
  shareB: boolean;
  mPad: number;
  nPad: number;
  kc: number;
  mc: number;
  nc: number;
  nMBlk: number;
  nNBlk: number;
  mcPack: number;
  ncPack: number;
  aPackPerBatch: number;
  bPackPerBatch: number;
  nPack: number;
  nCompute: number;
  /** Byte addresses of the regions (A as given, B as given, packed A, packed B, C [mPad, nPad]). */
  rawA: number;
  rawB: number;
  packA: number;
  packB: number;
  c: number;
  /** One past the last byte used. */
  end: number;
}

/** Bytes one batch item needs, excluding the shared B when `shareB` (then count it once). */
export function bytesPerItem(m: number, n: number, k: number, shareB: boolean): number {
  const mPad = roundUp(m, MR);
  const nPad = roundUp(n, NR);
  const bBytes = shareB ? 0 : (k * n + nPad * k) * 4;
  return (m * k + mPad * k + mPad * nPad) * 4 + bBytes;
}

/** Bytes the shared B takes once (raw + packed), 0 when B is per batch item. */
export function sharedBBytes(n: number, k: number, shareB: boolean): number {
  return shareB ? (k * n + roundUp(n, NR) * k) * 4 : 0;
}

/**
 * Plans a job of `batch` products C[m,n] = op(A)[m,k] op(B)[k,n] (k >= 1) run by up to `threads`
 * threads. Compute items are shrunk until there are about 4 per thread so that a thread slowed
 * by a noisy neighbour hands its share to the others.
 */
export function makePlan(m: number, n: number, k: number, batch: number, shareB: boolean, threads: number): GemmPlan {
  const mPad = roundUp(m, MR);
  const nPad = roundUp(n, NR);
  const kBlocks = Math.ceil(k / KC_MAX);
  const kc = Math.ceil(k / kBlocks);

  let mc = Math.min(mPad, Math.floor(MC_MAX / MR) * MR);
  let nc = Math.min(nPad, NC_MAX);
  const items = (): number => batch * Math.ceil(mPad / mc) * Math.ceil(nPad / nc);
  const want = threads > 1 ? 4 * threads : 1;
  while (items() < want) {
    if (nc >= 2 * mc && nc > 4 * NR) nc = roundUp(nc / 2, NR);
    else if (mc > 4 * MR) mc = roundUp(mc / 2, MR);
    else if (nc > 4 * NR) nc = roundUp(nc / 2, NR);
    else break;
  }
  const nMBlk = Math.ceil(mPad / mc);
  const nNBlk = Math.ceil(nPad / nc);

  const aStrips = mPad / MR;
  const aGroups = Math.max(1, Math.min(aStrips, Math.round((mPad * k) / PACK_TARGET)));
  const mcPack = Math.ceil(aStrips / aGroups) * MR;
  const aPackPerBatch = Math.ceil(mPad / mcPack);
  const bStrips = nPad / NR;
  const bGroups = Math.max(1, Math.min(bStrips, Math.round((nPad * k) / PACK_TARGET)));
  const ncPack = Math.ceil(bStrips / bGroups) * NR;
  const bPackPerBatch = Math.ceil(nPad / ncPack);
  const bBatches = shareB ? 1 : batch;

  const rawA = DATA_BASE;
  const rawB = rawA + align64(batch * m * k * 4);
  const packA = rawB + align64(bBatches * k * n * 4);
  const packB = packA + align64(batch * mPad * k * 4);
  const c = packB + align64(bBatches * nPad * k * 4);
  const end = c + align64(batch * mPad * nPad * 4);

  return {
    m,
    n,
    k,
    batch,
    shareB,
    mPad,
    nPad,
    kc,
    mc,
    nc,
    nMBlk,
    nNBlk,
    mcPack,
    ncPack,
    aPackPerBatch,
    bPackPerBatch,
    nPack: batch * aPackPerBatch + bBatches * bPackPerBatch,
    nCompute: batch * nMBlk * nNBlk,
    rawA,
    rawB,
    packA,
    packB,
    c,
    end,
  };
}
