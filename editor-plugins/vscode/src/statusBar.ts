/** The status-bar item: polls `tandem/status` every few seconds and shows the host's state and model. */
import * as vscode from 'vscode';
import type { TandemServer } from './client';
import { Methods, type StatusResult } from './protocol';
import type { PythonEnvironment } from './pythonSetup';
import { statusReport, statusView } from './status';
import type { StatusDocument } from './statusView';
import { completionsEnabled } from './toggle';

const POLL_MS = 4000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tandem.status', vscode.StatusBarAlignment.Right, 100);
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly subscription: vscode.Disposable;
  private last: StatusResult | undefined;
  private polling = false;

  constructor(
    private readonly server: TandemServer,
    private readonly document: StatusDocument,
    private readonly python: PythonEnvironment,
  ) {
    this.item.name = 'Tandem';
    this.item.command = 'tandem.statusMenu';
    this.render();
    this.item.show();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.subscription = server.onDidChangeState((state) => {
      if (state !== 'running') {
        this.last = undefined;
      }
      this.render();
      void this.poll();
    });
  }

  /** Asks the server for its status now; undefined when it is not running or does not answer. */
  async fetch(): Promise<StatusResult | undefined> {
    const client = this.server.client;
    if (client === undefined) {
      return undefined;
    }
    const status = await client.sendRequest<StatusResult>(Methods.status, null);
    this.last = status;
    this.render();
    return status;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.server.client === undefined) {
      return;
    }
    this.polling = true;
    try {
      await this.fetch();
    } catch {
      // The server logs its own trouble; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  private render(): void {
    const view = statusView(this.last, this.server.state, this.server.error);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  /** The "Tandem: Show Status" command: a fresh status as a document beside the editor (not a dialog). */
  async show(): Promise<void> {
    let status: StatusResult | undefined;
    let problem: string | undefined = this.server.error;
    try {
      status = await this.fetch();
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const python = this.python.current;
    const lines = [
      statusView(status, this.server.state).tooltip.replace(/ Click for details\.$/, ''),
      '',
      statusReport(status, this.server.state, problem),
      `Python: ${python ? `${python.path} (${python.source})` : 'no environment with Tandem found (run "Tandem: Set Up Python Environment")'}`,
      `Ghost text: ${completionsEnabled() ? 'on' : 'off'} (Tandem: Toggle Completions)`,
    ];
    await this.document.show(lines.join('\n') + '\n');
  }

  /** What clicking the status-bar item offers. */
  async menu(): Promise<void> {
    const logFile = this.last?.host?.logFile;
    const items: (vscode.QuickPickItem & { command: string; args?: unknown[] })[] = [
      { label: '$(info) Show Status', command: 'tandem.showStatus' },
      { label: completionsEnabled() ? '$(circle-slash) Turn Ghost Text Off' : '$(check) Turn Ghost Text On', command: 'tandem.toggleCompletions' },
      { label: '$(comment-discussion) Open Chat', command: 'tandem.openChat' },
      { label: '$(output) Show Log', command: 'tandem.showLog' },
      ...(typeof logFile === 'string' ? [{ label: '$(file) Open Model Host Log', description: logFile, command: 'vscode.open', args: [vscode.Uri.file(logFile)] }] : []),
      { label: '$(debug-restart) Restart Language Server', command: 'tandem.restartServer' },
      { label: '$(symbol-namespace) Set Up Python Environment…', command: 'tandem.setupPython' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Tandem' });
    if (pick !== undefined) {
      await vscode.commands.executeCommand(pick.command, ...(pick.args ?? []));
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}
