import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, applyHunks, decorations, hunks, offsetAt, shown, splitLines, summary, type TextEditLike } from '../../src/edit/diff';

const pos = (line: number, character: number): { line: number; character: number } => ({ line, character });
const edit = (sl: number, sc: number, el: number, ec: number, newText: string): TextEditLike => ({
  range: { start: pos(sl, sc), end: pos(el, ec) },
  newText,
});

// def add(a, b):          0
//     return a + b        1
//                         2 (the text after the final newline)
const FILE = 'def add(a, b):\n    return a + b\n';
const LINES = ['def add(a, b):', '    return a + b', ''];

describe('hunks', () => {
  it('turns whole-line replacements into removed and added lines', () => {
    const edits = [edit(1, 0, 2, 0, '    if a is None or b is None:\n        raise ValueError("missing")\n    return a + b\n')];
    assert.deepEqual(hunks(LINES, edits), [
      { line: 1, removed: [], added: ['    if a is None or b is None:', '        raise ValueError("missing")'] },
    ]);
  });

  it('keeps a changed line as one removed and one added line', () => {
    assert.deepEqual(hunks(LINES, [edit(1, 0, 2, 0, '    return b + a\n')]), [
      { line: 1, removed: ['    return a + b'], added: ['    return b + a'] },
    ]);
  });

  it('handles edits inside a line, several edits, and any order', () => {
    const lines = ['one', 'two', 'three', 'four'];
    const edits = [edit(3, 0, 3, 4, 'FOUR'), edit(0, 1, 0, 2, 'N')];
    assert.deepEqual(hunks(lines, edits), [
      { line: 0, removed: ['one'], added: ['oNe'] },
      { line: 3, removed: ['four'], added: ['FOUR'] },
    ]);
    assert.deepEqual(applyHunks(lines, hunks(lines, edits)), ['oNe', 'two', 'three', 'FOUR']);
  });

  it('handles pure deletions and insertions at the top and at the end of the file', () => {
    assert.deepEqual(hunks(LINES, [edit(0, 0, 1, 0, '')]), [{ line: 0, removed: ['def add(a, b):'], added: [] }]);
    assert.deepEqual(hunks(LINES, [edit(0, 0, 0, 0, '# add\n')]), [{ line: 0, removed: [], added: ['# add'] }]);
    assert.deepEqual(hunks(LINES, [edit(2, 0, 2, 0, 'print(add(1, 2))\n')]), [{ line: 2, removed: [], added: ['print(add(1, 2))'] }]);
    // A last line without a line break, replaced up to its end.
    const noEol = ['x = 1', 'y = 2'];
    assert.deepEqual(hunks(noEol, [edit(1, 0, 1, 5, 'y = 3\nz = 4')]), [{ line: 1, removed: ['y = 2'], added: ['y = 3', 'z = 4'] }]);
  });

  it('reads CRLF text and multi-byte characters (UTF-16 positions)', () => {
    const lines = ['s = "h\u00e9llo \ud83d\ude00"', 'print(s)'];
    // The emoji is two UTF-16 code units: the string runs from character 4 to 14.
    const list = hunks(lines, [edit(0, 4, 0, 14, '"bye"'), edit(1, 0, 2, 0, 'print(s)\r\nprint(len(s))\r\n')]);
    assert.deepEqual(list, [
      { line: 0, removed: ['s = "h\u00e9llo \ud83d\ude00"'], added: ['s = "bye"'] },
      { line: 2, removed: [], added: ['print(len(s))'] },
    ]);
  });

  it('finds nothing for an unchanged proposal', () => {
    assert.deepEqual(hunks(LINES, []), []);
    assert.deepEqual(hunks(LINES, [edit(0, 0, 2, 0, FILE)]), []);
  });
});

describe('applyEdits', () => {
  it('gives the text the edits make, and the hunks say the same', () => {
    const edits = [edit(1, 4, 1, 16, 'return b + a'), edit(0, 0, 0, 0, '# sum\n')];
    const after = applyEdits(FILE, edits);
    assert.equal(after, '# sum\ndef add(a, b):\n    return b + a\n');
    assert.deepEqual(applyHunks(LINES, hunks(LINES, edits)), splitLines(after));
  });

  it('keeps CRLF line ends and clamps positions to their line', () => {
    const crlf = 'a\r\nb\r\n';
    assert.equal(offsetAt(crlf, pos(1, 0)), 3);
    assert.equal(offsetAt(crlf, pos(0, 99)), 1);
    assert.equal(offsetAt(crlf, pos(9, 0)), crlf.length);
    assert.equal(applyEdits(crlf, [edit(1, 0, 2, 0, 'c\r\n')]), 'a\r\nc\r\n');
  });
});

describe('decorations', () => {
  it('draws removed lines red and each added line after the line it replaces', () => {
    const list = [{ line: 1, removed: ['    return a + b'], added: ['    return b + a'] }];
    assert.deepEqual(decorations(list, 3), {
      removed: [1],
      added: [{ line: 1, text: shown('    return b + a'), before: false }],
    });
  });

  it('joins added lines beyond the removed ones after the last removed line', () => {
    const list = [{ line: 0, removed: ['x'], added: ['y', 'z'] }];
    assert.deepEqual(decorations(list, 2).added, [{ line: 0, text: 'y  \u23ce  z', before: false }]);
  });

  it('puts insertions after the line before, or before the first line', () => {
    assert.deepEqual(decorations([{ line: 2, removed: [], added: ['a', 'b'] }], 3), {
      removed: [],
      added: [{ line: 1, text: 'a  \u23ce  b', before: false }],
    });
    assert.deepEqual(decorations([{ line: 0, removed: [], added: ['# top'] }], 3).added, [
      { line: 0, text: shown('# top'), before: true },
    ]);
  });

  it('keeps indentation visible: spaces are not collapsed, tabs take tabSize', () => {
    assert.equal(shown('\tx  y', 2), '\u00a0\u00a0x\u00a0\u00a0y');
  });

  it('summarises the proposal', () => {
    assert.equal(summary([{ line: 0, removed: ['a'], added: ['b', 'c'] }]), '+2 \u22121');
  });
});
