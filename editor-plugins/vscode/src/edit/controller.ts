/**
 * Edit by instruction: `tandem/edit` for the selection, the proposal drawn as an inline diff
 * (decorations) with Accept / Reject CodeLenses and Tab / Esc, accepted as one WorkspaceEdit.
 * One edit at a time; a change to its document drops it (and cancels it while it runs).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { TandemServer } from '../client';
import { newChatId } from '../chat/stream';
import { EditErrorCodes, Methods, type EditCommandArgs, type EditParams, type EditResult } from '../protocol';
import { applyEdits, decorations, hunks, splitLines, summary, type Hunk } from './diff';

/** Context keys: a proposal is shown in the active editor; an edit of its document is running. */
export const PENDING_KEY = 'tandem.editPending';
export const RUNNING_KEY = 'tandem.editRunning';
/** The proposed document, for "Show Diff" (vscode.diff against the real one). */
const PROPOSAL_SCHEME = 'tandem-edit';
const MAX_INSTRUCTION = 2000;

interface Running {
  kind: 'running';
  editId: string;
  document: vscode.TextDocument;
  version: number;
  range: vscode.Range;
  where: string;
  cancel: vscode.CancellationTokenSource;
  chars: number;
}

interface Pending {
  kind: 'pending';
  editId: string;
  document: vscode.TextDocument;
  version: number;
  where: string;
  result: EditResult;
  hunks: Hunk[];
  edits: vscode.TextEdit[];
  proposed: string;
}

type EditState = Running | Pending;

/** "main.py:3-7" for the lines of `range`. */
export function where(document: vscode.TextDocument, range: vscode.Range): string {
  const name = vscode.workspace.asRelativePath(document.uri, false);
  const first = range.start.line + 1;
  const last = range.end.character === 0 && range.end.line > range.start.line ? range.end.line : range.end.line + 1;
  return first === last ? `${name}:${first}` : `${name}:${first}-${last}`;
}

function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function validateInstruction(value: string): string | undefined {
  if (value.trim() === '') {
    return 'Say what to change, e.g. "add error handling"';
  }
  return value.length > MAX_INSTRUCTION ? `At most ${MAX_INSTRUCTION} characters (this is ${value.length})` : undefined;
}

/** What the user hears when an edit fails; undefined for a cancelled one (nothing to say). */
export function editFailure(error: unknown): { message: string; warning: boolean } | undefined {
  const code = errorCode(error);
  if (code === EditErrorCodes.requestCancelled || error instanceof vscode.CancellationError) {
    return undefined;
  }
  const text = errorMessage(error);
  if (code === EditErrorCodes.contentModified) {
    return { message: 'Tandem: the document changed while the edit ran; run Tandem: Edit Selection again.', warning: true };
  }
  if (code === EditErrorCodes.cannotChat) {
    return { message: text.startsWith('Tandem') ? text : `Tandem: ${text}`, warning: false };
  }
  if (code === EditErrorCodes.invalidParams) {
    return { message: `Tandem: cannot edit: ${text}`, warning: false };
  }
  return { message: `Tandem: the edit failed: ${text}`, warning: false };
}

function tell(failure: { message: string; warning: boolean } | undefined): void {
  if (failure !== undefined) {
    void (failure.warning ? vscode.window.showWarningMessage(failure.message) : vscode.window.showErrorMessage(failure.message));
  }
}

export class EditController implements vscode.Disposable, vscode.CodeLensProvider, vscode.TextDocumentContentProvider {
  private state: EditState | undefined;
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  private readonly proposalEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly stateEmitter = new vscode.EventEmitter<'running' | 'pending' | 'accepted' | 'rejected' | 'dropped' | 'failed' | 'unchanged'>();
  private readonly removedType = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    textDecoration: 'line-through',
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly addedType = vscode.window.createTextEditorDecorationType({
    after: {
      color: new vscode.ThemeColor('editor.foreground'),
      backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
      margin: '0 0 0 2ch',
    },
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly addedAboveType = vscode.window.createTextEditorDecorationType({
    before: {
      color: new vscode.ThemeColor('editor.foreground'),
      backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
      margin: '0 2ch 0 0',
    },
  });
  private readonly subscriptions: vscode.Disposable[];

  /** The CodeLenses change (a proposal came or went). */
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  /** The proposed text of a document changed (the "Show Diff" view). */
  readonly onDidChange = this.proposalEmitter.event;
  /** What happened to the edit (for tests and the status bar). */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(private readonly server: TandemServer) {
    this.subscriptions = [
      server.onEditChunk((chunk) => {
        if (this.state?.kind === 'running' && chunk.editId === this.state.editId && typeof chunk.text === 'string') {
          this.state.chars += chunk.text.length;
        }
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.state !== undefined && event.document === this.state.document && event.contentChanges.length > 0) {
          this.drop('the document changed');
        }
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (this.state !== undefined && document === this.state.document) {
          this.drop('the document was closed');
        }
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.draw()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContext()),
      server.onDidChangeState((state) => {
        if (state !== 'running' && this.state !== undefined) {
          this.drop('the language server stopped');
        }
      }),
      vscode.languages.registerCodeLensProvider([{ scheme: 'file' }, { scheme: 'untitled' }], this),
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this),
      vscode.commands.registerCommand('tandem.editSelection', () => this.editSelection()),
      vscode.commands.registerCommand('tandem.acceptEdit', () => this.accept()),
      vscode.commands.registerCommand('tandem.rejectEdit', () => this.reject()),
      vscode.commands.registerCommand('tandem.showEditDiff', () => this.showDiff()),
    ];
  }

  /** The edit in progress or pending: for tests. */
  get current(): { kind: 'running' | 'pending'; uri: string; hunks?: Hunk[] } | undefined {
    const s = this.state;
    return s && { kind: s.kind, uri: s.document.uri.toString(), ...(s.kind === 'pending' ? { hunks: s.hunks } : {}) };
  }

  /** "Tandem: Edit Selection": asks for the instruction, then edits the selection (or the cursor line). */
  async editSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      void vscode.window.showWarningMessage('Tandem: open a file and select the code to edit.');
      return;
    }
    const selection = editor.selection;
    const range = selection.isEmpty ? editor.document.lineAt(selection.active.line).range : new vscode.Range(selection.start, selection.end);
    const instruction = await this.askInstruction(editor.document, range);
    if (instruction !== undefined) {
      await this.run(editor.document, range, instruction);
    }
  }

  /**
   * The `tandem.edit` command of a code action: with an instruction or a preset the server runs
   * and applies it (`forward`); "Tandem: Edit…" has neither, so the user is asked and the edit
   * is proposed here as Edit Selection's is.
   */
  async codeAction(arg: EditCommandArgs | undefined, forward: () => Promise<unknown>): Promise<unknown> {
    const client = this.server.client;
    if (arg === undefined || client === undefined || (arg.instruction ?? '').trim() !== '' || arg.preset !== undefined) {
      try {
        return await forward();
      } catch (error) {
        tell(editFailure(error));
        return undefined;
      }
    }
    const document = await vscode.workspace.openTextDocument(client.protocol2CodeConverter.asUri(arg.uri));
    const range = client.protocol2CodeConverter.asRange(arg.range);
    const instruction = await this.askInstruction(document, range);
    if (instruction !== undefined) {
      await this.run(document, range, instruction);
    }
    return undefined;
  }

  private async askInstruction(document: vscode.TextDocument, range: vscode.Range): Promise<string | undefined> {
    const instruction = await vscode.window.showInputBox({
      title: `Tandem: Edit ${where(document, range)}`,
      prompt: 'What should change? The proposal is shown as a diff to accept (Tab) or reject (Esc).',
      placeHolder: 'e.g. add error handling',
      ignoreFocusOut: true,
      validateInput: validateInstruction,
    });
    return instruction === undefined || instruction.trim() === '' ? undefined : instruction.trim();
  }

  /** Asks the server to rewrite `range` of `document` by `instruction`; the answer becomes the proposal. */
  async run(document: vscode.TextDocument, range: vscode.Range, instruction: string): Promise<void> {
    const client = this.server.client;
    if (client === undefined) {
      void vscode.window.showErrorMessage('Tandem: the language server is not running (Tandem: Show Log says why).');
      return;
    }
    this.clear();
    const running: Running = {
      kind: 'running',
      editId: newChatId('edit'),
      document,
      version: document.version,
      range,
      where: where(document, range),
      cancel: new vscode.CancellationTokenSource(),
      chars: 0,
    };
    this.setState(running, 'running');
    const params: EditParams = {
      textDocument: { uri: client.code2ProtocolConverter.asUri(document.uri) },
      range: client.code2ProtocolConverter.asRange(range),
      instruction,
      version: document.version,
      editId: running.editId,
      stream: true,
    };
    let result: EditResult | undefined;
    let failure: unknown;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tandem: editing ${running.where}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => running.cancel.cancel());
        const timer = setInterval(() => {
          if (running.chars > 0) {
            progress.report({ message: `${running.chars} characters` });
          }
        }, 250);
        try {
          result = await client.sendRequest<EditResult>(Methods.edit, params, running.cancel.token);
        } catch (error) {
          failure = error;
        } finally {
          clearInterval(timer);
        }
      },
    );
    if (this.state !== running) {
      return; // dropped or replaced meanwhile
    }
    if (result === undefined) {
      this.clear();
      const told = editFailure(failure ?? new Error('no answer'));
      tell(told);
      this.stateEmitter.fire(told === undefined ? 'rejected' : 'failed');
      return;
    }
    await this.propose(client, running, result);
  }

  private async propose(client: LanguageClient, running: Running, result: EditResult): Promise<void> {
    const document = running.document;
    if (document.version !== running.version) {
      this.drop('the document changed');
      return;
    }
    const lines = Array.from({ length: document.lineCount }, (_, i) => document.lineAt(i).text);
    const list = hunks(lines, result.edits);
    if (list.length === 0) {
      this.clear();
      void vscode.window.showInformationMessage(`Tandem: no change proposed for ${running.where}.`);
      this.stateEmitter.fire('unchanged');
      return;
    }
    const edits = await client.protocol2CodeConverter.asTextEdits(result.edits);
    if (this.state !== running || document.version !== running.version) {
      return;
    }
    const pending: Pending = {
      kind: 'pending',
      editId: running.editId,
      document,
      version: running.version,
      where: running.where,
      result,
      hunks: list,
      edits,
      proposed: applyEdits(document.getText(), result.edits),
    };
    this.setState(pending, 'pending');
    void vscode.window.setStatusBarMessage(`Tandem: ${pending.where} ${summary(list)}: Tab accepts, Esc rejects`, 5000);
  }

  /** Applies the pending proposal as one WorkspaceEdit (one undo step). */
  async accept(): Promise<boolean> {
    const pending = this.state;
    if (pending?.kind !== 'pending') {
      return false;
    }
    if (pending.document.version !== pending.version) {
      this.drop('the document changed');
      return false;
    }
    this.clear();
    const edit = new vscode.WorkspaceEdit();
    edit.set(pending.document.uri, pending.edits);
    const applied = await vscode.workspace.applyEdit(edit);
    if (!applied) {
      void vscode.window.showErrorMessage('Tandem: the edit could not be applied (the document may be read-only).');
      this.stateEmitter.fire('failed');
      return false;
    }
    this.stateEmitter.fire('accepted');
    return true;
  }

  /** Drops the proposal, or stops the edit still running (cancelled on the server and the model host). */
  reject(): boolean {
    if (this.state === undefined) {
      return false;
    }
    this.clear();
    this.stateEmitter.fire('rejected');
    return true;
  }

  /** The proposal side by side with the document, in a diff editor. */
  async showDiff(): Promise<void> {
    const pending = this.state;
    if (pending?.kind !== 'pending') {
      return;
    }
    const uri = this.proposalUri(pending);
    await vscode.commands.executeCommand('vscode.diff', pending.document.uri, uri, `${pending.where} ↔ Tandem's proposal`, {
      preview: true,
      preserveFocus: false,
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const pending = this.state;
    return pending?.kind === 'pending' && uri.toString() === this.proposalUri(pending).toString() ? pending.proposed : '';
  }

  private proposalUri(pending: Pending): vscode.Uri {
    return vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: pending.document.uri.path, query: pending.editId });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const s = this.state;
    if (s === undefined || s.document !== document) {
      return [];
    }
    if (s.kind === 'running') {
      const at = new vscode.Range(s.range.start.line, 0, s.range.start.line, 0);
      return [
        new vscode.CodeLens(at, { title: '$(sync~spin) Tandem: editing…', command: '' }),
        new vscode.CodeLens(at, { title: 'Stop (Esc)', command: 'tandem.rejectEdit' }),
      ];
    }
    // Above the rewritten lines (the selection widened), where the diff starts or before.
    const first = Math.min(s.result.range.start.line, s.hunks[0]?.line ?? 0, document.lineCount - 1);
    const at = new vscode.Range(first, 0, first, 0);
    return [
      new vscode.CodeLens(at, { title: `$(check) Accept (Tab)`, command: 'tandem.acceptEdit', tooltip: 'Apply the proposal (one undo step)' }),
      new vscode.CodeLens(at, { title: `$(close) Reject (Esc)`, command: 'tandem.rejectEdit' }),
      new vscode.CodeLens(at, { title: `$(diff) Show Diff ${summary(s.hunks)}`, command: 'tandem.showEditDiff' }),
    ];
  }

  /** Drops the edit because its document changed (or went away), saying so. */
  private drop(why: string): void {
    const s = this.state;
    if (s === undefined) {
      return;
    }
    this.clear();
    void vscode.window.setStatusBarMessage(`Tandem: ${s.kind === 'running' ? 'edit stopped' : 'edit proposal dropped'}: ${why}`, 5000);
    this.stateEmitter.fire('dropped');
  }

  /** Forgets the edit: cancels it while it runs, takes the diff off the editors. */
  private clear(): void {
    const s = this.state;
    if (s === undefined) {
      return;
    }
    this.state = undefined;
    if (s.kind === 'running') {
      s.cancel.cancel();
      s.cancel.dispose();
    } else {
      this.proposalEmitter.fire(this.proposalUri(s));
    }
    this.draw();
    this.updateContext();
    this.lensEmitter.fire();
  }

  private setState(state: EditState, event: 'running' | 'pending'): void {
    this.state = state;
    this.draw();
    this.updateContext();
    this.lensEmitter.fire();
    this.stateEmitter.fire(event);
  }

  private draw(): void {
    const pending = this.state?.kind === 'pending' ? this.state : undefined;
    for (const editor of vscode.window.visibleTextEditors) {
      if (pending === undefined || editor.document !== pending.document) {
        editor.setDecorations(this.removedType, []);
        editor.setDecorations(this.addedType, []);
        editor.setDecorations(this.addedAboveType, []);
        continue;
      }
      const tabSize = typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 4;
      const model = decorations(pending.hunks, pending.document.lineCount, tabSize);
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown(`**Tandem's proposal** ${summary(pending.hunks)} — Tab accepts, Esc rejects\n\n`);
      hover.appendCodeblock(splitLines(pending.result.newText).join('\n'), pending.document.languageId);
      editor.setDecorations(
        this.removedType,
        model.removed.map((line) => ({ range: pending.document.lineAt(line).range, hoverMessage: hover })),
      );
      const added = (before: boolean): vscode.DecorationOptions[] =>
        model.added
          .filter((a) => a.before === before)
          .map((a) => {
            const line = pending.document.lineAt(Math.min(a.line, pending.document.lineCount - 1));
            const at = before ? line.range.start : line.range.end;
            const text = { contentText: a.text };
            return { range: new vscode.Range(at, at), hoverMessage: hover, renderOptions: before ? { before: text } : { after: text } };
          });
      editor.setDecorations(this.addedType, added(false));
      editor.setDecorations(this.addedAboveType, added(true));
    }
  }

  private updateContext(): void {
    const s = this.state;
    const active = vscode.window.activeTextEditor?.document;
    const here = s !== undefined && active === s.document;
    void vscode.commands.executeCommand('setContext', PENDING_KEY, here && s.kind === 'pending');
    void vscode.commands.executeCommand('setContext', RUNNING_KEY, here && s.kind === 'running');
  }

  dispose(): void {
    this.clear();
    for (const d of this.subscriptions) {
      d.dispose();
    }
    this.removedType.dispose();
    this.addedType.dispose();
    this.addedAboveType.dispose();
    this.lensEmitter.dispose();
    this.proposalEmitter.dispose();
    this.stateEmitter.dispose();
  }
}
