/** Messages between the extension and the chat webview, declared once for both sides. Pure. */

export type TurnRole = 'user' | 'assistant';

export interface Turn {
  id: string;
  role: TurnRole;
  /** Markdown (rendered escaped, see markdown.ts). */
  text: string;
  /** A short line shown under the turn (a selection command's target, timings, an error). */
  note?: string;
  state: 'streaming' | 'done' | 'error' | 'stopped';
}

/** extension -> webview */
export type ToWebview =
  | { type: 'reset'; turns: Turn[]; busy: boolean }
  | { type: 'turn'; turn: Turn }
  | { type: 'busy'; busy: boolean };

/** webview -> extension */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'ask'; text: string }
  | { type: 'stop' }
  | { type: 'clear' }
  | { type: 'insert'; code: string }
  | { type: 'copy'; code: string };

export function isFromWebview(value: unknown): value is FromWebview {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const msg = value as { type?: unknown; text?: unknown; code?: unknown };
  switch (msg.type) {
    case 'ready':
    case 'stop':
    case 'clear':
      return true;
    case 'ask':
      return typeof msg.text === 'string';
    case 'insert':
    case 'copy':
      return typeof msg.code === 'string';
    default:
      return false;
  }
}
