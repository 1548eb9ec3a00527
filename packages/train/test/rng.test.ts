import { describe, expect, it } from 'vitest';
import { TrainerRng } from '@retro/train';

describe('TrainerRng', () => {
  it('gives each purpose its own stream, fixed by the seed', () => {
    const a = new TrainerRng(5);
    const draws = (rng: TrainerRng) => ['init', 'masks', 'dropout', 'data'].map((n) => rng.stream(n).nextUint32());
    const first = draws(a);
    expect(new Set(first).size).toBe(4);
    expect(draws(new TrainerRng(5))).toEqual(first);
    expect(draws(new TrainerRng(6))).not.toEqual(first);
  });

  it('state survives JSON (including a pending Box-Muller value) and replays the same numbers', () => {
    const rng = new TrainerRng(11);
    rng.init.normal(); // leaves the spare normal pending
    rng.stream('extra').random();
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.init.normal(), rng.dropout.random(), rng.stream('extra').random()];
    const restored = new TrainerRng(11);
    restored.setState(saved);
    expect([restored.init.normal(), restored.dropout.random(), restored.stream('extra').random()]).toEqual(expected);
  });

  it('rejects a state missing a stream, naming it', () => {
    const state = new TrainerRng(1).getState();
    delete state.masks;
    expect(() => new TrainerRng(1).setState(state, 'trainer_state.json')).toThrow(/trainer_state.json.*'masks' is missing/);
  });
});
