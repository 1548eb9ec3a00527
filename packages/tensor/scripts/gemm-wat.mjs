/**
 * WAT source of the cpu GEMM kernel, as a function of the variant.
 *
 * Why hand-written WAT rather than AssemblyScript/Emscripten: the hot loop is a 4x8 register tile
 * whose speed depends on exactly which loads, splats and adds V8 sees (probes on the target host:
 * 5x8/6x8/8x8/4x12 tiles spilled, K-unroll by 4 made V8 hoist loads and spill); writing the text
 * ourselves keeps that control, needs no compiler toolchain (wabt is a pure JS/wasm npm package),
 * and lets one template emit the relaxed-SIMD FMA and the plain mul+add variants.
 *
 * The module imports its memory ("env" "memory") so that the main thread and every worker
 * instantiate the same compiled module over one shared WebAssembly.Memory. All addresses are
 * unsigned 32-bit byte offsets (memory may reach 4 GiB), so comparisons use the `_u` forms.
 *
 * Work is split into numbered items that any thread claims from a 64-bit word at CTRL.claim:
 * low half = next item, high half = item count. A claim is a compare-exchange that succeeds only
 * while next < count, so a late thread can never claim an item of a job whose parameters are
 * still being written (the host publishes the word only after writing them). Items
 * [0, nPack) pack operands; items [nPack, count) each compute one (batch, M block, N block)
 * region of C over all of K, after waiting for every pack item to finish.
 */

/** Byte offsets of the control block at address 0; the host writes these before publishing. */
export const CTRL = {
  claim: 0, // i64: (count << 32) | next
  gen: 8, // bumped by the host to wake sleeping workers
  cmd: 12, // 0 = run, 1 = exit
  done: 16, // items finished in this job
  packDone: 20, // pack items finished in this job
  nPack: 24,
  m: 28,
  n: 32,
  k: 36,
  shareB: 40, // 1 when every batch item uses B of batch item 0
  transA: 44,
  transB: 48,
  accumulate: 52,
  rawA: 56, // byte address of A as given ([m,k] or [k,m] per batch item, dense)
  rawB: 60,
  packA: 64,
  packB: 68,
  c: 72, // C is stored [mPad, nPad] per batch item
  mPad: 76, // m rounded up to MR
  nPad: 80, // n rounded up to NR
  kc: 84, // K block
  mc: 88, // rows per compute item (multiple of MR)
  nc: 92, // cols per compute item (multiple of NR)
  nMBlk: 96,
  nNBlk: 100,
  aPackPerBatch: 104,
  aPackTotal: 108,
  bPackPerBatch: 112,
  mcPack: 116, // rows per A pack item (multiple of MR)
  ncPack: 120, // cols per B pack item (multiple of NR)
  // Read by the JS workers only, not by the wasm:
  kernel: 124, // 0 = simd (mul+add) module, 1 = relaxed (FMA) module
  workers: 128, // workers with index below this join the job
  size: 256,
};

/**
 * Register tile rows (of A) and columns (of B, two f32x4). 4x8 = 8 accumulators + 2 B vectors + 1
 * splat fits the 16 xmm registers V8 allocates with room for its scratch register; measured on the
 * target host, MR = 5 and 6 spill and fall from ~40 to ~28 GFLOP/s on one core, and unrolling K by 2
 * falls to ~31. With FMA the tile is latency-bound at its 2 FMA ports (8 chains x 4 cycles).
 */
export const MR = 4;
export const NR = 8;

/**
 * @param {{ relaxed: boolean, shared: boolean, maxPages: number, unrollK?: number }} opts
 * @returns {string}
 */
export function gemmWat({ relaxed, shared, maxPages, unrollK = 1 }) {
  const madd = (a, b, c) =>
    relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`;
  const p = (name) => `(i32.load offset=${CTRL[name]} (i32.const 0))`;

  // One K step of the 4x8 tile: 2 loads of B, 4 splats of A, 8 multiply-adds into c0..c7.
  const step = (s) => {
    const lines = [
      `(local.set $b0 (v128.load offset=${s * 32} (local.get $pb)))`,
      `(local.set $b1 (v128.load offset=${s * 32 + 16} (local.get $pb)))`,
    ];
    for (let r = 0; r < MR; r++) {
      lines.push(`(local.set $a (v128.load32_splat offset=${s * 4 * MR + r * 4} (local.get $pa)))`);
      lines.push(`(local.set $c${2 * r} ${madd('(local.get $a)', '(local.get $b0)', `(local.get $c${2 * r})`)})`);
      lines.push(
        `(local.set $c${2 * r + 1} ${madd('(local.get $a)', '(local.get $b1)', `(local.get $c${2 * r + 1})`)})`,
      );
    }
    return lines.join('\n        ');
  };
  const advance = (steps) =>
    `(local.set $pa (i32.add (local.get $pa) (i32.const ${4 * MR * steps})))
        (local.set $pb (i32.add (local.get $pb) (i32.const ${32 * steps})))`;

  const rowPtr = (r) => (r === 0 ? '(local.get $pc)' : `(local.get $pc${r})`);
  const loadC = [];
  const storeC = [];
  for (let r = 0; r < MR; r++) {
    loadC.push(`(local.set $c${2 * r} (v128.load ${rowPtr(r)}))`);
    loadC.push(`(local.set $c${2 * r + 1} (v128.load offset=16 ${rowPtr(r)}))`);
    storeC.push(`(v128.store ${rowPtr(r)} (local.get $c${2 * r}))`);
    storeC.push(`(v128.store offset=16 ${rowPtr(r)} (local.get $c${2 * r + 1}))`);
  }

  let kLoop;
  if (unrollK === 1) {
    kLoop = `
    (local.set $end (i32.add (local.get $pa) (i32.mul (local.get $kc) (i32.const ${4 * MR}))))
    (loop $k
        ${step(0)}
        ${advance(1)}
        (br_if $k (i32.ne (local.get $pa) (local.get $end))))`;
  } else {
    // K unrolled by 2 with the odd step peeled first; deeper unrolling spilled on V8.
    kLoop = `
    (if (i32.and (local.get $kc) (i32.const 1))
      (then
        ${step(0)}
        ${advance(1)}))
    (local.set $end (i32.add (local.get $pa) (i32.mul (i32.and (local.get $kc) (i32.const -2)) (i32.const ${4 * MR}))))
    (if (i32.ne (local.get $pa) (local.get $end))
      (then
        (loop $k
          ${step(0)}
          ${step(1)}
          ${advance(2)}
          (br_if $k (i32.ne (local.get $pa) (local.get $end))))))`;
  }

  return `(module
  ;; variant: ${relaxed ? 'relaxed-simd FMA' : 'SIMD mul+add'}, ${shared ? 'shared' : 'unshared'} memory
  (import "env" "memory" (memory 1 ${maxPages}${shared ? ' shared' : ''}))

  ;; C[4x8] (+)= Apack[kc][4] * Bpack[kc][8]. pc points at row 0 of the tile, ldc = row pitch in
  ;; bytes. load = 0 starts from zero (first K block, no accumulate), else from C. kc >= 1.
  (func $kernel (param $pa i32) (param $pb i32) (param $pc i32) (param $ldc i32) (param $kc i32) (param $load i32)
    ${Array.from({ length: 2 * MR }, (_, i) => `(local $c${i} v128)`).join(' ')}
    (local $a v128) (local $b0 v128) (local $b1 v128)
    ${Array.from({ length: MR - 1 }, (_, i) => `(local $pc${i + 1} i32)`).join(' ')} (local $end i32)
    ${Array.from({ length: MR - 1 }, (_, i) => `(local.set $pc${i + 1} (i32.add ${rowPtr(i)} (local.get $ldc)))`).join('\n    ')}
    (if (local.get $load)
      (then
        ${loadC.join('\n        ')}))
    ${kLoop}
    ${storeC.join('\n    ')})

  ;; Packs one panel of W lanes (one strip) over kcb K steps, lane by lane:
  ;; dst[p*W + r] = src[p*sp + r*sr] for r < valid, 0 for valid <= r < W (sp, sr in elements).
  ;; Used when lanes are strided in the source (op(A) = A, op(B) = B^T): each lane then reads a
  ;; contiguous run along K.
  (func $pack (param $src i32) (param $sp i32) (param $sr i32) (param $valid i32) (param $w i32)
              (param $kcb i32) (param $dst i32)
    (local $p i32) (local $r i32) (local $s i32) (local $d i32) (local $rowBytes i32)
    (local.set $sp (i32.shl (local.get $sp) (i32.const 2)))
    (local.set $sr (i32.shl (local.get $sr) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $r (i32.const 0))
    (loop $rows
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $p (i32.const 0))
      (if (i32.lt_u (local.get $r) (local.get $valid))
        (then
          (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $sr))))
          (loop $cols
            (f32.store (local.get $d) (f32.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (local.get $sp)))
            (local.set $d (i32.add (local.get $d) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $cols (i32.lt_u (local.get $p) (local.get $kcb)))))
        (else
          ;; Padding lanes only feed C entries that are never copied out; zero keeps them tame.
          (loop $zeros
            (f32.store (local.get $d) (f32.const 0))
            (local.set $d (i32.add (local.get $d) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $zeros (i32.lt_u (local.get $p) (local.get $kcb))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $w)))))

  ;; The same panel when sp = 1 (each lane contiguous along K) and all W lanes are valid:
  ;; 4 lanes x 4 K steps at a time, loaded as 4 vectors and transposed with shuffles.
  ;; The K tail (kcb mod 4) goes through $pack.
  (func $packT (param $src i32) (param $sr i32) (param $w i32) (param $kcb i32) (param $dst i32)
    (local $srb i32) (local $wb4 i32) (local $r0 i32) (local $p i32) (local $p4 i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $d i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $srb (i32.shl (local.get $sr) (i32.const 2)))
    (local.set $wb4 (i32.shl (local.get $w) (i32.const 4)))
    (local.set $p4 (i32.and (local.get $kcb) (i32.const -4)))
    (if (local.get $p4)
      (then
        (local.set $r0 (i32.const 0))
        (loop $lanes
          (local.set $s0 (i32.add (local.get $src) (i32.mul (local.get $r0) (local.get $srb))))
          (local.set $s1 (i32.add (local.get $s0) (local.get $srb)))
          (local.set $s2 (i32.add (local.get $s1) (local.get $srb)))
          (local.set $s3 (i32.add (local.get $s2) (local.get $srb)))
          (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $r0) (i32.const 2))))
          (local.set $p (i32.const 0))
          (loop $steps
            ;; t0 = (a0 b0 a1 b1), t1 = (a2 b2 a3 b3), t2 = (c0 d0 c1 d1), t3 = (c2 d2 c3 d3)
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $s0)) (v128.load (local.get $s1))))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $s0)) (v128.load (local.get $s1))))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $s2)) (v128.load (local.get $s3))))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $s2)) (v128.load (local.get $s3))))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $w) (i32.const 2))))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $w) (i32.const 2))))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $w) (i32.const 2))))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $d (i32.add (local.get $d) (i32.shl (local.get $w) (i32.const 2))))
            (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
            (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
            (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
            (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br_if $steps (i32.lt_u (local.get $p) (local.get $p4))))
          (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
          (br_if $lanes (i32.lt_u (local.get $r0) (local.get $w))))))
    (if (i32.lt_u (local.get $p4) (local.get $kcb))
      (then
        (call $pack
          (i32.add (local.get $src) (i32.shl (local.get $p4) (i32.const 2)))
          (i32.const 1) (local.get $sr) (local.get $w) (local.get $w) (i32.sub (local.get $kcb) (local.get $p4))
          (i32.add (local.get $dst) (i32.mul (local.get $p4) (i32.shl (local.get $w) (i32.const 2))))))))

  ;; Packs strips [x0, x1) over kcb K steps when lanes are contiguous in the source
  ;; (op(A) = A^T, op(B) = B): walks the source row by row (K step by K step), copying whole
  ;; vectors into every strip, so reads stream instead of striding a row pitch per vector.
  ;; src = address of element (k0, x0); spb = source row pitch in bytes; dst = packed K block.
  ;; Lanes at or beyond lim (only in the last strip) are zero.
  (func $packRows (param $src i32) (param $spb i32) (param $x0 i32) (param $x1 i32) (param $lim i32)
                  (param $w i32) (param $kcb i32) (param $dst i32)
    (local $p i32) (local $x i32) (local $s i32) (local $d i32) (local $r i32)
    (local $wb i32) (local $stripBytes i32) (local $full i32)
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (local.set $stripBytes (i32.mul (local.get $kcb) (local.get $wb)))
    ;; Strips below $full have every lane valid.
    (local.set $full (local.get $x1))
    (if (i32.gt_u (local.get $x1) (local.get $lim))
      (then (local.set $full (i32.sub (local.get $lim) (i32.rem_u (local.get $lim) (local.get $w))))))
    (local.set $p (i32.const 0))
    (loop $rows
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $spb))))
      (local.set $d (i32.add (local.get $dst)
        (i32.add (i32.mul (local.get $x0) (i32.shl (local.get $kcb) (i32.const 2))) (i32.mul (local.get $p) (local.get $wb)))))
      (local.set $x (local.get $x0))
      (if (i32.eq (local.get $w) (i32.const 8))
        (then
          (block $done8
            (loop $strips8
              (br_if $done8 (i32.ge_u (local.get $x) (local.get $full)))
              (v128.store (local.get $d) (v128.load (local.get $s)))
              (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 32)))
              (local.set $d (i32.add (local.get $d) (local.get $stripBytes)))
              (local.set $x (i32.add (local.get $x) (i32.const 8)))
              (br $strips8))))
        (else
          (block $done4
            (loop $strips4
              (br_if $done4 (i32.ge_u (local.get $x) (local.get $full)))
              (v128.store (local.get $d) (v128.load (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 16)))
              (local.set $d (i32.add (local.get $d) (local.get $stripBytes)))
              (local.set $x (i32.add (local.get $x) (i32.const 4)))
              (br $strips4)))))
      ;; The partial last strip, if any, lane by lane.
      (if (i32.lt_u (local.get $x) (local.get $x1))
        (then
          (local.set $r (i32.const 0))
          (loop $lanes
            (if (i32.lt_u (i32.add (local.get $x) (local.get $r)) (local.get $lim))
              (then (f32.store (local.get $d) (f32.load (local.get $s))))
              (else (f32.store (local.get $d) (f32.const 0))))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $lanes (i32.lt_u (local.get $r) (local.get $w))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $p) (local.get $kcb)))))

  ;; Pack item t: either rows [g*mcPack, +mcPack) of A for one batch item or cols
  ;; [g*ncPack, +ncPack) of B, over all K blocks. Packed layout per batch item:
  ;; A: [kBlock][strip of 4 rows][kcb][4], B: [kBlock][strip of 8 cols][kcb][8], where a
  ;; K block starting at k0 begins at k0 * mPad (resp. k0 * nPad) floats.
  (func $packItem (param $t i32)
    (local $m i32) (local $n i32) (local $k i32) (local $kc i32) (local $b i32) (local $g i32)
    (local $x0 i32) (local $x1 i32) (local $x i32) (local $k0 i32) (local $kcb i32) (local $w i32)
    (local $raw i32) (local $dst i32) (local $pad i32) (local $valid i32) (local $sp i32) (local $sr i32)
    (local $lim i32) (local $span i32)
    (local.set $m ${p('m')}) (local.set $n ${p('n')}) (local.set $k ${p('k')}) (local.set $kc ${p('kc')})
    (if (i32.lt_u (local.get $t) ${p('aPackTotal')})
      (then
        (local.set $b (i32.div_u (local.get $t) ${p('aPackPerBatch')}))
        (local.set $g (i32.rem_u (local.get $t) ${p('aPackPerBatch')}))
        (local.set $w (i32.const ${MR}))
        (local.set $pad ${p('mPad')})
        (local.set $lim (local.get $m))
        (local.set $span ${p('mcPack')})
        (local.set $raw (i32.add ${p('rawA')}
          (i32.shl (i32.mul (local.get $b) (i32.mul (local.get $m) (local.get $k))) (i32.const 2))))
        (local.set $dst ${p('packA')})
        ;; op(A)[i, p]: A[i*k + p] normally, A[p*m + i] when transA.
        (if ${p('transA')}
          (then (local.set $sp (local.get $m)) (local.set $sr (i32.const 1)))
          (else (local.set $sp (i32.const 1)) (local.set $sr (local.get $k)))))
      (else
        (local.set $t (i32.sub (local.get $t) ${p('aPackTotal')}))
        (local.set $b (i32.div_u (local.get $t) ${p('bPackPerBatch')}))
        (local.set $g (i32.rem_u (local.get $t) ${p('bPackPerBatch')}))
        (local.set $w (i32.const ${NR}))
        (local.set $pad ${p('nPad')})
        (local.set $lim (local.get $n))
        (local.set $span ${p('ncPack')})
        (local.set $raw (i32.add ${p('rawB')}
          (i32.shl (i32.mul (local.get $b) (i32.mul (local.get $n) (local.get $k))) (i32.const 2))))
        (local.set $dst ${p('packB')})
        ;; op(B)[p, j]: B[p*n + j] normally, B[j*k + p] when transB.
        (if ${p('transB')}
          (then (local.set $sp (i32.const 1)) (local.set $sr (local.get $k)))
          (else (local.set $sp (local.get $n)) (local.set $sr (i32.const 1))))))
    (local.set $dst (i32.add (local.get $dst)
      (i32.shl (i32.mul (local.get $b) (i32.mul (local.get $pad) (local.get $k))) (i32.const 2))))
    (local.set $x0 (i32.mul (local.get $g) (local.get $span)))
    (local.set $x1 (i32.add (local.get $x0) (local.get $span)))
    (if (i32.gt_u (local.get $x1) (local.get $pad)) (then (local.set $x1 (local.get $pad))))
    (local.set $k0 (i32.const 0))
    (loop $kb
      (local.set $kcb (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kcb) (local.get $kc)) (then (local.set $kcb (local.get $kc))))
      (if (i32.eq (local.get $sr) (i32.const 1))
        (then
          (call $packRows
            (i32.add (local.get $raw) (i32.shl (i32.add
              (local.get $x0) (i32.mul (local.get $k0) (local.get $sp))) (i32.const 2)))
            (i32.shl (local.get $sp) (i32.const 2))
            (local.get $x0) (local.get $x1) (local.get $lim) (local.get $w) (local.get $kcb)
            (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $k0) (local.get $pad)) (i32.const 2)))))
        (else
          (local.set $x (local.get $x0))
          (loop $strips
            (local.set $valid (i32.sub (local.get $lim) (local.get $x)))
            (if (i32.gt_s (local.get $valid) (local.get $w)) (then (local.set $valid (local.get $w))))
            ;; Here sp = 1: op(A) = A or op(B) = B^T, lanes are rows of length k.
            (if (i32.eq (local.get $valid) (local.get $w))
              (then
                (call $packT
                  (i32.add (local.get $raw) (i32.shl (i32.add
                    (i32.mul (local.get $x) (local.get $sr)) (local.get $k0)) (i32.const 2)))
                  (local.get $sr) (local.get $w) (local.get $kcb)
                  (i32.add (local.get $dst) (i32.shl (i32.add
                    (i32.mul (local.get $k0) (local.get $pad)) (i32.mul (local.get $x) (local.get $kcb))) (i32.const 2)))))
              (else
                (call $pack
                  (i32.add (local.get $raw) (i32.shl (i32.add
                    (i32.mul (local.get $x) (local.get $sr)) (i32.mul (local.get $k0) (local.get $sp))) (i32.const 2)))
                  (local.get $sp) (local.get $sr) (local.get $valid) (local.get $w) (local.get $kcb)
                  (i32.add (local.get $dst) (i32.shl (i32.add
                    (i32.mul (local.get $k0) (local.get $pad)) (i32.mul (local.get $x) (local.get $kcb))) (i32.const 2))))))
            (local.set $x (i32.add (local.get $x) (local.get $w)))
            (br_if $strips (i32.lt_u (local.get $x) (local.get $x1))))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kb (i32.lt_u (local.get $k0) (local.get $k)))))

  ;; Compute item t: C rows [i0, i1) x cols [j0, j1) of one batch item, over all K blocks.
  ;; Per K block the 8-col B strip (kcb*32 bytes) stays in L1 while the A block streams from L2.
  (func $computeItem (param $t i32)
    (local $k i32) (local $kc i32) (local $mPad i32) (local $nPad i32) (local $b i32) (local $bB i32)
    (local $i0 i32) (local $i1 i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32)
    (local $k0 i32) (local $kcb i32) (local $load i32) (local $ldc i32)
    (local $pA i32) (local $pB i32) (local $cB i32) (local $pb i32)
    (local.set $k ${p('k')}) (local.set $kc ${p('kc')})
    (local.set $mPad ${p('mPad')}) (local.set $nPad ${p('nPad')})
    (local.set $ldc (i32.shl (local.get $nPad) (i32.const 2)))
    (local.set $j0 (i32.mul (i32.rem_u (local.get $t) ${p('nNBlk')}) ${p('nc')}))
    (local.set $t (i32.div_u (local.get $t) ${p('nNBlk')}))
    (local.set $i0 (i32.mul (i32.rem_u (local.get $t) ${p('nMBlk')}) ${p('mc')}))
    (local.set $b (i32.div_u (local.get $t) ${p('nMBlk')}))
    (local.set $i1 (i32.add (local.get $i0) ${p('mc')}))
    (if (i32.gt_u (local.get $i1) (local.get $mPad)) (then (local.set $i1 (local.get $mPad))))
    (local.set $j1 (i32.add (local.get $j0) ${p('nc')}))
    (if (i32.gt_u (local.get $j1) (local.get $nPad)) (then (local.set $j1 (local.get $nPad))))
    (local.set $bB (select (i32.const 0) (local.get $b) ${p('shareB')}))
    (local.set $pA (i32.add ${p('packA')}
      (i32.shl (i32.mul (local.get $b) (i32.mul (local.get $mPad) (local.get $k))) (i32.const 2))))
    (local.set $pB (i32.add ${p('packB')}
      (i32.shl (i32.mul (local.get $bB) (i32.mul (local.get $nPad) (local.get $k))) (i32.const 2))))
    (local.set $cB (i32.add ${p('c')}
      (i32.shl (i32.mul (local.get $b) (i32.mul (local.get $mPad) (local.get $nPad))) (i32.const 2))))
    (local.set $load ${p('accumulate')})
    (local.set $k0 (i32.const 0))
    (loop $kb
      (local.set $kcb (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kcb) (local.get $kc)) (then (local.set $kcb (local.get $kc))))
      (local.set $j (local.get $j0))
      (loop $jr
        (local.set $pb (i32.add (local.get $pB) (i32.shl (i32.mul (local.get $j) (local.get $kcb)) (i32.const 2))))
        (local.set $i (local.get $i0))
        (loop $ir
          (call $kernel
            (i32.add (local.get $pA) (i32.shl (i32.mul (local.get $i) (local.get $kcb)) (i32.const 2)))
            (local.get $pb)
            (i32.add (local.get $cB) (i32.shl
              (i32.add (i32.mul (local.get $i) (local.get $nPad)) (local.get $j)) (i32.const 2)))
            (local.get $ldc) (local.get $kcb) (local.get $load))
          (local.set $i (i32.add (local.get $i) (i32.const ${MR})))
          (br_if $ir (i32.lt_u (local.get $i) (local.get $i1))))
        (local.set $j (i32.add (local.get $j) (i32.const ${NR})))
        (br_if $jr (i32.lt_u (local.get $j) (local.get $j1))))
      (local.set $pA (i32.add (local.get $pA) (i32.shl (i32.mul (local.get $kcb) (local.get $mPad)) (i32.const 2))))
      (local.set $pB (i32.add (local.get $pB) (i32.shl (i32.mul (local.get $kcb) (local.get $nPad)) (i32.const 2))))
      (local.set $load (i32.const 1))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kb (i32.lt_u (local.get $k0) (local.get $k)))))

  ;; Claims and runs items until none is left; every thread (main included) calls this.
  ;; Returns the number of items this thread ran.
  (func (export "work") (result i32)
    (local $w i64) (local $next i32) (local $count i32) (local $nPack i32) (local $ran i32)
    (block $out
      (loop $claim
        (local.set $w (i64.atomic.load (i32.const ${CTRL.claim})))
        (local.set $next (i32.wrap_i64 (local.get $w)))
        (local.set $count (i32.wrap_i64 (i64.shr_u (local.get $w) (i64.const 32))))
        (br_if $out (i32.ge_u (local.get $next) (local.get $count)))
        (br_if $claim (i64.ne
          (i64.atomic.rmw.cmpxchg (i32.const ${CTRL.claim}) (local.get $w) (i64.add (local.get $w) (i64.const 1)))
          (local.get $w)))
        ;; Parameters are read only after a successful claim: the host rewrites them only
        ;; once every item of the previous job is done.
        (local.set $nPack ${p('nPack')})
        (if (i32.lt_u (local.get $next) (local.get $nPack))
          (then
            (call $packItem (local.get $next))
            (drop (i32.atomic.rmw.add (i32.const ${CTRL.packDone}) (i32.const 1))))
          (else
            ;; Other threads may still be packing; they never wait, so this spin ends.
            (block $packed
              (loop $spin
                (br_if $packed (i32.ge_u (i32.atomic.load (i32.const ${CTRL.packDone})) (local.get $nPack)))
                (br $spin)))
            (call $computeItem (i32.sub (local.get $next) (local.get $nPack)))))
        (drop (i32.atomic.rmw.add (i32.const ${CTRL.done}) (i32.const 1)))
        (local.set $ran (i32.add (local.get $ran) (i32.const 1)))
        (br $claim)))
    (local.get $ran))
)
`;
}
