/** The VS Code side of `pygent.editReview: diffEditor`: `vscode.diff` plus Accept / Reject buttons. */

import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, Decision, FileProposal, ReviewUi } from './editReview';

const SCHEME = 'pygent-proposed';

export class DiffReviewUi implements ReviewUi, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private pending: ((d: Decision) => void) | undefined;
  private counter = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly applyEdit: (params: ApplyWorkspaceEditParams) => Promise<boolean>) {
    const provider: vscode.TextDocumentContentProvider = {
      onDidChange: this.changeEmitter.event,
      provideTextDocumentContent: (uri) => this.contents.get(uri.toString()) ?? '',
    };
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, provider),
      vscode.commands.registerCommand('pygent.acceptEdit', () => this.decide({ verdict: 'accept' })),
      vscode.commands.registerCommand('pygent.rejectEdit', () => this.decide({ verdict: 'reject' })),
      vscode.commands.registerCommand('pygent.rejectEditWithReason', async () => {
        const reason = await vscode.window.showInputBox({
          title: 'Reject pygent\'s edit',
          prompt: 'Why? pygent tells the model.',
          placeHolder: 'e.g. use Google-style docstrings',
        });
        if (reason !== undefined) this.decide({ verdict: 'reject', reason });
      }),
    );
  }

  private decide(decision: Decision): void {
    const resolve = this.pending;
    this.pending = undefined;
    resolve?.(decision);
  }

  async readText(uri: string): Promise<string | undefined> {
    const parsed = vscode.Uri.parse(uri);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === parsed.toString());
    if (open) return open.getText();
    try {
      const bytes = await vscode.workspace.fs.readFile(parsed);
      return new TextDecoder().decode(bytes);
    } catch {
      return undefined;
    }
  }

  async review(proposal: FileProposal, index: number, total: number): Promise<Decision> {
    // A review still open from an earlier request is rejected: only one at a time.
    this.decide({ verdict: 'reject', reason: 'superseded by a newer edit' });
    const id = ++this.counter;
    const target = vscode.Uri.parse(proposal.newUri ?? proposal.uri);
    const proposedUri = vscode.Uri.from({ scheme: SCHEME, path: target.path, query: `review=${id}` });
    const originalUri = vscode.Uri.from({ scheme: SCHEME, path: target.path, query: `original=${id}` });
    this.contents.set(proposedUri.toString(), proposal.proposed);
    this.contents.set(originalUri.toString(), proposal.original);
    const suffix = total > 1 ? ` [${index + 1}/${total}]` : '';
    const decision = new Promise<Decision>((resolve) => (this.pending = resolve));
    await vscode.commands.executeCommand('setContext', 'pygent.reviewingEdit', true);
    await vscode.commands.executeCommand('vscode.diff', originalUri, proposedUri, proposal.title + suffix, {
      preview: false,
    });
    try {
      return await decision;
    } finally {
      await vscode.commands.executeCommand('setContext', 'pygent.reviewingEdit', false);
      await this.closeTabs(proposedUri);
      this.contents.delete(proposedUri.toString());
      this.contents.delete(originalUri.toString());
    }
  }

  apply(params: ApplyWorkspaceEditParams): Promise<boolean> {
    return this.applyEdit(params);
  }

  private async closeTabs(proposedUri: vscode.Uri): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    const mine = tabs.filter(
      (t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === proposedUri.toString(),
    );
    if (mine.length) await vscode.window.tabGroups.close(mine);
  }

  dispose(): void {
    this.decide({ verdict: 'reject', reason: 'VS Code is closing' });
    for (const d of this.disposables) d.dispose();
    this.changeEmitter.dispose();
  }
}
