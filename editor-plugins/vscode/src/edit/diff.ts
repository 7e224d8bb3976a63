/**
 * An edit proposal as a line diff of the document, and how it is drawn: the server's TextEdits
 * turned into hunks of removed and added lines, then into line decorations. Pure (no `vscode`):
 * positions are LSP's in UTF-16, which is what JavaScript strings index.
 */
import type { Range } from '../protocol';

export interface TextEditLike {
  range: Range;
  newText: string;
}

/** `removed` are the document's lines `line`…`line + removed.length - 1`; `added` replace them. */
export interface Hunk {
  line: number;
  removed: string[];
  added: string[];
}

/** Lines of `text` whatever its line endings (`\r\n`, `\n`, a lone `\r`). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function compare(a: TextEditLike, b: TextEditLike): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
}

/**
 * The hunks of `edits` (non-overlapping) over `lines` (the document's lines without their
 * ends), sorted by line. A line past the last is the empty text after the final line break.
 */
export function hunks(lines: readonly string[], edits: readonly TextEditLike[]): Hunk[] {
  const line = (n: number): string => lines[n] ?? '';
  const out: Hunk[] = [];
  for (const edit of [...edits].sort(compare)) {
    const { start, end } = edit.range;
    const old: string[] = [];
    for (let n = start.line; n <= end.line; n++) {
      old.push(line(n));
    }
    const now = splitLines(line(start.line).slice(0, start.character) + edit.newText + line(end.line).slice(end.character));
    // Lines alike at either end are context, not change.
    let first = 0;
    while (first < old.length && first < now.length && old[first] === now[first]) {
      first++;
    }
    let lastOld = old.length - 1;
    let lastNew = now.length - 1;
    while (lastOld >= first && lastNew >= first && old[lastOld] === now[lastNew]) {
      lastOld--;
      lastNew--;
    }
    const removed = old.slice(first, lastOld + 1);
    const added = now.slice(first, lastNew + 1);
    if (removed.length > 0 || added.length > 0) {
      out.push({ line: start.line + first, removed, added });
    }
  }
  return out;
}

/** `lines` with the hunks applied: the document after accepting, as lines. */
export function applyHunks(lines: readonly string[], list: readonly Hunk[]): string[] {
  const out: string[] = [];
  let next = 0;
  for (const h of list) {
    out.push(...lines.slice(next, h.line), ...h.added);
    next = h.line + h.removed.length;
  }
  out.push(...lines.slice(next));
  return out;
}

/** Offset of an LSP position in `text` (UTF-16), clamped to its line and to the text. */
export function offsetAt(text: string, position: { line: number; character: number }): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const m = /\r\n|\r|\n/g;
    m.lastIndex = offset;
    const found = m.exec(text);
    if (found === null) {
      return text.length;
    }
    offset = found.index + found[0].length;
  }
  const rest = /\r\n|\r|\n/g;
  rest.lastIndex = offset;
  const eol = rest.exec(text);
  const lineEnd = eol === null ? text.length : eol.index;
  return Math.min(offset + position.character, lineEnd);
}

/** `text` with `edits` (non-overlapping) applied: the proposed document, for a diff editor. */
export function applyEdits(text: string, edits: readonly TextEditLike[]): string {
  let out = text;
  for (const edit of [...edits].sort(compare).reverse()) {
    const start = offsetAt(out, edit.range.start);
    const end = offsetAt(out, edit.range.end);
    out = out.slice(0, start) + edit.newText + out.slice(end);
  }
  return out;
}

/** A line's text as a decoration shows it: spaces kept (no collapsing), tabs as `tabSize` spaces. */
export function shown(text: string, tabSize = 4): string {
  return text.replace(/\t/g, ' '.repeat(tabSize)).replace(/ /g, '\u00a0');
}

/** Where an added line's text is drawn: after the end of a line, or before the first line. */
export interface AddedDecoration {
  line: number;
  text: string;
  before: boolean;
}

export interface DiffDecorations {
  /** Lines drawn as removed (red, struck through). */
  removed: number[];
  /** Added lines, drawn green at the end of the line they replace (or the line before). */
  added: AddedDecoration[];
}

const JOIN = '  \u23ce  ';

/**
 * How the hunks are drawn without touching the document: each removed line red; the added
 * lines green, the i-th after the i-th removed line of its hunk (an old line and its new
 * version side by side), the ones beyond the removed lines joined with ⏎ after the hunk's
 * last line (or, for pure insertions, after the line before; before the first line at the top).
 */
export function decorations(list: readonly Hunk[], lineCount: number, tabSize = 4): DiffDecorations {
  const removed: number[] = [];
  const added: AddedDecoration[] = [];
  for (const h of list) {
    h.removed.forEach((_, i) => removed.push(h.line + i));
    const paired = Math.min(h.removed.length, h.added.length);
    for (let i = 0; i < paired; i++) {
      added.push({ line: h.line + i, text: shown(h.added[i] ?? '', tabSize), before: false });
    }
    const rest = h.added.slice(paired).map((t) => shown(t, tabSize));
    if (rest.length === 0) {
      continue;
    }
    if (h.removed.length > 0) {
      const last = added.find((a) => a.line === h.line + h.removed.length - 1 && !a.before);
      if (last !== undefined) {
        last.text = [last.text, ...rest].join(JOIN);
        continue;
      }
    }
    if (h.line > 0) {
      added.push({ line: Math.min(h.line, lineCount) - 1, text: rest.join(JOIN), before: false });
    } else {
      added.push({ line: 0, text: rest.join(JOIN), before: true });
    }
  }
  return { removed, added };
}

/** "+3 −2" for a status line or a CodeLens. */
export function summary(list: readonly Hunk[]): string {
  const plus = list.reduce((n, h) => n + h.added.length, 0);
  const minus = list.reduce((n, h) => n + h.removed.length, 0);
  return `+${plus} \u2212${minus}`;
}
