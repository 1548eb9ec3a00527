import { Generator, deriveSeed, type GeneratorState } from '@retro/tensor';

/**
 * The streams every run has. Only dropout draws during training: weight init happens once from
 * the seed, and data order, encoder masks and M come from deriveSeed(seed, ..., epoch, batch), so
 * their positions are recomputed on resume. Other parts may add named streams with `stream(name)`.
 */
export const RNG_STREAMS = ['dropout'] as const;
export type RngStreamName = (typeof RNG_STREAMS)[number];

/** JSON form of all streams: name -> Generator.getState(). */
export type RngState = Record<string, GeneratorState>;

/**
 * The run's generators that carry state across steps, one stream per purpose, each seeded with
 * deriveSeed(seed, name). The trainer saves and restores their states in every checkpoint, so a
 * resumed run draws the same numbers an uninterrupted one would.
 */
export class TrainerRng {
  readonly seed: number;
  private readonly streams = new Map<string, Generator>();

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`TrainerRng: seed must be an integer, got ${seed}`);
    this.seed = seed;
    for (const name of RNG_STREAMS) this.stream(name);
  }

  /** The stream the model's dropout draws from (`model.encoder.generator = rng.dropout`). */
  get dropout(): Generator {
    return this.stream('dropout');
  }

  /** The generator called `name`, created from deriveSeed(seed, name) on first use. */
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
    for (const [name, generator] of this.streams) state[name] = generator.getState();
    return state;
  }

  /** Restores every stream in `state` (creating named extras); `source` names the file in errors. */
  setState(state: RngState, source = 'rng state'): void {
    if (typeof state !== 'object' || state === null) throw new Error(`TrainerRng.setState(${source}): expected an object of streams, found ${JSON.stringify(state)}`);
    for (const name of RNG_STREAMS) {
      if (!(name in state)) throw new Error(`TrainerRng.setState(${source}): stream '${name}' is missing`);
    }
    for (const [name, value] of Object.entries(state)) {
      if (Array.isArray(value)) {
        throw new Error(
          `TrainerRng.setState(${source}): stream '${name}' holds ${value.length} numbers, the state of the sfc32 generator retro used before ` +
            `@retro/random; a run checkpointed by that version cannot continue bit-exactly with this one (start it over, or resume it with that version)`,
        );
      }
      this.stream(name).setState(value, `TrainerRng.setState(${source}): stream '${name}'`);
    }
  }
}
