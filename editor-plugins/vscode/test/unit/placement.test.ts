import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockEdit } from '../../src/chat/placement';

/** `lines` after applying the edit (a tiny model of a document). */
function apply(lines: string[], line: number, code: string): string[] {
  const edit = blockEdit(line, lines[line] ?? '', code);
  const text = lines.join('\n');
  const offset = (p: { line: number; character: number }): number =>
    lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return (text.slice(0, offset(edit.start)) + edit.text + text.slice(offset(edit.end))).split('\n');
}

describe('blockEdit', () => {
  const code = 'def mul(a, b):\n    return a * b';
  it('replaces a blank cursor line with the block', () => {
    assert.deepEqual(apply(['x = 1', '', 'y = 2'], 1, code), ['x = 1', 'def mul(a, b):', '    return a * b', 'y = 2']);
    assert.deepEqual(apply(['x = 1', '    ', 'y = 2'], 1, code), ['x = 1', 'def mul(a, b):', '    return a * b', 'y = 2']);
  });
  it('puts the block below a line with text, never inside it', () => {
    assert.deepEqual(apply(['x = 1', 'y = 2'], 0, code), ['x = 1', 'def mul(a, b):', '    return a * b', 'y = 2']);
    assert.deepEqual(apply(['x = 1'], 0, `${code}\n`), ['x = 1', 'def mul(a, b):', '    return a * b']);
  });
});
