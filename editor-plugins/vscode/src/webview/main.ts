/** The chat webview: renders the transcript the extension sends and posts questions and code-block actions back. */
import { renderMarkdown } from '../chat/markdown';
import type { FromWebview, ToWebview, Turn } from '../chat/messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const transcript = document.getElementById('transcript') as HTMLElement;
const form = document.getElementById('ask') as HTMLFormElement;
const question = document.getElementById('question') as HTMLTextAreaElement;
const stop = document.getElementById('stop') as HTMLButtonElement;
const empty = document.getElementById('empty') as HTMLElement;

function turnElement(id: string): HTMLElement {
  const existing = document.getElementById(`turn-${id}`);
  if (existing) {
    return existing;
  }
  const el = document.createElement('section');
  el.id = `turn-${id}`;
  transcript.appendChild(el);
  return el;
}

function renderTurn(turn: Turn): void {
  const el = turnElement(turn.id);
  el.className = `turn ${turn.role} ${turn.state}`;
  el.dataset.state = turn.state;
  // How many times this turn was drawn: a streamed answer is drawn once per chunk (the e2e test reads it).
  el.dataset.updates = String(Number(el.dataset.updates ?? '0') + 1);
  // Both sides are Markdown: a question may carry a code block, which gets Insert/Copy too.
  const body = renderMarkdown(turn.text);
  const cursor = turn.state === 'streaming' ? '<span class="cursor" aria-hidden="true">▍</span>' : '';
  const note = turn.note ? `<div class="note">${escape(turn.note)}</div>` : '';
  // renderMarkdown escapes every piece of text it emits.
  el.innerHTML = `<div class="body">${body}${cursor}</div>${note}`;
  empty.hidden = true;
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  if (nearBottom || turn.role === 'user') {
    transcript.scrollTop = transcript.scrollHeight;
  }
}

function escape(text: string): string {
  const div = document.createElement('div');
  div.textContent = text;
  return div.innerHTML;
}

function setBusy(busy: boolean): void {
  stop.hidden = !busy;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'reset':
      transcript.querySelectorAll('.turn').forEach((el) => el.remove());
      empty.hidden = msg.turns.length > 0;
      msg.turns.forEach(renderTurn);
      setBusy(msg.busy);
      break;
    case 'turn':
      renderTurn(msg.turn);
      break;
    case 'busy':
      setBusy(msg.busy);
      break;
  }
});

function submit(): void {
  const text = question.value.trim();
  if (text === '') {
    return;
  }
  vscode.postMessage({ type: 'ask', text });
  question.value = '';
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});

question.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});

stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));

transcript.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button.code-action');
  const code = button?.closest('.code-block')?.querySelector('code')?.textContent;
  const action = button?.dataset.action;
  if (code === undefined || code === null || (action !== 'insert' && action !== 'copy')) {
    return;
  }
  vscode.postMessage({ type: action, code });
  if (button) {
    const label = button.textContent;
    button.textContent = action === 'copy' ? 'Copied' : 'Inserted';
    setTimeout(() => (button.textContent = label), 1200);
  }
});

vscode.postMessage({ type: 'ready' });
