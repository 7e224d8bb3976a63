/**
 * A small, safe Markdown subset for chat answers: fenced code blocks (with Insert/Copy
 * buttons), headings, lists, paragraphs, `code` and **bold**. Every piece of text is
 * HTML-escaped; no raw HTML, links or images pass through. Pure: runs in the webview and in tests.
 */

export interface CodeBlock {
  language: string;
  code: string;
  /** False while an answer is still streaming inside this block. */
  closed: boolean;
}

type Block =
  | { kind: 'code'; block: CodeBlock }
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'list'; ordered: boolean; items: string[] }
  | { kind: 'paragraph'; lines: string[] };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}\d{1,9}[.)]\s+(.*)$/;

/** Only letters, digits and a few safe marks survive in a language tag (it becomes a class name). */
export function cleanLanguage(tag: string): string {
  return tag.toLowerCase().replace(/[^a-z0-9_+#.-]/g, '').slice(0, 32);
}

function isFenceClose(line: string, fence: string): boolean {
  const trimmed = line.trim();
  const char = fence.charAt(0);
  return trimmed.length >= fence.length && [...trimmed].every((c) => c === char) && line.search(/\S/) <= 3;
}

/** The answer split into blocks; an unterminated fence (a streaming answer) runs to the end. */
function parseBlocks(markdown: string): Block[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | undefined;

  const flush = (): void => {
    if (paragraph.length > 0) {
      blocks.push({ kind: 'paragraph', lines: paragraph });
      paragraph = [];
    }
    if (list !== undefined) {
      blocks.push({ kind: 'list', ...list });
      list = undefined;
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const open = FENCE_OPEN.exec(line);
    if (open) {
      flush();
      const fence = open[1] ?? '```';
      const body: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        const inner = lines[i] ?? '';
        if (isFenceClose(inner, fence)) {
          closed = true;
          break;
        }
        body.push(inner);
      }
      blocks.push({ kind: 'code', block: { language: cleanLanguage(open[2] ?? ''), code: body.join('\n'), closed } });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: 'heading', level: (heading[1] ?? '#').length, text: heading[2] ?? '' });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      const ordered = numbered !== null;
      if (paragraph.length > 0 || (list !== undefined && list.ordered !== ordered)) {
        flush();
      }
      list ??= { ordered, items: [] };
      list.items.push(item[1] ?? '');
      continue;
    }
    if (list !== undefined && /^\s+\S/.test(line)) {
      // An indented line continues the last list item.
      const last = list.items.length - 1;
      list.items[last] = `${list.items[last] ?? ''} ${line.trim()}`;
      continue;
    }
    if (list !== undefined) {
      flush();
    }
    paragraph.push(line);
  }
  flush();
  return blocks;
}

/** Inline markup: `code` spans first (their content is literal), then **bold** in the rest. */
export function renderInline(text: string): string {
  const out: string[] = [];
  const span = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  let last = 0;
  for (let m = span.exec(text); m !== null; m = span.exec(text)) {
    out.push(renderEmphasis(text.slice(last, m.index)));
    out.push(`<code>${escapeHtml((m[2] ?? '').trim())}</code>`);
    last = m.index + m[0].length;
  }
  out.push(renderEmphasis(text.slice(last)));
  return out.join('');
}

function renderEmphasis(text: string): string {
  return escapeHtml(text).replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>');
}

export function renderCodeBlock(block: CodeBlock, index: number): string {
  const lang = block.language;
  const label = lang === '' ? 'code' : lang;
  const cls = lang === '' ? '' : ` class="language-${lang}"`;
  const state = block.closed ? '' : ' streaming';
  return (
    `<div class="code-block${state}" data-index="${index}">` +
    `<div class="code-toolbar"><span class="code-lang">${escapeHtml(label)}</span>` +
    `<button type="button" class="code-action" data-action="insert" title="Insert at the cursor in the editor">Insert</button>` +
    `<button type="button" class="code-action" data-action="copy" title="Copy to the clipboard">Copy</button></div>` +
    `<pre><code${cls}>${escapeHtml(block.code)}</code></pre></div>`
  );
}

/** HTML for a (possibly still streaming) chat answer. */
export function renderMarkdown(markdown: string): string {
  let codeIndex = 0;
  return parseBlocks(markdown)
    .map((block) => {
      switch (block.kind) {
        case 'code':
          return renderCodeBlock(block.block, codeIndex++);
        case 'heading': {
          // Chat headings stay small: h1-h2 -> h3, the rest -> h4.
          const tag = block.level <= 2 ? 'h3' : 'h4';
          return `<${tag}>${renderInline(block.text)}</${tag}>`;
        }
        case 'list': {
          const tag = block.ordered ? 'ol' : 'ul';
          return `<${tag}>${block.items.map((item) => `<li>${renderInline(item)}</li>`).join('')}</${tag}>`;
        }
        case 'paragraph':
          return `<p>${block.lines.map(renderInline).join('<br>')}</p>`;
      }
      return '';
    })
    .join('');
}

/** The code blocks of an answer, in order (what the Insert/Copy buttons act on). */
export function codeBlocks(markdown: string): CodeBlock[] {
  return parseBlocks(markdown).flatMap((b) => (b.kind === 'code' ? [b.block] : []));
}
