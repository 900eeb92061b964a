/** The `pygent.chat` webview view: HTML with a strict CSP, and the message pipe both ways. */

import * as vscode from 'vscode';
import { chatHtml, makeNonce } from './html';
import type { FromWebview, ToWebview } from './protocol';
import { parseWebviewMessage } from './webviewMessages';

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'pygent.chat';

  private view: vscode.WebviewView | undefined;
  private ready = false;
  private queue: ToWebview[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly visibilityEmitter = new vscode.EventEmitter<boolean>();
  readonly onDidChangeVisibility = this.visibilityEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly onMessage: (message: FromWebview) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const webviewRoot = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [webviewRoot, vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.webview.html = chatHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'main.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'main.css')).toString(),
    });
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => {
        const parsed = parseWebviewMessage(raw);
        if (!parsed.ok) {
          this.log.warn(parsed.reason);
          return;
        }
        if (parsed.message.type === 'ready') {
          this.ready = true;
          const queued = this.queue;
          this.queue = [];
          for (const msg of queued) {
            void view.webview.postMessage(msg);
          }
        }
        this.onMessage(parsed.message);
      }),
      view.onDidChangeVisibility(() => this.visibilityEmitter.fire(view.visible)),
      view.onDidDispose(() => {
        if (this.view === view) {
          this.view = undefined;
          this.ready = false;
        }
      }),
    );
  }

  /** Posts to the webview, or queues until it is ready (bounded: a closed view only needs the tail). */
  post(message: ToWebview): void {
    if (this.view && this.ready) {
      void this.view.webview.postMessage(message);
      return;
    }
    this.queue.push(message);
    if (this.queue.length > 5000) {
      this.queue.splice(0, this.queue.length - 5000);
    }
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  async reveal(): Promise<void> {
    if (this.view) {
      this.view.show(true);
    } else {
      await vscode.commands.executeCommand(`${ChatViewProvider.viewType}.focus`);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.visibilityEmitter.dispose();
  }
}
