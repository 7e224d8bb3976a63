/** The chat webview view (`tandem.chat`): loads the HTML shell and relays messages to the controller. */
import * as vscode from 'vscode';
import type { ChatController, ChatSink } from './controller';
import { chatHtml, makeNonce } from './html';
import { isFromWebview, type ToWebview } from './messages';

export const CHAT_VIEW_ID = 'tandem.chat';

export class ChatViewProvider implements vscode.WebviewViewProvider, ChatSink {
  private view: vscode.WebviewView | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: ChatController,
  ) {
    controller.attach(this);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    view.webview.html = chatHtml({
      cspSource: view.webview.cspSource,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
      nonce: makeNonce(),
    });
    view.webview.onDidReceiveMessage((message: unknown) => {
      if (isFromWebview(message)) {
        void this.controller.handle(message);
      }
    });
    view.onDidDispose(() => {
      if (this.view === view) {
        this.view = undefined;
      }
    });
  }

  post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  /** Shows the chat without taking focus from the editor (the webview then asks for the transcript). */
  async reveal(): Promise<void> {
    if (this.view !== undefined) {
      this.view.show(true);
      return;
    }
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`, { preserveFocus: true });
  }
}
