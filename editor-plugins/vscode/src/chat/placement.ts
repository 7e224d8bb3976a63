/** Where a chat code block goes in the editor: on lines of its own. Pure: no `vscode` import. */

export interface BlockEdit {
  /** Replace [start, end) (line/character pairs, 0-based) with `text`. */
  start: { line: number; character: number };
  end: { line: number; character: number };
  text: string;
}

/**
 * The edit that puts `code` on its own lines at the cursor line `line` (its text `lineText`):
 * a blank line is replaced by the block, otherwise the block goes on new lines below it, so the
 * code never lands in the middle of a line. (A selection is replaced as it is, elsewhere.)
 */
export function blockEdit(line: number, lineText: string, code: string): BlockEdit {
  const block = code.replace(/\r?\n$/, '');
  if (lineText.trim() === '') {
    return { start: { line, character: 0 }, end: { line, character: lineText.length }, text: block };
  }
  const eol = { line, character: lineText.length };
  return { start: eol, end: eol, text: `\n${block}` };
}
