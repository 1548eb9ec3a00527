import { Generator } from '@retro/tensor';

/** The streams every run has; models and data pipelines draw only from these (or `stream(name)`). */
export const RNG_STREAMS = ['init', 'masks', 'dropout', 'data'] as const;
export type RngStreamName = (typeof RNG_STREAMS)[number];

/** JSON form of all streams: name -> Generator.getState() with NaN written as null. */
export type RngState = Record<string, Array<number | null>>;

/** A per-stream seed: FNV-1a of the name, mixed with the run seed, so streams never coincide. */
function deriveSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return Math.imul(hash ^ (seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
}

/**
 * The run's random generators, one independent stream per purpose (weight init, masking, dropout,
 * data order), all derived from one seed. The trainer saves and restores their states in every
 * checkpoint, so a resumed run draws the same numbers an uninterrupted one would.
 */
export class TrainerRng {
  readonly seed: number;
  private readonly streams = new Map<string, Generator>();

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`TrainerRng: seed must be an integer, got ${seed}`);
    this.seed = seed;
    for (const name of RNG_STREAMS) this.stream(name);
  }

  get init(): Generator { return this.stream('init'); }
  get masks(): Generator { return this.stream('masks'); }
  get dropout(): Generator { return this.stream('dropout'); }
  get data(): Generator { return this.stream('data'); }

  /** The generator called `name`, created from the run seed on first use. */
  stream(name: string): Generator {
    let generator = this.streams.get(name);
    if (!generator) {
      generator = new Generator(deriveSeed(this.seed, name));
      this.streams.set(name, generator);
    }
    return generator;
  }

  getState(): RngState {
    const state: RngState = {};
    for (const [name, generator] of this.streams) state[name] = generator.getState().map((x) => (Number.isNaN(x) ? null : x));
    return state;
  }

  /** Restores every stream in `state` (creating named extras); `source` names the file in errors. */
  setState(state: RngState, source = 'rng state'): void {
    if (typeof state !== 'object' || state === null) throw new Error(`TrainerRng.setState(${source}): expected an object of streams, found ${JSON.stringify(state)}`);
    for (const name of RNG_STREAMS) {
      if (!(name in state)) throw new Error(`TrainerRng.setState(${source}): stream '${name}' is missing`);
    }
    for (const [name, values] of Object.entries(state)) {
      if (!Array.isArray(values) || values.length !== 5) {
        throw new Error(`TrainerRng.setState(${source}): stream '${name}' has ${JSON.stringify(values)}, expected 5 numbers`);
      }
      this.stream(name).setState(values.map((x) => (x === null ? Number.NaN : x)));
    }
  }
}
