/**
 * The strided map: out[c] = f(in_0[off_0(c)], in_1[off_1(c)], ...) over every coordinate c of
 * an output shape, where off_i(c) = base_i + sum_d c_d * stride_i[d]. Broadcasting (stride 0),
 * transposes (permuted strides) and slices (base offset) are all this one program; strides
 * are computed on the host and compiled in as constants.
 */
import type { GpujsBackend } from '../backend.js';
import { gridCoords, gridForDims, offsetExpr, type Codegen, type Program } from '../program.js';
import { collapseDims, sizeOf } from '../../../shape.js';
import { GpujsStorage, type HostArray } from '../storage.js';

export interface StridedArg {
  storage: GpujsStorage;
  /** One stride per output dim (0 where the input is broadcast). */
  strides: readonly number[];
  /** Element offset of output coordinate 0. */
  offset: number;
}

/**
 * What to compute from the loaded values v0, v1, ... (and `p[i]`, the params array, if given):
 * optional statements, then the returned expression.
 */
export interface MapBody {
  pre?: string;
  expr: string;
}

export function mapStrided(
  backend: GpujsBackend,
  name: string,
  outShape: readonly number[],
  args: readonly StridedArg[],
  body: (values: string[], cg: Codegen) => MapBody,
  params?: Float32Array,
): GpujsStorage {
  const n = sizeOf(outShape);
  if (n === 0) return new GpujsStorage(new Float32Array(0), 0);
  const { dims, strides } = collapseDims(
    outShape,
    args.map((a) => a.strides),
  );
  const names = args.map((_, i) => `a${i}`);
  const values = args.map((_, i) => `v${i}`);
  const program: Program = {
    name,
    grid: gridForDims(dims),
    source: (cg, constants) => {
      const { code, coords } = gridCoords(cg, dims, 'o', constants);
      const loads = args
        .map((a, i) => `const v${i} = ${names[i]}[${offsetExpr(coords, strides[i], a.offset, `a${i}`, constants)}];`)
        .join(' ');
      const paramList = params ? [...names, 'p'] : names;
      const { pre, expr } = body(values, cg);
      return `function(${paramList.join(', ')}) { ${cg.ids} ${code} ${loads} ${pre ?? ''} return ${expr}; }`;
    },
  };
  const inputs: (GpujsStorage | HostArray)[] = args.map((a) => a.storage);
  if (params) inputs.push(params);
  return backend.run(program, inputs);
}

/** A contiguous copy of `storage` read through `strides`/`offset` into `outShape`. */
export function gatherStrided(
  backend: GpujsBackend,
  name: string,
  storage: GpujsStorage,
  outShape: readonly number[],
  strides: readonly number[],
  offset: number,
): GpujsStorage {
  return mapStrided(backend, name, outShape, [{ storage, strides, offset }], ([v]) => ({ expr: v }));
}
