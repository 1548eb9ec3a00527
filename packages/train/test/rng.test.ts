import { describe, expect, it } from 'vitest';
import { Generator, deriveSeed } from '@retro/tensor';
import { TrainerRng } from '../src/index.js';

describe('TrainerRng', () => {
  it('gives each purpose its own stream, seeded with deriveSeed(seed, name)', () => {
    const a = new TrainerRng(5);
    const draws = (rng: TrainerRng) => ['init', 'masks', 'dropout', 'data'].map((n) => rng.stream(n).nextUint32());
    const first = draws(a);
    expect(new Set(first).size).toBe(4);
    expect(draws(new TrainerRng(5))).toEqual(first);
    expect(draws(new TrainerRng(6))).not.toEqual(first);
    expect(new TrainerRng(5).dropout.nextUint32()).toBe(new Generator(deriveSeed(5, 'dropout')).nextUint32());
  });

  it('state survives JSON (including a pending Box-Muller value) and replays the same numbers', () => {
    const rng = new TrainerRng(11);
    rng.stream('init').normal(); // leaves the spare normal pending
    rng.stream('extra').random();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.stream('init').normal(), rng.dropout.random(), rng.stream('extra').random()];
    const restored = new TrainerRng(11);
    restored.setState(saved);
    expect([restored.stream('init').normal(), restored.dropout.random(), restored.stream('extra').random()]).toEqual(expected);
  });

  it('rejects a state missing a stream, or one written by the old sfc32 generator, naming it', () => {
    const state = new TrainerRng(1).getState();
    delete state.dropout;
    expect(() => new TrainerRng(1).setState(state, 'trainer_state.json')).toThrow(/trainer_state.json.*'dropout' is missing/);
    const old = { dropout: [1, 2, 3, 4, null] } as never;
    expect(() => new TrainerRng(1).setState(old, 'trainer_state.json')).toThrow(/'dropout' holds 5 numbers, the state of the sfc32 generator/);
  });
});
