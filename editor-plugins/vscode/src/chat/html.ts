/** The chat webview's HTML shell with a strict Content-Security-Policy and a per-load nonce. Pure. */
import { randomBytes } from 'node:crypto';

export interface WebviewAssets {
  /** `webview.cspSource` */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function chatHtml(assets: WebviewAssets): string {
  const csp = contentSecurityPolicy(assets.cspSource, assets.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(assets.styleUri)}">
<title>Tandem Chat</title>
</head>
<body>
<main id="transcript" aria-live="polite"><p class="empty" id="empty">Ask about your code, or select code and run <em>Tandem: Explain Selection</em>.</p></main>
<form id="ask">
<textarea id="question" rows="3" placeholder="Ask Tandem… (Enter to send, Shift+Enter for a new line)" aria-label="Question"></textarea>
<div class="actions"><button type="button" id="stop" class="secondary" hidden>Stop</button><button type="submit" id="send">Send</button></div>
</form>
<script nonce="${attr(assets.nonce)}" src="${attr(assets.scriptUri)}"></script>
</body>
</html>`;
}
