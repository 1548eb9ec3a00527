/**
 * Kernel programs: gpu.js kernel sources generated per (structure, output layout), plus the
 * code-generation helpers they share. A program describes its work as a logical grid
 * [z, y, x] of cells; the backend picks gpu.js's output dims for it (see `planOutput`) and
 * hands the source a `Codegen` whose `ids` prelude defines the integer grid coordinates
 * `gx`, `gy`, `gz` for that layout.
 */

/** Logical grid of cells: x fastest, row-major like the output storage. */
export interface Grid {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export function cells(grid: Grid): number {
  return grid.x * grid.y * grid.z;
}

/**
 * Index-safe code generation. gpu.js (webasm and GL alike) declares every local as a float
 * ("int-typed initializers decay to float declarations"), loop counters included, while
 * expressions built from this.thread.*, integer constants, integer literals and `| 0` stay
 * 32-bit integers. A float holds every integer below 2^24 exactly, so index values may live
 * in locals only while every index a kernel touches is below 2^24; beyond that (`inline`)
 * index values are spelled out as integer expressions wherever they are used.
 */
export interface Codegen {
  /** Statements defining the grid coordinates (empty when they are inlined). */
  readonly ids: string;
  /** Integer grid coordinates (x fastest), as expressions. */
  readonly gx: string;
  readonly gy: string;
  readonly gz: string;
  /** cpu/webasm: `| 0` is a real 32-bit integer conversion; GL: everything is float. */
  readonly host: boolean;
  /** Index values are inlined because some index reaches 2^24. */
  readonly inline: boolean;
  /** floor(a / b) for non-negative integers a < 2^24, b. */
  idiv(a: string, b: string): string;
  /** An integer index from a float that holds one (ids, labels). */
  toInt(expr: string): string;
  /** A loop counter or other small float local, made safe to add into a large index. */
  int(expr: string): string;
  /** Declares an index-valued local `name = expr` (nothing when inlined); read it with `use`. */
  def(name: string, expr: string): string;
  use(name: string): string;
}

export interface Program {
  /** Kernel name for cache keys and error messages, e.g. 'Add' or 'LayerNorm/stats'. */
  readonly name: string;
  readonly grid: Grid;
  /**
   * The gpu.js kernel function source (a `function (...) { ... }` expression). `constants`
   * starts as a copy of `constants` below; the source may add the ones it generates.
   */
  source(cg: Codegen, constants: Record<string, number>): string;
  /** `this.constants`; integer values compile as integers (strictIntegers). */
  readonly constants?: Record<string, number>;
  /** Upper bound of any loop whose trip count is not a constant (gpu.js caps such loops). */
  readonly loopMax?: number;
  /** Returns `[v0, v1, v2, v3]` per cell (cpu/webasm only); the raw result interleaves them. */
  readonly vec4?: boolean;
}

/** `this.constants.<name>` */
export function k(name: string): string {
  return `this.constants.${name}`;
}

/** Decomposes a 1-D output back into the grid; the +0.5 keeps approximate GPU division exact. */
const FLAT_IDS = [
  'const gi = this.thread.x;',
  'const gq = Math.floor((gi + 0.5) / this.constants.gridX);',
  'const gx = gi - gq * this.constants.gridX;',
  'const gz = Math.floor((gq + 0.5) / this.constants.gridY);',
  'const gy = gq - gz * this.constants.gridY;',
].join(' ');

/**
 * A code generator for one kernel source. `host`: cpu/webasm (exact integer ops exist);
 * `flat`: the grid is decomposed from a 1-D output (GL only); `inline`: some index reaches
 * 2^24, so index values never pass through (float) locals.
 */
export function makeCodegen(host: boolean, flat: boolean, inline: boolean): Codegen {
  if (flat && host) throw new Error('gpujs program: flat layouts are only needed (and built) on GL modes');
  const defs = new Map<string, string>();
  const useLocals = flat || !inline;
  return {
    ids: flat ? FLAT_IDS : inline ? '' : 'const gx = this.thread.x; const gy = this.thread.y; const gz = this.thread.z;',
    gx: useLocals ? 'gx' : 'this.thread.x',
    gy: useLocals ? 'gy' : 'this.thread.y',
    gz: useLocals ? 'gz' : 'this.thread.z',
    host,
    inline,
    idiv: host ? (a, b) => `(((${a}) / (${b})) | 0)` : (a, b) => `Math.floor(((${a}) + 0.5) / (${b}))`,
    toInt: host ? (e) => `((${e}) | 0)` : (e) => `Math.floor((${e}) + 0.5)`,
    int: host && inline ? (e) => `((${e}) | 0)` : (e) => e,
    def(name, expr) {
      if (!inline) return `const ${name} = ${expr};`;
      defs.set(name, expr);
      return '';
    },
    use(name) {
      if (!inline) return name;
      const expr = defs.get(name);
      if (expr === undefined) throw new Error(`gpujs codegen: '${name}' used before def`);
      return `(${expr})`;
    },
  };
}

export interface OutputPlan {
  /** gpu.js output dims ([x], [x, y] or [x, y, z]). */
  output: number[];
  /** Whether the grid is computed as 1-D and decomposed in the kernel (GL size limits). */
  flat: boolean;
}

/**
 * gpu.js output dims for a grid. Host modes use the grid as is (exact integer thread ids).
 * GL textures are 2-D with a maximum side: a 1-D or 3-D output is laid out near-square by
 * gpu.js, a 2-D one as-is, so a 2-D grid wider or taller than the limit goes flat.
 */
export function planOutput(grid: Grid, host: boolean, maxTextureSize: number, capacity = maxTextureSize * maxTextureSize): OutputPlan {
  const total = cells(grid);
  if (host) {
    if (grid.z > 1) return { output: [grid.x, grid.y, grid.z], flat: false };
    if (grid.y > 1) return { output: [grid.x, grid.y], flat: false };
    return { output: [grid.x], flat: false };
  }
  if (total > capacity) {
    throw new Error(`gpujs: an output of ${total} values exceeds the ${maxTextureSize}x${maxTextureSize} texture limit`);
  }
  if (grid.y === 1 && grid.z === 1) return { output: [grid.x], flat: false };
  if (grid.z === 1 && grid.x <= maxTextureSize && grid.y <= maxTextureSize) return { output: [grid.x, grid.y], flat: false };
  if (grid.z > 1) return { output: [grid.x, grid.y, grid.z], flat: false };
  return { output: [total], flat: true };
}

/** Grid covering row-major `dims`: x = last dim, y = the one before, z = all leading dims. */
export function gridForDims(dims: readonly number[]): Grid {
  const r = dims.length;
  let z = 1;
  for (let i = 0; i < r - 2; i++) z *= dims[i];
  return { x: r >= 1 ? dims[r - 1] : 1, y: r >= 2 ? dims[r - 2] : 1, z };
}

/**
 * Statements splitting the non-negative integer `lin` into row-major coordinates of `dims`;
 * dims become constants `<prefix>D<i>`. Returns the coordinate expressions, outermost first.
 */
export function decompose(
  cg: Codegen,
  lin: string,
  dims: readonly number[],
  prefix: string,
  constants: Record<string, number>,
): { code: string; coords: string[] } {
  if (dims.length === 0) return { code: '', coords: [] };
  if (dims.length === 1) return { code: '', coords: [lin] };
  const lines: string[] = [];
  const coords = new Array<string>(dims.length);
  let rest = lin;
  for (let i = dims.length - 1; i >= 1; i--) {
    const d = `${prefix}D${i}`;
    constants[d] = dims[i];
    const q = `${prefix}q${i}`;
    const c = `${prefix}c${i}`;
    lines.push(cg.def(q, cg.idiv(rest, k(d))));
    lines.push(cg.def(c, `${rest} - ${cg.use(q)} * ${k(d)}`));
    coords[i] = cg.use(c);
    rest = cg.use(q);
  }
  coords[0] = rest;
  return { code: lines.join(' '), coords };
}

/**
 * Coordinates of every output dim of `dims` (as laid out by `gridForDims`): the last two are
 * gx and gy, the leading ones come from decomposing gz.
 */
export function gridCoords(
  cg: Codegen,
  dims: readonly number[],
  prefix: string,
  constants: Record<string, number>,
): { code: string; coords: string[] } {
  const r = dims.length;
  if (r === 0) return { code: '', coords: [] };
  if (r === 1) return { code: '', coords: [cg.gx] };
  if (r === 2) return { code: '', coords: [cg.gy, cg.gx] };
  const lead = decompose(cg, cg.gz, dims.slice(0, r - 2), prefix, constants);
  return { code: lead.code, coords: [...lead.coords, cg.gy, cg.gx] };
}

/** `c0 * S0 + c1 * S1 + base`, skipping zero strides; strides/base become constants. */
export function offsetExpr(
  coords: readonly string[],
  strides: readonly number[],
  base: number,
  prefix: string,
  constants: Record<string, number>,
): string {
  const terms: string[] = [];
  coords.forEach((c, i) => {
    const s = strides[i];
    if (s === 0) return;
    if (s === 1) {
      terms.push(c);
      return;
    }
    constants[`${prefix}S${i}`] = s;
    terms.push(`${c} * ${k(`${prefix}S${i}`)}`);
  });
  if (base !== 0) {
    constants[`${prefix}B`] = base;
    terms.push(k(`${prefix}B`));
  }
  return terms.length > 0 ? terms.join(' + ') : '0';
}

/** Block length of the two-level summations. */
const SUM_BLOCK = 32;

/**
 * A statement block leaving in `acc` the f32 sum over i in [0, n) of `term(i)`, where n is a
 * host-known count and `term` gets an index-safe integer expression for i. Long sums add
 * blocks of SUM_BLOCK terms naively and the block sums with Kahan compensation, so the error
 * stays near SUM_BLOCK ulps however long the sum (a plain float32 running sum of 1e5 terms is
 * off by ~1e-5 relative). Loop bounds are constants named after `id`.
 */
export function sumLoop(
  cg: Codegen,
  acc: string,
  n: number,
  term: (index: string) => string,
  id: string,
  constants: Record<string, number>,
): string {
  const count = `${id}N`;
  constants[count] = n;
  if (n <= SUM_BLOCK) {
    return `let ${acc} = 0.0; for (let ${id}Idx = 0; ${id}Idx < ${k(count)}; ${id}Idx++) { ${acc} += ${term(cg.int(`${id}Idx`))}; }`;
  }
  const blocks = Math.floor(n / SUM_BLOCK);
  const tail = n - blocks * SUM_BLOCK;
  constants[`${id}NB`] = blocks;
  constants[`${id}BS`] = SUM_BLOCK;
  const comp = `${id}Cmp`;
  // acc += part, compensated: comp carries the low bits the addition rounded away
  const kahanAdd = (part: string) =>
    `{ const ${id}Y = ${part} - ${comp}; const ${id}S = ${acc} + ${id}Y; ${comp} = (${id}S - ${acc}) - ${id}Y; ${acc} = ${id}S; }`;
  const blockIndex = `(${cg.int(`${id}Blk`)} * ${k(`${id}BS`)} + ${cg.int(`${id}In`)})`;
  const parts = [
    `let ${acc} = 0.0; let ${comp} = 0.0;`,
    `for (let ${id}Blk = 0; ${id}Blk < ${k(`${id}NB`)}; ${id}Blk++) {`,
    `  let ${id}Part = 0.0;`,
    `  for (let ${id}In = 0; ${id}In < ${k(`${id}BS`)}; ${id}In++) { ${id}Part += ${term(blockIndex)}; }`,
    `  ${kahanAdd(`${id}Part`)}`,
    `}`,
  ];
  if (tail > 0) {
    constants[`${id}T`] = blocks * SUM_BLOCK;
    constants[`${id}TN`] = tail;
    const tailIndex = `(${k(`${id}T`)} + ${cg.int(`${id}Tl`)})`;
    parts.push(
      `let ${id}Rest = 0.0;`,
      `for (let ${id}Tl = 0; ${id}Tl < ${k(`${id}TN`)}; ${id}Tl++) { ${id}Rest += ${term(tailIndex)}; }`,
      kahanAdd(`${id}Rest`),
    );
  }
  return parts.join(' ');
}
