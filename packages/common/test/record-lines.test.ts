import { describe, expect, it } from 'vitest';
import { recordLines } from '../src/index.js';

describe('recordLines', () => {
  it('numbers lines from 1 counting blank ones, drops blank lines, a BOM and CR of CRLF endings', () => {
    expect(recordLines('\uFEFF{"a":1}\r\n\r\n  \n{"b":2}\n')).toEqual([
      { line: 1, text: '{"a":1}', last: false },
      { line: 4, text: '{"b":2}', last: false },
    ]);
  });

  it('marks a last line with no ending (a truncated file ends so)', () => {
    expect(recordLines('x\ny')).toEqual([
      { line: 1, text: 'x', last: false },
      { line: 2, text: 'y', last: true },
    ]);
    expect(recordLines('')).toEqual([]);
    expect(recordLines('\n\n')).toEqual([]);
  });

  it('keeps a line as written apart from its ending (spaces, a lone CR inside)', () => {
    expect(recordLines(' a \r b\r\n')).toEqual([{ line: 1, text: ' a \r b', last: false }]);
  });
});
