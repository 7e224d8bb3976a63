/** Extension entry point: wires the language server, the chat view, the status bar and the commands. */
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { ChatController } from './chat/controller';
import { CHAT_VIEW_ID, ChatViewProvider } from './chat/view';
import { TandemServer } from './client';
import { isSelectionCommand, type SelectionCommandArgs } from './protocol';
import { RESTART_KEYS, SECTION } from './settings';
import { StatusBar } from './statusBar';

let server: TandemServer | undefined;

/** A `{uri, range?}` argument from another extension; VS Code's own (a menu's Uri, nothing) means "the active editor". */
function selectionTarget(arg: unknown): SelectionCommandArgs | undefined {
  if (typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && typeof (arg as { uri?: unknown }).uri === 'string') {
    return arg as SelectionCommandArgs;
  }
  return undefined;
}

async function startServer(tandem: TandemServer): Promise<void> {
  try {
    await tandem.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `Tandem could not start its language server (${message}). Is \`tandem.pythonPath\` an interpreter with Tandem installed?`,
      'Open Settings',
      'Show Log',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.pythonPath`);
    } else if (choice === 'Show Log') {
      await vscode.commands.executeCommand('tandem.showLog');
    }
  }
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Tandem', { log: true });
  const middleware: Middleware = {
    // The client registers the server's commands as VS Code commands; the selection ones
    // run on the active editor's selection and stream into the chat view.
    executeCommand: async (command, args, next): Promise<unknown> => {
      if (isSelectionCommand(command)) {
        return controller.runSelectionCommand(command, selectionTarget(args[0]));
      }
      return next(command, args);
    },
  };
  const tandem = new TandemServer(output, middleware);
  server = tandem;
  const controller = new ChatController(tandem);
  const view = new ChatViewProvider(context.extensionUri, controller);
  const statusBar = new StatusBar(tandem);

  context.subscriptions.push(
    output,
    tandem,
    controller,
    statusBar,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, view, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.commands.registerCommand('tandem.restartServer', () => startServer(tandem)),
    vscode.commands.registerCommand('tandem.showStatus', () => statusBar.show()),
    vscode.commands.registerCommand('tandem.showLog', () => output.show(true)),
    vscode.commands.registerCommand('tandem.openChat', () => vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`)),
    vscode.commands.registerCommand('tandem.clearChat', () => controller.clear()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        output.info('server launch settings changed; restarting');
        void startServer(tandem);
      }
    }),
  );
  void startServer(tandem);
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
