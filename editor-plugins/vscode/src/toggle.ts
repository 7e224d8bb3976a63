/** The status-bar switch for ghost text (`tandem.completion.enable`), as Copilot, Continue and llm-vscode have. */
import * as vscode from 'vscode';
import { SECTION } from './settings';

const KEY = 'completion.enable';

export function completionsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>(KEY, true) !== false;
}

export class CompletionToggle implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tandem.toggle', vscode.StatusBarAlignment.Right, 99);
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.item.name = 'Tandem completions';
    this.item.command = 'tandem.toggleCompletions';
    this.render();
    this.item.show();
    this.subscription = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.${KEY}`)) {
        this.render();
      }
    });
  }

  /** Turns ghost text off (or on) at the level where it is set: folder, workspace or user. */
  async toggle(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const where = config.inspect<boolean>(KEY);
    const target =
      where?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : where?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    const next = !completionsEnabled();
    await config.update(KEY, next, target);
    this.render();
    return next;
  }

  private render(): void {
    const on = completionsEnabled();
    this.item.text = on ? '$(check) completions' : '$(circle-slash) completions';
    this.item.tooltip = on ? 'Tandem ghost text is on: click to turn it off' : 'Tandem ghost text is off: click to turn it on';
    this.item.accessibilityInformation = { label: on ? 'Tandem completions on' : 'Tandem completions off' };
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
