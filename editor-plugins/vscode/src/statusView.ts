/** The status as a read-only document beside the editor (not a modal dialog): copyable, refreshable. */
import * as vscode from 'vscode';

export const STATUS_SCHEME = 'tandem-status';
export const STATUS_URI = vscode.Uri.from({ scheme: STATUS_SCHEME, path: '/Tandem Status' });

export class StatusDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private text = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(STATUS_SCHEME, this);

  provideTextDocumentContent(): string {
    return this.text;
  }

  /** Shows `text` in the status document (opening it, or refreshing it where it is open). */
  async show(text: string): Promise<void> {
    this.text = text;
    this.changed.fire(STATUS_URI);
    const doc = await vscode.workspace.openTextDocument(STATUS_URI);
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
