/**
 * WAT source of the cpu backend's non-GEMM WebAssembly SIMD kernels (GELU and its gradient,
 * masked softmax and its gradient, LayerNorm and its gradient, cross-entropy statistics and
 * gradient, AdamW). scripts/build-simd-kernels.mjs assembles it with wabt and embeds the bytes.
 *
 * Why generated WAT: the kernels are long straight-line f32x4 expressions (erfc, expf) that we
 * want inlined into each loop with the constants hoisted out of it, and every row kernel needs
 * the same three-speed sweep (unrolled vectors, vectors, a scalar tail); a few JS helpers below
 * emit all of that, with no compiler toolchain (wabt is a pure wasm npm package).
 *
 * Plain SIMD only, no relaxed-SIMD FMA: these kernels are bound by memory traffic and by
 * transcendental sequences whose error budget assumes separately rounded mul and add, and
 * relaxed_madd may or may not fuse depending on the host, which would make results host-dependent.
 *
 * Memory: the module imports one unshared memory ("env" "memory") that the host uses as a scratch
 * arena. Every kernel works on byte addresses the host passes; in-place kernels overwrite their
 * first operand. Elementwise kernels take a count that is a multiple of 4 (the host pads);
 * row kernels handle any row length (unrolled vector loop, vector loop, then one element at a
 * time as a splat, so the same expression code runs in every lane count).
 *
 * Naming convention for the locals this generator declares automatically: $V* and $K* are v128
 * ($K* hold hoisted constants), $F* f32, $D* f64, everything else i32.
 */

// ---- constants --------------------------------------------------------------------------------

/** Cephes expf: e^x = 2^n e^r, r = x - n ln2 with ln2 split as C1 + C2 (C1 exact in 9 bits). */
const LOG2E = '1.44269504088896341';
const EXP_C1 = '0.693359375';
const EXP_C2 = '-2.12194440e-4';
const EXP_POLY = ['1.9875691500e-4', '1.3981999507e-3', '8.3334519073e-3', '4.1665795894e-2', '1.6666665459e-1', '5.0000001201e-1'];
/** 1.5 * 2^23: adding it rounds |v| < 2^22 to an integer (ties to even) held in the low mantissa bits. */
const MAGIC = '12582912';
const MAGIC_BITS = 0x4b400000;
/**
 * Below this the result is under half the smallest denormal (e^-104 < 2^-150) and rounds to 0;
 * above EXP_HI it overflows to infinity. Clamping there keeps 2^n representable as two factors.
 */
const EXP_LO = '-104';
const EXP_HI = '89';

/**
 * erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), z >= 0: the Chebyshev fit of Numerical Recipes
 * (erfcc), fractional error < 1.2e-7 everywhere. Coefficients from the highest power of t down.
 */
const ERFC_POLY = [
  '0.17087277',
  '-0.82215223',
  '1.48851587',
  '-1.13520398',
  '0.27886807',
  '-0.18628806',
  '0.09678418',
  '0.37409196',
  '1.00002368',
  '-1.26551223',
];
/** 0.5 / sqrt(2): t = 1 / (1 + |x| * HALF_INV_SQRT2) with z = |x| / sqrt 2. */
const HALF_INV_SQRT2 = '0.353553390593273762';
const INV_SQRT_2PI = '0.398942280401432678';
/** GELU's erfc argument is clamped to |x| <= 20 (erfc(20/sqrt2) ~ 1e-88): no inf - inf below. */
const GELU_CLAMP = '20';

// ---- expression helpers -----------------------------------------------------------------------

const g = (name) => `(local.get $${name})`;
const set = (name, e) => `(local.set $${name} ${e})`;
const op =
  (o) =>
  (...args) =>
    `(${o} ${args.join(' ')})`;
const fadd = op('f32x4.add');
const fsub = op('f32x4.sub');
const fmul = op('f32x4.mul');
const fdiv = op('f32x4.div');
const i32c = (v) => `(i32.const ${v})`;

/** One function being generated: hoisted constants, unique labels. */
class Fn {
  constructor() {
    this.consts = new Map();
    this.labels = 0;
  }
  /** An f32x4 splat of `value` (or an i32x4 splat with type 'i32'), hoisted into a $K local. */
  k(value, type = 'f32') {
    const key = `${type}:${value}`;
    if (!this.consts.has(key)) this.consts.set(key, `K${this.consts.size}`);
    return g(this.consts.get(key));
  }
  label(prefix) {
    return `$${prefix}${this.labels++}`;
  }
}

/**
 * Emits `(func (export name) params... body)` with every local the body uses declared by the
 * naming convention, and the constants set once at entry (V8 would otherwise rebuild each
 * v128.const inside the loop).
 */
function func(name, params, build) {
  const F = new Fn();
  const body = build(F);
  const paramNames = new Set(params.map(([n]) => n));
  const used = new Set();
  for (const m of body.matchAll(/local\.(?:get|set|tee) \$(\w+)/g)) if (!paramNames.has(m[1])) used.add(m[1]);
  for (const name of F.consts.values()) used.add(name);
  const typeOf = (n) => (/^[VK]/.test(n) ? 'v128' : n.startsWith('F') ? 'f32' : n.startsWith('D') ? 'f64' : 'i32');
  const locals = [...used].sort().map((n) => `(local $${n} ${typeOf(n)})`);
  const init = [...F.consts.entries()].map(([key, local]) => {
    const [type, value] = key.split(':');
    const lanes = type === 'i32' ? `i32x4 ${value} ${value} ${value} ${value}` : `f32x4 ${value} ${value} ${value} ${value}`;
    return set(local, `(v128.const ${lanes})`);
  });
  const sig = params.map(([n, t]) => `(param $${n} ${t})`).join(' ');
  return `  (func (export "${name}") ${sig}\n    ${locals.join(' ')}\n    ${init.join('\n    ')}\n    ${body}\n  )`;
}

/**
 * Statements leaving e^(hi + lo) in local `out`; `s` is a local holding hi + lo (already
 * clamped to [EXP_LO, EXP_HI]). With lo the reduction r = (hi - n C1) + lo - n C2 keeps hi's
 * exactness (hi - n C1 is exact by Sterbenz), which is how GELU gets -x^2/2 without rounding.
 * Denormal results are produced exactly: 2^n is applied as two normal factors.
 */
function expCore(F, out, s, hi, lo) {
  const r = `V${out}r`;
  const t = `V${out}t`;
  const n = `V${out}n`;
  const y = `V${out}y`;
  const j = `V${out}j`;
  const lines = [
    set(t, fadd(fmul(g(s), F.k(LOG2E)), F.k(MAGIC))),
    set(n, fsub(g(t), F.k(MAGIC))),
    set(r, fsub(g(hi), fmul(g(n), F.k(EXP_C1)))),
  ];
  if (lo) lines.push(set(r, fadd(g(r), g(lo))));
  lines.push(set(r, fsub(g(r), fmul(g(n), F.k(EXP_C2)))));
  // Estrin's scheme: p0 r^5 + ... + p5 = ((p0 r + p1) r^2 + (p2 r + p3)) r^2 + (p4 r + p5);
  // half the dependent latency of Horner's, which bounds these long loop bodies.
  const z = `V${out}z`;
  const pair = (hiC, loC) => fadd(fmul(F.k(hiC), g(r)), F.k(loC));
  lines.push(set(z, fmul(g(r), g(r))));
  lines.push(set(y, fadd(fmul(fadd(fmul(pair(EXP_POLY[0], EXP_POLY[1]), g(z)), pair(EXP_POLY[2], EXP_POLY[3])), g(z)), pair(EXP_POLY[4], EXP_POLY[5]))));
  lines.push(set(y, fadd(fadd(fmul(g(y), g(z)), g(r)), F.k('1'))));
  // n as an integer from the magic sum's bits; 2^n = 2^(n>>1) * 2^(n - (n>>1)), both normal.
  lines.push(set(t, `(i32x4.sub ${g(t)} ${F.k(MAGIC_BITS, 'i32')})`));
  lines.push(set(j, `(i32x4.shr_s ${g(t)} ${i32c(1)})`));
  const pow2 = (e) => `(i32x4.add (i32x4.shl ${e} ${i32c(23)}) ${F.k(127 << 23, 'i32')})`;
  lines.push(set(out, fmul(fmul(g(y), pow2(g(j))), pow2(`(i32x4.sub ${g(t)} ${g(j)})`))));
  return lines;
}

/** e^x into local `out` for an f32x4 expression x; NaN stays NaN, below -104 gives 0. */
function expf(F, out, x) {
  const s = `V${out}s`;
  return [set(s, `(f32x4.pmax (f32x4.pmin ${x} ${F.k(EXP_HI)}) ${F.k(EXP_LO)})`), ...expCore(F, out, s, s)];
}

/** e^(hi + lo) into `out` for hi + lo <= 0, exactly 0 where hi + lo < EXP_LO. */
function expHiLo(F, out, hi, lo) {
  const s = `V${out}s`;
  const under = `V${out}u`;
  return [
    set(s, fadd(g(hi), g(lo))),
    set(under, `(f32x4.lt ${g(s)} ${F.k(EXP_LO)})`),
    set(s, `(f32x4.pmax ${g(s)} ${F.k(EXP_LO)})`),
    ...expCore(F, out, s, hi, lo),
    set(out, `(v128.andnot ${g(out)} ${g(under)})`),
  ];
}

/**
 * Statements for the normal CDF pieces of x (local $Vx): $Vphi = Phi(x) = 0.5 erfc(-x/sqrt2),
 * and with `density` also $Vdens = exp(-x^2/2) (unscaled). -x^2/2 is formed as hi + lo with hi
 * exact: x = xh + xl, xh keeping 12 significant bits, so xh^2 is exact and
 * x^2 - xh^2 = xl (x + xh) is small; this keeps the tail relative error near 1e-7 even where
 * x^2/2 ~ 80 (rounding x^2 in float32 alone would cost ~5e-6 there).
 */
function normalCdf(F, density) {
  const lines = [
    set('Vxc', `(f32x4.pmax (f32x4.pmin ${g('Vx')} ${F.k(GELU_CLAMP)}) ${F.k(`-${GELU_CLAMP}`)})`),
    set('Vt', fdiv(F.k('1'), fadd(F.k('1'), fmul(`(f32x4.abs ${g('Vxc')})`, F.k(HALF_INV_SQRT2))))),
  ];
  // P(t) = sum c_k t^k (k = 0..9) by Estrin's scheme: pairs, then t^2, t^4, t^8 levels.
  const c = [...ERFC_POLY].reverse();
  const pair = (k) => fadd(fmul(F.k(c[k + 1]), g('Vt')), F.k(c[k]));
  lines.push(
    set('Vt2', fmul(g('Vt'), g('Vt'))),
    set('Vt4', fmul(g('Vt2'), g('Vt2'))),
    set('Vp', fadd(fmul(pair(2), g('Vt2')), pair(0))),
    set('Vq', fadd(fmul(pair(6), g('Vt2')), pair(4))),
    set('Vp', fadd(fadd(fmul(g('Vq'), g('Vt4')), g('Vp')), fmul(pair(8), fmul(g('Vt4'), g('Vt4'))))),
  );
  lines.push(
    set('Vxh', `(v128.and ${g('Vxc')} ${F.k(0xfffff000 | 0, 'i32')})`),
    set('Vxl', fsub(g('Vxc'), g('Vxh'))),
    set('Vhi', fmul(fmul(g('Vxh'), g('Vxh')), F.k('-0.5'))),
    set('Vlo0', fmul(fmul(g('Vxl'), fadd(g('Vxc'), g('Vxh'))), F.k('-0.5'))),
    set('Vlo', fadd(g('Vlo0'), g('Vp'))),
    ...expHiLo(F, 'Ve', 'Vhi', 'Vlo'),
    // h = 0.5 erfc(|x|/sqrt2) = Phi(-|x|); Phi(x) = x >= 0 ? 1 - h : h (NaN compares false: h is NaN).
    set('Vh', fmul(fmul(g('Vt'), g('Ve')), F.k('0.5'))),
    set('Vphi', `(v128.bitselect ${fsub(F.k('1'), g('Vh'))} ${g('Vh')} (f32x4.ge ${g('Vxc')} ${F.k('0')}))`),
  );
  if (density) lines.push(...expHiLo(F, 'Vdens', 'Vhi', 'Vlo0'));
  return lines;
}

// ---- loops ------------------------------------------------------------------------------------

const LANE0 = '(v128.const i32x4 -1 0 0 0)';

/**
 * A loop over `n` f32 elements (n: i32 expression) with byte index $i: U vectors per step, then
 * one vector per step, then (tail) one element per step loaded as a splat. body(L) returns
 * statements; L.k is the unroll slot (for accumulators), L.scalar marks the tail.
 * Reductions go through L.sum / L.max / L.sum64 / L.addTo64 so the tail adds lane 0 only;
 * L.addTo64(base, f) adds the f64x2 expression f(half) per half, half(v) promoting local v's lanes.
 */
function sweep(F, { n, U = 1, tail = true, interleave = false, shared = [], body }) {
  const lines = [set('sn', n), set('i', i32c(0))];
  const at = (base) => `(i32.add ${g(base)} ${g('i')})`;
  const at64 = (base) => `(i32.add ${g(base)} (i32.shl ${g('i')} ${i32c(1)}))`;
  const vectorL = (k) => ({
    k,
    scalar: false,
    load: (base) => `(v128.load offset=${16 * k} ${at(base)})`,
    store: (base, v) => `(v128.store offset=${16 * k} ${at(base)} ${v})`,
    sum: (acc, v) => set(`${acc}${k}`, fadd(g(`${acc}${k}`), v)),
    max: (acc, v) => set(`${acc}${k}`, `(f32x4.pmax ${g(`${acc}${k}`)} ${v})`),
    sum64: (acc, v) => [
      set(`${acc}${k}a`, `(f64x2.add ${g(`${acc}${k}a`)} (f64x2.promote_low_f32x4 ${g(v)}))`),
      set(`${acc}${k}b`, `(f64x2.add ${g(`${acc}${k}b`)} (f64x2.promote_low_f32x4 ${swapHalves(g(v))}))`),
    ].join('\n'),
    addTo64: (base, f) => [
      `(v128.store offset=${32 * k} ${at64(base)} (f64x2.add (v128.load offset=${32 * k} ${at64(base)}) ${f(lowHalf)}))`,
      `(v128.store offset=${32 * k + 16} ${at64(base)} (f64x2.add (v128.load offset=${32 * k + 16} ${at64(base)}) ${f(highHalf)}))`,
    ].join('\n'),
  });
  const scalarL = {
    k: 0,
    scalar: true,
    load: (base) => `(v128.load32_splat ${at(base)})`,
    store: (base, v) => `(f32.store ${at(base)} (f32x4.extract_lane 0 ${v}))`,
    sum: (acc, v) => set(`${acc}0`, fadd(g(`${acc}0`), `(v128.and ${v} ${LANE0})`)),
    max: (acc, v) => set(`${acc}0`, `(f32x4.pmax ${g(`${acc}0`)} ${v})`),
    sum64: (acc, v) => set(`${acc}0a`, `(f64x2.add ${g(`${acc}0a`)} (f64x2.promote_low_f32x4 (v128.and ${g(v)} ${LANE0})))`),
    addTo64: (base, f) => `(f64.store ${at64(base)} (f64.add (f64.load ${at64(base)}) (f64x2.extract_lane 0 ${f(lowHalf)})))`,
  };
  const loop = (end, step, parts) => {
    const l = F.label('L');
    return `(if (i32.lt_u ${g('i')} ${g(end)})
      (then (loop ${l}
        ${parts.join('\n        ')}
        ${set('i', `(i32.add ${g('i')} ${i32c(step)})`)}
        (br_if ${l} (i32.lt_u ${g('i')} ${g(end)})))))`;
  };
  if (U > 1) {
    lines.push(set('eu', `(i32.shl (i32.and ${g('sn')} ${i32c(-4 * U)}) ${i32c(2)})`));
    const bodies = Array.from({ length: U }, (_, k) => body(vectorL(k)));
    lines.push(loop('eu', 16 * U, interleave ? zipRenamed(bodies, shared) : bodies.map(joinBody)));
  }
  lines.push(set('ev', `(i32.shl (i32.and ${g('sn')} ${i32c(-4)}) ${i32c(2)})`));
  lines.push(loop('ev', 16, [joinBody(body(vectorL(0)))]));
  if (tail) {
    lines.push(set('es', `(i32.shl ${g('sn')} ${i32c(2)})`));
    lines.push(loop('es', 4, [joinBody(body(scalarL))]));
  }
  return lines.join('\n    ');
}

const joinBody = (b) => (Array.isArray(b) ? b.join('\n        ') : b);

/**
 * Unrolled copies of a body (arrays of statements) merged statement by statement, copy k's
 * per-element $V locals renamed with suffix _k (all but `shared` ones, e.g. row constants), so
 * independent dependency chains sit next to each other: V8 does not reschedule wasm, and the
 * long erfc/exp chains otherwise fill the CPU's reorder window with one element's work.
 */
function zipRenamed(bodies, shared) {
  const keep = new Set(shared);
  const renamed = bodies.map((b, k) =>
    k === 0 ? b : b.map((st) => st.replace(/\$(V\w+)/g, (m, name) => (keep.has(name) ? m : `$${name}_${k}`))),
  );
  const out = [];
  const longest = Math.max(...renamed.map((b) => b.length));
  for (let i = 0; i < longest; i++) for (const b of renamed) if (i < b.length) out.push(b[i]);
  return out;
}

/** Lanes 2,3 moved to 0,1 (for promoting the high half to f64x2). */
const swapHalves = (v) => `(i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v})`;
/** Lanes 0,1 / 2,3 of the f32x4 local `v` as f64x2 (for L.addTo64's expression builders). */
const lowHalf = (v) => `(f64x2.promote_low_f32x4 ${g(v)})`;
const highHalf = (v) => `(f64x2.promote_low_f32x4 ${swapHalves(g(v))})`;

/** Sets accumulators acc0..acc{U-1} to `init`; after the loop, combineAcc folds them into acc0. */
const initAcc = (acc, U, init) => Array.from({ length: U }, (_, k) => set(`${acc}${k}`, init)).join('\n    ');
const combineAcc = (acc, U, how = 'f32x4.add') =>
  Array.from({ length: U - 1 }, (_, k) => set(`${acc}0`, `(${how} ${g(`${acc}0`)} ${g(`${acc}${k + 1}`)})`)).join('\n    ');
const lanes = (v) => [0, 1, 2, 3].map((l) => `(f32x4.extract_lane ${l} ${v})`);
const hsum = (v) => {
  const [a, b, c, d] = lanes(v);
  return `(f32.add (f32.add ${a} ${b}) (f32.add ${c} ${d}))`;
};
const hmax = (v) => {
  const [a, b, c, d] = lanes(v);
  return `(f32.max (f32.max ${a} ${b}) (f32.max ${c} ${d}))`;
};

/**
 * for (r = 0; r < rows; r++) with $p0.. advanced by `pitch` bytes per row for each named pointer
 * in `advance`. body gets nothing; it reads $r and the pointers.
 */
function rowLoop(F, { rows, pointers, pitch, body }) {
  const l = F.label('R');
  const steps = pointers.map((p) => set(p, `(i32.add ${g(p)} ${pitch})`));
  return `${set('r', i32c(0))}
    (if (i32.lt_u ${g('r')} ${rows})
      (then (loop ${l}
      ${body}
      ${steps.join('\n      ')}
      ${set('r', `(i32.add ${g('r')} ${i32c(1)})`)}
      (br_if ${l} (i32.lt_u ${g('r')} ${rows})))))`;
}

// ---- kernels ----------------------------------------------------------------------------------

/** gelu(px, po, n): po[i] = x Phi(x), n a multiple of 4; po may equal px. */
function gelu() {
  return func('gelu', [['px', 'i32'], ['po', 'i32'], ['n', 'i32']], (F) =>
    sweep(F, {
      n: g('n'),
      tail: false,
      U: 2,
      interleave: true,
      body: (L) => [set('Vx', L.load('px')), ...normalCdf(F, false), L.store('po', fmul(g('Vx'), g('Vphi')))],
    }),
  );
}

/** gelu_grad(px, pdy, n): pdy[i] = dy (Phi(x) + x phi(x)), in place over dy; n a multiple of 4. */
function geluGrad() {
  return func('gelu_grad', [['px', 'i32'], ['pdy', 'i32'], ['n', 'i32']], (F) =>
    sweep(F, {
      n: g('n'),
      tail: false,
      U: 2,
      interleave: true,
      body: (L) =>
        [
          set('Vx', L.load('px')),
          ...normalCdf(F, true),
          L.store('pdy', fmul(L.load('pdy'), fadd(g('Vphi'), fmul(g('Vx'), fmul(g('Vdens'), F.k(INV_SQRT_2PI)))))),
        ],
    }),
  );
}

/**
 * softmax_{none,row,scalar}(px, rows, cols, pmask, poffs): softmax over each row of x + mask, in
 * place. Row r's mask starts at element offs[r] of the mask (i32 at poffs + 4r): a row of cols
 * values ('row'), or one value broadcast along the row ('scalar'). x + mask is rounded to float32
 * first, so a -3.4e38 mask saturates as in PyTorch; a row whose max is -inf uses 0 instead, as
 * the plain-JS kernel does.
 */
function softmax(mode) {
  const params = [['px', 'i32'], ['rows', 'i32'], ['cols', 'i32'], ['pmask', 'i32'], ['poffs', 'i32']];
  return func(`softmax_${mode}`, params, (F) => {
    const U = 4;
    const maskPtr = set('pm', `(i32.add ${g('pmask')} (i32.shl (i32.load (i32.add ${g('poffs')} (i32.shl ${g('r')} ${i32c(2)}))) ${i32c(2)}))`);
    const scoreOf = (L) =>
      mode === 'none' ? L.load('p') : fadd(L.load('p'), mode === 'row' ? L.load('pm') : g('Vms'));
    const body = [
      mode === 'none' ? '' : maskPtr,
      mode === 'scalar' ? set('Vms', `(v128.load32_splat ${g('pm')})`) : '',
      initAcc('Vmax', U, F.k('-inf')),
      sweep(F, {
        n: g('cols'),
        U,
        body: (L) =>
          mode === 'none'
            ? L.max('Vmax', L.load('p'))
            : [set('Vs', scoreOf(L)), L.store('p', g('Vs')), L.max('Vmax', g('Vs'))].join('\n        '),
      }),
      combineAcc('Vmax', U, 'f32x4.pmax'),
      set('Fmax', hmax(g('Vmax0'))),
      set('Fmax', `(select (f32.const 0) ${g('Fmax')} (f32.eq ${g('Fmax')} (f32.const -inf)))`),
      set('Vmaxs', `(f32x4.splat ${g('Fmax')})`),
      initAcc('Vsum', 2, F.k('0')),
      sweep(F, {
        n: g('cols'),
        U: 2,
        interleave: true,
        shared: ['Vmaxs', 'Vsum0', 'Vsum1'],
        body: (L) => [...expf(F, 'Ve', fsub(L.load('p'), g('Vmaxs'))), L.store('p', g('Ve')), L.sum('Vsum', g('Ve'))],
      }),
      combineAcc('Vsum', 2),
      set('Vinv', `(f32x4.splat (f32.div (f32.const 1) ${hsum(g('Vsum0'))}))`),
      sweep(F, { n: g('cols'), U: 2, body: (L) => L.store('p', fmul(L.load('p'), g('Vinv'))) }),
    ].join('\n      ');
    return [set('p', g('px')), rowLoop(F, { rows: g('rows'), pointers: ['p'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body })].join('\n    ');
  });
}

/** softmax_grad(py, pdy, rows, cols): dy := y (dy - sum(dy y)) per row, in place over dy. */
function softmaxGrad() {
  const params = [['py', 'i32'], ['pdy', 'i32'], ['rows', 'i32'], ['cols', 'i32']];
  return func('softmax_grad', params, (F) => {
    const U = 4;
    const body = [
      initAcc('Vdot', U, F.k('0')),
      sweep(F, { n: g('cols'), U, body: (L) => L.sum('Vdot', fmul(L.load('q'), L.load('p'))) }),
      combineAcc('Vdot', U),
      set('Vd', `(f32x4.splat ${hsum(g('Vdot0'))})`),
      sweep(F, { n: g('cols'), U: 2, body: (L) => L.store('q', fmul(L.load('p'), fsub(L.load('q'), g('Vd')))) }),
    ].join('\n      ');
    return [set('p', g('py')), set('q', g('pdy')), rowLoop(F, { rows: g('rows'), pointers: ['p', 'q'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body })].join('\n    ');
  });
}

/**
 * layer_norm(px, pg, pb, pmean, prstd, rows, cols, eps): y := (x - mean) rstd g + b in place over
 * x; mean and rstd (biased variance) per row as f32 at pmean/prstd. The row sum is taken in
 * float64 (so the stored mean is the correctly rounded float64 mean, as the JS kernel's), the
 * variance from float32 residuals x - m, and y from (x - m) - (mean - m), so rows with
 * |mean| >> std keep their precision.
 */
function layerNorm() {
  const params = [['px', 'i32'], ['pg', 'i32'], ['pb', 'i32'], ['pmean', 'i32'], ['prstd', 'i32'], ['rows', 'i32'], ['cols', 'i32'], ['Feps', 'f32']];
  return func('layer_norm', params, (F) => {
    const body = [
      ...['Vs0a', 'Vs0b', 'Vs1a', 'Vs1b'].map((acc) => set(acc, '(v128.const f64x2 0 0)')),
      sweep(F, { n: g('cols'), U: 2, body: (L) => [set('Vx', L.load('p')), L.sum64('Vs', 'Vx')].join('\n        ') }),
      set('Vs0a', `(f64x2.add (f64x2.add ${g('Vs0a')} ${g('Vs0b')}) (f64x2.add ${g('Vs1a')} ${g('Vs1b')}))`),
      // mean64 in float64; m = mean64 rounded to float32 (the stored mean, as the JS kernel's);
      // delta = mean64 - m (below half an ulp of m) keeps x - mean accurate where |mean| >> std.
      set('Dmean', `(f64.div (f64.add (f64x2.extract_lane 0 ${g('Vs0a')}) (f64x2.extract_lane 1 ${g('Vs0a')})) (f64.convert_i32_u ${g('cols')}))`),
      set('Fm', `(f32.demote_f64 ${g('Dmean')})`),
      set('Fd', `(f32.demote_f64 (f64.sub ${g('Dmean')} (f64.promote_f32 ${g('Fm')})))`),
      set('Vm', `(f32x4.splat ${g('Fm')})`),
      initAcc('Vq', 2, F.k('0')),
      sweep(F, {
        n: g('cols'),
        U: 2,
        body: (L) => [set('Vd', fsub(L.load('p'), g('Vm'))), L.sum('Vq', fmul(g('Vd'), g('Vd')))].join('\n        '),
      }),
      combineAcc('Vq', 2),
      set('Fv', `(f32.max (f32.sub (f32.div ${hsum(g('Vq0'))} ${g('Fh')}) (f32.mul ${g('Fd')} ${g('Fd')})) (f32.const 0))`),
      set('Fr', `(f32.div (f32.const 1) (f32.sqrt (f32.add ${g('Fv')} ${g('Feps')})))`),
      `(f32.store (i32.add ${g('pmean')} (i32.shl ${g('r')} ${i32c(2)})) ${g('Fm')})`,
      `(f32.store (i32.add ${g('prstd')} (i32.shl ${g('r')} ${i32c(2)})) ${g('Fr')})`,
      set('Vd', `(f32x4.splat ${g('Fd')})`),
      set('Vr', `(f32x4.splat ${g('Fr')})`),
      sweep(F, {
        n: g('cols'),
        body: (L) =>
          L.store('p', fadd(fmul(fmul(fsub(fsub(L.load('p'), g('Vm')), g('Vd')), g('Vr')), L.load('pg')), L.load('pb'))),
      }),
    ].join('\n      ');
    return [
      set('Fh', `(f32.convert_i32_u ${g('cols')})`),
      set('p', g('px')),
      rowLoop(F, { rows: g('rows'), pointers: ['p'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body }),
    ].join('\n    ');
  });
}

/**
 * layer_norm_grad(pdy, px, pg, pmean, prstd, rows, cols, pdg, pdb): dx := rstd (dy g - mean(dy g)
 * - xhat mean(dy g xhat)) in place over dy; dgamma += dy xhat (xhat formed in float64) and
 * dbeta += dy accumulate in float64 at pdg/pdb ([cols] each), so column sums over thousands of
 * rows stay exact to float32 even where their terms cancel.
 */
function layerNormGrad() {
  const params = [['pdy', 'i32'], ['px', 'i32'], ['pg', 'i32'], ['pmean', 'i32'], ['prstd', 'i32'], ['rows', 'i32'], ['cols', 'i32'], ['pdg', 'i32'], ['pdb', 'i32']];
  return func('layer_norm_grad', params, (F) => {
    const xhat = (L) => fmul(fsub(L.load('x'), g('Vmean')), g('Vr'));
    const body = [
      set('Vmean', `(v128.load32_splat (i32.add ${g('pmean')} (i32.shl ${g('r')} ${i32c(2)})))`),
      set('Vr', `(v128.load32_splat (i32.add ${g('prstd')} (i32.shl ${g('r')} ${i32c(2)})))`),
      set('Vmean64', `(f64x2.promote_low_f32x4 ${g('Vmean')})`),
      set('Vr64', `(f64x2.promote_low_f32x4 ${g('Vr')})`),
      set('Va0', F.k('0')),
      set('Vb0', F.k('0')),
      sweep(F, {
        n: g('cols'),
        body: (L) =>
          [
            set('Vx', L.load('x')),
            set('Vxh', fmul(fsub(g('Vx'), g('Vmean')), g('Vr'))),
            set('Vdy', L.load('q')),
            set('Vdxh', fmul(g('Vdy'), L.load('pg'))),
            L.sum('Va', g('Vdxh')),
            L.sum('Vb', fmul(g('Vdxh'), g('Vxh'))),
            // dgamma's product from float64 xhat: float32 xhat would cost ~1e-7 per term, which
            // becomes ~1e-5 of a column sum whose terms largely cancel.
            L.addTo64('pdg', (half) => `(f64x2.mul ${half('Vdy')} (f64x2.mul (f64x2.sub ${half('Vx')} ${g('Vmean64')}) ${g('Vr64')}))`),
            L.addTo64('pdb', (half) => half('Vdy')),
          ].join('\n        '),
      }),
      set('Va', `(f32x4.splat (f32.div ${hsum(g('Va0'))} ${g('Fh')}))`),
      set('Vb', `(f32x4.splat (f32.div ${hsum(g('Vb0'))} ${g('Fh')}))`),
      sweep(F, {
        n: g('cols'),
        body: (L) =>
          L.store('q', fmul(g('Vr'), fsub(fsub(fmul(L.load('q'), L.load('pg')), g('Va')), fmul(xhat(L), g('Vb'))))),
      }),
    ].join('\n      ');
    return [
      set('Fh', `(f32.convert_i32_u ${g('cols')})`),
      set('q', g('pdy')),
      set('x', g('px')),
      rowLoop(F, { rows: g('rows'), pointers: ['q', 'x'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body }),
    ].join('\n    ');
  });
}

/**
 * ce_stats(pl, rows, cols, pstats): per row, the max logit m and sum(exp(l - m)) (accumulated in
 * float64), written as two f64 at pstats + 16 r; the host forms logSumExp = m + log(sum).
 */
function ceStats() {
  const params = [['pl', 'i32'], ['rows', 'i32'], ['cols', 'i32'], ['pstats', 'i32']];
  return func('ce_stats', params, (F) => {
    const U = 4;
    const body = [
      initAcc('Vmax', U, F.k('-inf')),
      sweep(F, { n: g('cols'), U, body: (L) => L.max('Vmax', L.load('p')) }),
      combineAcc('Vmax', U, 'f32x4.pmax'),
      set('Fmax', hmax(g('Vmax0'))),
      set('Vmaxs', `(f32x4.splat ${g('Fmax')})`),
      set('Vs0a', '(v128.const f64x2 0 0)'),
      set('Vs0b', '(v128.const f64x2 0 0)'),
      set('Vs1a', '(v128.const f64x2 0 0)'),
      set('Vs1b', '(v128.const f64x2 0 0)'),
      sweep(F, {
        n: g('cols'),
        U: 2,
        interleave: true,
        shared: ['Vmaxs', 'Vs0a', 'Vs0b', 'Vs1a', 'Vs1b'],
        body: (L) => [...expf(F, 'Ve', fsub(L.load('p'), g('Vmaxs'))), L.sum64('Vs', 'Ve')],
      }),
      set('Vs0a', `(f64x2.add (f64x2.add ${g('Vs0a')} ${g('Vs0b')}) (f64x2.add ${g('Vs1a')} ${g('Vs1b')}))`),
      `(f64.store ${g('ps')} (f64.promote_f32 ${g('Fmax')}))`,
      `(f64.store offset=8 ${g('ps')} (f64.add (f64x2.extract_lane 0 ${g('Vs0a')}) (f64x2.extract_lane 1 ${g('Vs0a')})))`,
    ].join('\n      ');
    return [
      set('p', g('pl')),
      set('ps', g('pstats')),
      rowLoop(F, { rows: g('rows'), pointers: ['p'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body: `${body}\n      ${set('ps', `(i32.add ${g('ps')} ${i32c(16)})`)}` }),
    ].join('\n    ');
  });
}

/** ce_grad(pl, rows, cols, plse, factor): l := exp(l - lse[r]) factor in place (label term by the host). */
function ceGrad() {
  const params = [['pl', 'i32'], ['rows', 'i32'], ['cols', 'i32'], ['plse', 'i32'], ['Ffactor', 'f32']];
  return func('ce_grad', params, (F) => {
    const body = [
      set('Vlse', `(v128.load32_splat (i32.add ${g('plse')} (i32.shl ${g('r')} ${i32c(2)})))`),
      sweep(F, {
        n: g('cols'),
        U: 2,
        interleave: true,
        shared: ['Vlse', 'Vf'],
        body: (L) => [...expf(F, 'Ve', fsub(L.load('p'), g('Vlse'))), L.store('p', fmul(g('Ve'), g('Vf')))],
      }),
    ].join('\n      ');
    return [
      set('Vf', `(f32x4.splat ${g('Ffactor')})`),
      set('p', g('pl')),
      rowLoop(F, { rows: g('rows'), pointers: ['p'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body }),
    ].join('\n    ');
  });
}

/**
 * adamw(pp, pg, pm, pv, n, decay, stepSize, invCorrection2, eps, beta1, 1-beta1, beta2, 1-beta2):
 * in place on p, m, v (n a multiple of 4):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g g;  p = p decay - stepSize m / (sqrt(v) / c2 + eps).
 */
function adamw() {
  const params = [
    ['pp', 'i32'],
    ['pg', 'i32'],
    ['pm', 'i32'],
    ['pv', 'i32'],
    ['n', 'i32'],
    ...['Fdecay', 'Fstep', 'Finvc2', 'Feps', 'Fb1', 'Fob1', 'Fb2', 'Fob2'].map((n) => [n, 'f32']),
  ];
  return func('adamw', params, (F) => {
    const splats = ['decay', 'step', 'invc2', 'eps', 'b1', 'ob1', 'b2', 'ob2'].map((n) => set(`V${n}`, `(f32x4.splat ${g(`F${n}`)})`));
    return [
      ...splats,
      sweep(F, {
        n: g('n'),
        tail: false,
        body: (L) =>
          [
            set('Vg', L.load('pg')),
            set('Vm1', fadd(fmul(g('Vb1'), L.load('pm')), fmul(g('Vob1'), g('Vg')))),
            set('Vm2', fadd(fmul(g('Vb2'), L.load('pv')), fmul(fmul(g('Vob2'), g('Vg')), g('Vg')))),
            L.store('pm', g('Vm1')),
            L.store('pv', g('Vm2')),
            L.store(
              'pp',
              fsub(
                fmul(L.load('pp'), g('Vdecay')),
                fdiv(fmul(g('Vstep'), g('Vm1')), fadd(fmul(`(f32x4.sqrt ${g('Vm2')})`, g('Vinvc2')), g('Veps'))),
              ),
            ),
          ].join('\n        '),
      }),
    ].join('\n    ');
  });
}

/** lowbias32 on each i32 lane of local `v` (in place): the Dropout kernel's hash. */
function lowbias32(F, v) {
  const xorShift = (k) => set(v, `(v128.xor ${g(v)} (i32x4.shr_u ${g(v)} ${i32c(k)}))`);
  return [
    xorShift(16),
    set(v, `(i32x4.mul ${g(v)} ${F.k(0x7feb352d, 'i32')})`),
    xorShift(15),
    // 0x846ca68b as a signed i32
    set(v, `(i32x4.mul ${g(v)} ${F.k(0x846ca68b - 2 ** 32, 'i32')})`),
    xorShift(16),
  ];
}

/**
 * dropout(px, n, base, key, thr, scale): px[i] *= (h < thr ? 0 : scale) in place, with
 * h = lowbias32(lowbias32(base + i) ^ key) compared unsigned (engine/dropout-mask.ts); n a
 * multiple of 4. The multiply by 0 (not a store of 0) keeps x * mask's -0 and NaN.
 */
function dropout() {
  const params = [['px', 'i32'], ['n', 'i32'], ['base', 'i32'], ['key', 'i32'], ['thr', 'i32'], ['Fscale', 'f32']];
  return func('dropout', params, (F) =>
    [
      set('Vidx', `(i32x4.add (i32x4.splat ${g('base')}) (v128.const i32x4 0 1 2 3))`),
      set('Vkey', `(i32x4.splat ${g('key')})`),
      set('Vthr', `(i32x4.splat ${g('thr')})`),
      set('Vscale', `(f32x4.splat ${g('Fscale')})`),
      sweep(F, {
        n: g('n'),
        tail: false,
        body: (L) => [
          set('Vh', g('Vidx')),
          ...lowbias32(F, 'Vh'),
          set('Vh', `(v128.xor ${g('Vh')} ${g('Vkey')})`),
          ...lowbias32(F, 'Vh'),
          L.store('px', fmul(L.load('px'), `(v128.bitselect ${F.k('0')} ${g('Vscale')} (i32x4.lt_u ${g('Vh')} ${g('Vthr')}))`)),
          set('Vidx', `(i32x4.add ${g('Vidx')} ${F.k(4, 'i32')})`),
        ],
      }),
    ].join('\n    '),
  );
}

/**
 * add_rows(px, pr, rows, cols): px[r cols + j] += pr[j] in place, for every row (a bias row over
 * [rows, cols]; one row of cols = n is a same-shape add). cols need not be a multiple of 4.
 */
function addRows() {
  const params = [['px', 'i32'], ['pr', 'i32'], ['rows', 'i32'], ['cols', 'i32']];
  return func('add_rows', params, (F) => {
    const body = sweep(F, { n: g('cols'), U: 4, body: (L) => L.store('p', fadd(L.load('p'), L.load('pr'))) });
    return [set('p', g('px')), rowLoop(F, { rows: g('rows'), pointers: ['p'], pitch: `(i32.shl ${g('cols')} ${i32c(2)})`, body })].join('\n    ');
  });
}

/** The exported kernels, by name (for the host's typed wrapper and for tests). */
export const SIMD_KERNEL_EXPORTS = [
  'gelu',
  'gelu_grad',
  'softmax_none',
  'softmax_row',
  'softmax_scalar',
  'softmax_grad',
  'layer_norm',
  'layer_norm_grad',
  'ce_stats',
  'ce_grad',
  'adamw',
  'dropout',
  'add_rows',
];

/**
 * @param {{ maxPages: number, shared?: boolean }} opts shared: import a shared memory (the one the
 *   GEMM's worker threads share, so the same kernels run row blocks on every thread)
 * @returns {string} the module's WAT text
 */
export function simdKernelsWat({ maxPages, shared = false }) {
  return `(module
  ;; cpu backend non-GEMM kernels, WebAssembly SIMD (no relaxed SIMD); see scripts/simd-kernels-wat.mjs
  (import "env" "memory" (memory 1 ${maxPages}${shared ? ' shared' : ''}))
${[gelu(), geluGrad(), softmax('none'), softmax('row'), softmax('scalar'), softmaxGrad(), layerNorm(), layerNormGrad(), ceStats(), ceGrad(), adamw(), dropout(), addRows()].join('\n\n')}
)
`;
}
