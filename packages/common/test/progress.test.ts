import { describe, expect, it } from 'vitest';
import { ProgressLine, formatDuration } from '../src/index.js';

const recorder = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (text: string) => out.push(text) } };
};

describe('ProgressLine', () => {
  it('rewrites one line in place on a terminal and ends it once', () => {
    const { out, stream } = recorder(true);
    const line = new ProgressLine(stream, 1e9);
    line.show('a', 0);
    line.show('b', 0);
    line.finish();
    line.finish();
    expect(out).toEqual(['\r\x1b[2Ka', '\r\x1b[2Kb', '\n']);
  });

  it('elsewhere prints full lines when due or everySeconds after the last one', () => {
    const { out, stream } = recorder(false);
    const line = new ProgressLine(stream, 10);
    const shown = [0, 5, 9, 10, 12, 20.5].map((now) => line.show(`t=${now}`, now));
    expect(shown).toEqual([true, false, false, true, false, true]);
    line.show('milestone', 21, true);
    line.finish();
    expect(out).toEqual(['t=0\n', 't=10\n', 't=20.5\n', 'milestone\n']);
  });

  it('puts a note on a line of its own after an in-place line', () => {
    const { out, stream } = recorder(true);
    const line = new ProgressLine(stream, 0);
    line.show('step 1', 0);
    line.note('resumed');
    expect(out).toEqual(['\r\x1b[2Kstep 1', '\n', 'resumed\n']);
  });
});

describe('formatDuration', () => {
  it('formats seconds, minutes and hours; unknown as ?', () => {
    expect([formatDuration(42), formatDuration(185), formatDuration(3720), formatDuration(Number.NaN), formatDuration(-1)]).toEqual(['42s', '3m05s', '1h02m', '?', '?']);
  });
});
