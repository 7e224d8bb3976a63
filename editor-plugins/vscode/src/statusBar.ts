/** The status-bar item: polls `tandem/status` every few seconds and shows the host's state and model. */
import * as vscode from 'vscode';
import type { TandemServer } from './client';
import { Methods, type StatusResult } from './protocol';
import { statusReport, statusView } from './status';

const POLL_MS = 4000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tandem.status', vscode.StatusBarAlignment.Right, 100);
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly subscription: vscode.Disposable;
  private last: StatusResult | undefined;
  private polling = false;

  constructor(private readonly server: TandemServer) {
    this.item.name = 'Tandem';
    this.item.command = 'tandem.showStatus';
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

  /** The "Tandem: Show Status" command: a fresh status as a readable report. */
  async show(): Promise<void> {
    let status: StatusResult | undefined;
    let problem: string | undefined = this.server.error;
    try {
      status = await this.fetch();
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    const report = statusReport(status, this.server.state, problem);
    const choice = await vscode.window.showInformationMessage(
      statusView(status, this.server.state).tooltip.replace(/ Click for details\.$/, ''),
      { modal: true, detail: report },
      'Show Log',
      'Restart Server',
    );
    if (choice === 'Show Log') {
      await vscode.commands.executeCommand('tandem.showLog');
    } else if (choice === 'Restart Server') {
      await vscode.commands.executeCommand('tandem.restartServer');
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}
