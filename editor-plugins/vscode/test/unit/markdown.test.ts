import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanLanguage, codeBlocks, escapeHtml, renderInline, renderMarkdown } from '../../src/chat/markdown';

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderMarkdown', () => {
  it('renders a fenced code block with its language and Insert/Copy buttons', () => {
    const html = renderMarkdown('Here:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.');
    assert.match(html, /^<p>Here:<\/p><div class="code-block" data-index="0">/);
    assert.match(html, /<span class="code-lang">python<\/span>/);
    assert.match(html, /data-action="insert"/);
    assert.match(html, /data-action="copy"/);
    assert.match(html, /<pre><code class="language-python">def add\(a, b\):\n {4}return a \+ b<\/code><\/pre>/);
    assert.match(html, /<p>Done\.<\/p>$/);
  });

  it('keeps code verbatim but escaped', () => {
    const html = renderMarkdown('```html\n<script>alert("x")</script> **not bold**\n```');
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; **not bold**'));
    assert.ok(!html.includes('<script>'));
    assert.ok(!html.includes('<strong>'));
  });

  it('never lets raw HTML through in text', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> and <b>bold</b>\n# <i>head</i>\n- <u>item</u>');
    assert.ok(!/<(img|b|i|u)[ >]/.test(html), html);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('sanitises the language tag, which becomes a class name', () => {
    const html = renderMarkdown('```"><script>x\ncode\n```');
    assert.ok(!html.includes('<script>'));
    assert.equal(cleanLanguage('C++'), 'c++');
    assert.equal(cleanLanguage('Py"thon<'), 'python');
  });

  it('renders an unterminated fence (a streaming answer) as an open code block', () => {
    const html = renderMarkdown('Try this:\n```js\nconst x = 1;\nconst y');
    assert.match(html, /<div class="code-block streaming" data-index="0">/);
    assert.ok(html.endsWith('const x = 1;\nconst y</code></pre></div>'));
  });

  it('numbers code blocks in order and lets a longer fence hold a shorter one', () => {
    const md = '````md\n```py\nx\n```\n````\ntext\n~~~\ny\n~~~';
    const blocks = codeBlocks(md);
    assert.deepEqual(blocks, [
      { language: 'md', code: '```py\nx\n```', closed: true },
      { language: '', code: 'y', closed: true },
    ]);
    assert.match(renderMarkdown(md), /data-index="1"><div class="code-toolbar"><span class="code-lang">code<\/span>/);
  });

  it('renders headings, lists and paragraphs', () => {
    const html = renderMarkdown('## Steps\n1. first\n2. second\n\n- a\n- b\n  continued\n\nline one\nline two');
    assert.equal(
      html,
      '<h3>Steps</h3><ol><li>first</li><li>second</li></ol><ul><li>a</li><li>b continued</li></ul><p>line one<br>line two</p>',
    );
  });

  it('handles CRLF and empty input', () => {
    assert.equal(renderMarkdown(''), '');
    assert.equal(renderMarkdown('a\r\nb'), '<p>a<br>b</p>');
  });
});

describe('renderInline', () => {
  it('renders code spans literally and bold elsewhere', () => {
    assert.equal(renderInline('use `a**b**<c>` or **this**'), 'use <code>a**b**&lt;c&gt;</code> or <strong>this</strong>');
  });

  it('supports double-backtick spans containing a backtick', () => {
    assert.equal(renderInline('``a ` b``'), '<code>a ` b</code>');
  });

  it('leaves unmatched markers as text', () => {
    assert.equal(renderInline('a ` b ** c'), 'a ` b ** c');
  });
});
