import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatHtml, contentSecurityPolicy, makeNonce } from '../../src/chat/html';
import { isFromWebview } from '../../src/chat/messages';

describe('chat webview HTML', () => {
  const assets = { cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x/webview.js', styleUri: 'https://x/chat.css', nonce: 'abc123' };

  it('has a strict CSP: nothing by default, scripts only with the nonce', () => {
    const csp = contentSecurityPolicy(assets.cspSource, assets.nonce);
    assert.match(csp, /^default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'/);
    assert.ok(!csp.includes('unsafe-inline'));
    assert.ok(!csp.includes('unsafe-eval'));
  });

  it('loads exactly one script, carrying the nonce', () => {
    const html = chatHtml(assets);
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.match(html, /<script nonce="abc123" src="https:\/\/x\/webview.js"><\/script>/);
    assert.ok(html.includes(`content="${contentSecurityPolicy(assets.cspSource, assets.nonce)}"`));
  });

  it('makes fresh alphanumeric nonces', () => {
    const a = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{16,}$/);
    assert.notEqual(a, makeNonce());
  });
});

describe('isFromWebview', () => {
  it('accepts the declared messages only', () => {
    assert.ok(isFromWebview({ type: 'ask', text: 'hi' }));
    assert.ok(isFromWebview({ type: 'insert', code: 'x' }));
    assert.ok(isFromWebview({ type: 'ready' }));
    assert.ok(!isFromWebview({ type: 'ask' }));
    assert.ok(!isFromWebview({ type: 'copy', code: 1 }));
    assert.ok(!isFromWebview({ type: 'eval', code: 'x' }));
    assert.ok(!isFromWebview(null));
    assert.ok(!isFromWebview('ask'));
  });
});
