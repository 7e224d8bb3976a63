/** The chat: history, one request in flight, streamed chunks -> the webview, selection commands, insert/copy. */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node';
import type { TandemServer } from '../client';
import {
  Methods,
  ServerCommands,
  type ChatChunk,
  type ChatContext,
  type ChatMessage,
  type ChatParams,
  type ChatResult,
  type SelectionCommand,
  type SelectionCommandArgs,
} from '../protocol';
import type { FromWebview, ToWebview, Turn } from './messages';
import { blockEdit } from './placement';
import { ChatStream, newChatId } from './stream';

/** Older turns are dropped from what the server sees; it also trims the prompt to the model's window. */
const MAX_HISTORY = 16;
const SYNCED_SCHEMES = ['file', 'untitled'];

const VERBS: Record<SelectionCommand, string> = {
  [ServerCommands.explain]: 'Explain',
  [ServerCommands.fix]: 'Fix',
  [ServerCommands.document]: 'Document',
  [ServerCommands.writeTests]: 'Write tests for',
};

export interface ChatSink {
  post(message: ToWebview): void;
  reveal(): Promise<void>;
}

interface InFlight {
  chatId: string;
  stream: ChatStream;
  turn: Turn;
  cancel: vscode.CancellationTokenSource;
  /** What goes into the history when the answer is complete. */
  userMessage: ChatMessage;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

function isCancellation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof vscode.CancellationError || code === -32800;
}

function where(document: vscode.TextDocument, selection?: vscode.Selection): string {
  const name = vscode.workspace.asRelativePath(document.uri, false);
  if (selection === undefined || selection.isEmpty) {
    return name;
  }
  const first = selection.start.line + 1;
  const last = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line : selection.end.line + 1;
  return first === last ? `${name}:${first}` : `${name}:${first}-${last}`;
}

export class ChatController implements vscode.Disposable {
  private turns: Turn[] = [];
  private history: ChatMessage[] = [];
  private inFlight: InFlight | undefined;
  private sink: ChatSink | undefined;
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly server: TandemServer) {
    this.subscriptions.push(
      server.onChatChunk((chunk) => this.onChunk(chunk)),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor !== undefined) {
          this.lastEditor = editor;
        }
      }),
    );
  }

  attach(sink: ChatSink | undefined): void {
    this.sink = sink;
  }

  /** Messages from the webview. */
  async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.post({ type: 'reset', turns: this.turns, busy: this.inFlight !== undefined });
        return;
      case 'ask':
        await this.ask(message.text);
        return;
      case 'stop':
        this.stop();
        return;
      case 'clear':
        this.clear();
        return;
      case 'insert':
        await this.insert(message.code);
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(message.code);
        return;
    }
  }

  /** A question typed into the panel; the active editor's selection, if any, goes along as context. */
  async ask(question: string): Promise<ChatResult | undefined> {
    const editor = this.editor();
    let context: ChatContext | undefined;
    let note: string | undefined;
    const client = this.server.client;
    if (client && editor && !editor.selection.isEmpty && SYNCED_SCHEMES.includes(editor.document.uri.scheme)) {
      context = {
        uri: client.code2ProtocolConverter.asUri(editor.document.uri),
        range: client.code2ProtocolConverter.asRange(editor.selection),
      };
      note = `with the selection from ${where(editor.document, editor.selection)}`;
    }
    const userMessage: ChatMessage = { role: 'user', content: question };
    return this.run(question, note, userMessage, (c, chatId, token) => {
      const params: ChatParams = { messages: [...this.history.slice(-MAX_HISTORY), userMessage], chatId };
      if (context !== undefined) {
        params.context = context;
      }
      return c.sendRequest<ChatResult>(Methods.chat, params, token);
    });
  }

  /**
   * `tandem.explain` & co. on `target` (another extension's `{uri, range}`) or on the active
   * editor's selection (the whole file when nothing is selected), streamed into the panel.
   */
  async runSelectionCommand(command: SelectionCommand, target?: SelectionCommandArgs): Promise<ChatResult | undefined> {
    let args: SelectionCommandArgs;
    let label: string;
    let userContent: string;
    if (target !== undefined) {
      args = { ...target };
      label = `${VERBS[command]} ${target.uri}`;
      userContent = label;
    } else {
      const editor = vscode.window.activeTextEditor ?? this.editor();
      if (editor === undefined) {
        void vscode.window.showWarningMessage('Tandem: open a file and select some code first.');
        return undefined;
      }
      if (!SYNCED_SCHEMES.includes(editor.document.uri.scheme)) {
        void vscode.window.showWarningMessage(`Tandem works on files; this editor shows a ${editor.document.uri.scheme}: document.`);
        return undefined;
      }
      const client = this.server.client;
      if (client === undefined) {
        void vscode.window.showWarningMessage('Tandem: the language server is not running.');
        return undefined;
      }
      const selection = editor.selection;
      args = { uri: client.code2ProtocolConverter.asUri(editor.document.uri) };
      if (!selection.isEmpty) {
        args.range = client.code2ProtocolConverter.asRange(selection);
      }
      const code = editor.document.getText(selection.isEmpty ? undefined : selection);
      label = `${VERBS[command]} ${where(editor.document, selection)}`;
      userContent = `${VERBS[command]} this ${editor.document.languageId} code:\n\`\`\`${editor.document.languageId}\n${code}\n\`\`\``;
    }
    return this.run(label, undefined, { role: 'user', content: userContent }, (c, chatId, token) =>
      c.sendRequest(ExecuteCommandRequest.type, { command, arguments: [{ ...args, chatId }] }, token) as Promise<ChatResult>,
    );
  }

  private async run(
    shown: string,
    note: string | undefined,
    userMessage: ChatMessage,
    request: (client: LanguageClient, chatId: string, token: vscode.CancellationToken) => Promise<ChatResult>,
  ): Promise<ChatResult | undefined> {
    const client = this.server.client;
    if (client === undefined) {
      void vscode.window.showWarningMessage('Tandem: the language server is not running.', 'Show Log').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('tandem.showLog');
        }
      });
      return undefined;
    }
    this.stop();
    await this.sink?.reveal();
    const chatId = newChatId();
    const user: Turn = { id: `${chatId}-q`, role: 'user', text: shown, state: 'done', ...(note !== undefined ? { note } : {}) };
    const answer: Turn = { id: `${chatId}-a`, role: 'assistant', text: '', state: 'streaming' };
    this.turns.push(user, answer);
    this.update(user);
    this.update(answer);
    const flight: InFlight = { chatId, stream: new ChatStream(chatId), turn: answer, cancel: new vscode.CancellationTokenSource(), userMessage };
    this.inFlight = flight;
    this.post({ type: 'busy', busy: true });
    try {
      const result = await request(client, chatId, flight.cancel.token);
      answer.text = typeof result?.text === 'string' ? result.text : flight.stream.text;
      answer.state = 'done';
      const summary = this.summary(result);
      if (summary !== undefined) {
        answer.note = summary;
      }
      this.history.push(userMessage, { role: 'assistant', content: answer.text });
      return result;
    } catch (error) {
      answer.text = flight.stream.text;
      if (isCancellation(error) || flight.cancel.token.isCancellationRequested) {
        answer.state = 'stopped';
        answer.note = 'stopped';
      } else {
        answer.state = 'error';
        answer.note = errorMessage(error);
      }
      return undefined;
    } finally {
      flight.cancel.dispose();
      if (this.inFlight === flight) {
        this.inFlight = undefined;
        this.post({ type: 'busy', busy: false });
      }
      this.update(answer);
    }
  }

  private summary(result: ChatResult | undefined): string | undefined {
    if (result === undefined || result === null) {
      return undefined;
    }
    const parts = [`${result.generatedTokens} tokens`];
    const speed = result.timings?.tokens_per_s;
    if (typeof speed === 'number') {
      parts.push(`${speed.toFixed(0)} tok/s`);
    }
    if (result.finishReason === 'length') {
      parts.push('cut at the token limit');
    }
    return parts.join(' · ');
  }

  private onChunk(chunk: ChatChunk): void {
    const flight = this.inFlight;
    if (flight !== undefined && flight.stream.add(chunk)) {
      flight.turn.text = flight.stream.text;
      this.update(flight.turn);
    }
  }

  /** Cancels the answer in flight (the server stops the host's decoding too). */
  stop(): void {
    this.inFlight?.cancel.cancel();
  }

  clear(): void {
    this.stop();
    this.turns = [];
    this.history = [];
    this.post({ type: 'reset', turns: [], busy: false });
  }

  /**
   * Puts a code block into the editor the user last worked in, on lines of its own: it
   * replaces a selection, else a blank cursor line, else goes below the cursor line.
   */
  async insert(code: string): Promise<void> {
    const editor = this.editor();
    if (editor === undefined) {
      void vscode.window.showWarningMessage('Tandem: open an editor to insert the code into.');
      return;
    }
    const shown = await vscode.window.showTextDocument(editor.document, editor.viewColumn);
    const selection = shown.selection;
    let range: vscode.Range = selection;
    let text = code;
    if (selection.isEmpty) {
      const line = shown.document.lineAt(selection.active.line);
      const place = blockEdit(line.lineNumber, line.text, code);
      range = new vscode.Range(place.start.line, place.start.character, place.end.line, place.end.character);
      text = place.text;
    }
    const start = range.start;
    await shown.edit((edit) => edit.replace(range, text));
    // The cursor goes to the end of the block.
    const lines = text.split('\n');
    const last = lines[lines.length - 1] ?? '';
    const end = new vscode.Position(start.line + lines.length - 1, (lines.length === 1 ? start.character : 0) + last.length);
    shown.selection = new vscode.Selection(end, end);
  }

  private editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active !== undefined) {
      return active;
    }
    const last = this.lastEditor;
    return last !== undefined && vscode.window.visibleTextEditors.includes(last) ? last : undefined;
  }

  private update(turn: Turn): void {
    this.post({ type: 'turn', turn });
  }

  private post(message: ToWebview): void {
    this.sink?.post(message);
  }

  dispose(): void {
    this.stop();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
