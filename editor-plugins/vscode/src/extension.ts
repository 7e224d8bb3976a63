/** Extension entry point: wires the language server, the chat view, the status bar and the commands. */
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { ChatController } from './chat/controller';
import { CHAT_VIEW_ID, ChatViewProvider } from './chat/view';
import { TandemServer } from './client';
import { EditController } from './edit/controller';
import { disabledBy } from './fileFilter';
import { isSelectionCommand, ServerCommands, type EditCommandArgs, type SelectionCommandArgs } from './protocol';
import { PythonEnvironment, WALKTHROUGH } from './pythonSetup';
import { RESTART_KEYS, SECTION } from './settings';
import { StatusBar } from './statusBar';
import { StatusDocument } from './statusView';
import { CompletionToggle, completionsEnabled } from './toggle';

const WALKTHROUGH_SHOWN = 'tandem.walkthroughShown';

let server: TandemServer | undefined;

/** A `{uri, range?}` argument from another extension; VS Code's own (a menu's Uri, nothing) means "the active editor". */
function selectionTarget(arg: unknown): SelectionCommandArgs | undefined {
  if (typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && typeof (arg as { uri?: unknown }).uri === 'string') {
    return arg as SelectionCommandArgs;
  }
  return undefined;
}

/** The `tandem.completion.disableInFiles` glob that matches `document`, if any. */
function disabledGlob(document: vscode.TextDocument): string | undefined {
  const globs = vscode.workspace.getConfiguration(SECTION, document.uri).get<unknown[]>('completion.disableInFiles', []);
  if (!Array.isArray(globs) || globs.length === 0) {
    return undefined;
  }
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const relative = folder !== undefined ? vscode.workspace.asRelativePath(document.uri, false) : undefined;
  return disabledBy(globs, { absolute: document.uri.fsPath || document.uri.path, ...(relative !== undefined ? { relative } : {}) });
}

async function startServer(tandem: TandemServer, context: vscode.ExtensionContext, python: PythonEnvironment): Promise<void> {
  try {
    await tandem.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const found = python.current !== undefined;
    const choice = await vscode.window.showErrorMessage(
      found
        ? `Tandem could not start its language server with ${python.current?.path ?? ''} (${message}).`
        : `Tandem needs a Python environment with Tandem installed, and found none (${message}).`,
      'Set Up Python Environment',
      'Show Log',
    );
    if (choice === 'Set Up Python Environment') {
      await vscode.commands.executeCommand('tandem.setupPython');
    } else if (choice === 'Show Log') {
      await vscode.commands.executeCommand('tandem.showLog');
    }
    // A first run without an environment: the walkthrough explains the steps (once).
    if (!found && context.globalState.get(WALKTHROUGH_SHOWN) !== true) {
      await context.globalState.update(WALKTHROUGH_SHOWN, true);
      await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false);
    }
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Tandem', { log: true });
  const python = new PythonEnvironment(context.globalStorageUri, output);
  const middleware: Middleware = {
    // The client registers the server's commands as VS Code commands; the selection ones
    // run on the active editor's selection and stream into the chat view.
    executeCommand: async (command, args, next): Promise<unknown> => {
      if (isSelectionCommand(command)) {
        return controller.runSelectionCommand(command, selectionTarget(args[0]));
      }
      // The code actions' edit: "Tandem: Edit…" asks for its instruction here first.
      if (command === ServerCommands.edit) {
        return edits.codeAction(args[0] as EditCommandArgs | undefined, () => Promise.resolve(next(command, args)));
      }
      return next(command, args);
    },
    // Ghost text off (the status-bar switch) or for this file (disableInFiles): not even asked for.
    provideInlineCompletionItems: (document, position, ctx, token, next) => {
      if (!completionsEnabled()) {
        return null;
      }
      const glob = disabledGlob(document);
      if (glob !== undefined) {
        output.debug(`no ghost text in ${vscode.workspace.asRelativePath(document.uri)}: tandem.completion.disableInFiles has ${glob}`);
        return null;
      }
      return next(document, position, ctx, token);
    },
  };
  const tandem = new TandemServer(output, middleware, () => python.resolve());
  server = tandem;
  const controller = new ChatController(tandem);
  const edits = new EditController(tandem);
  const view = new ChatViewProvider(context.extensionUri, controller);
  const statusDocument = new StatusDocument();
  const statusBar = new StatusBar(tandem, statusDocument, python);
  const toggle = new CompletionToggle();
  const start = (): Promise<void> => startServer(tandem, context, python);

  context.subscriptions.push(
    output,
    tandem,
    controller,
    edits,
    statusDocument,
    statusBar,
    toggle,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.commands.registerCommand('tandem.restartServer', start),
    vscode.commands.registerCommand('tandem.showStatus', () => statusBar.show()),
    vscode.commands.registerCommand('tandem.statusMenu', () => statusBar.menu()),
    vscode.commands.registerCommand('tandem.toggleCompletions', () => toggle.toggle()),
    vscode.commands.registerCommand('tandem.setupPython', () => python.setUp()),
    vscode.commands.registerCommand('tandem.chooseModel', () => chooseModel()),
    vscode.commands.registerCommand('tandem.showLog', () => output.show(true)),
    vscode.commands.registerCommand('tandem.openChat', () => vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`)),
    vscode.commands.registerCommand('tandem.clearChat', () => controller.clear()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        output.info('server launch settings changed; restarting');
        void start();
      }
    }),
  );
  void start();
}

/** The walkthrough's model step: a checkpoint folder, or a hub id already in the local cache. */
async function chooseModel(): Promise<void> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: '$(folder-opened) A checkpoint folder…', id: 'folder' },
      { label: '$(cloud) A Hugging Face hub id…', description: 'from the local cache (add --download to tandem.host.args to fetch it)', id: 'hub' },
    ],
    { title: 'Tandem: the model the language server starts a host with' },
  );
  let model: string | undefined;
  if (pick?.id === 'folder') {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, title: 'Checkpoint folder (config.json, tokenizer.model, weights)' });
    model = picked?.[0]?.fsPath;
  } else if (pick?.id === 'hub') {
    model = await vscode.window.showInputBox({ prompt: 'Hub id', placeHolder: 'codellama/CodeLlama-7b-hf' });
  }
  if (model !== undefined && model.trim() !== '') {
    await vscode.workspace.getConfiguration(SECTION).update('host.model', model.trim(), vscode.ConfigurationTarget.Global);
  }
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
