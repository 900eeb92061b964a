/**
 * pygent for VS Code: starts `pygent serve` with vscode-languageclient and is a thin client of
 * its `pygent/*` protocol. Every behaviour lives in the server; the extension renders (the chat
 * webview), asks (permissions, edit review) and applies (workspace edits).
 */

import * as path from 'path';
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditRequest,
  CancellationTokenSource,
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  WorkDoneProgress,
  type ClientCapabilities,
  type FeatureState,
  type LanguageClientOptions,
  type ServerOptions,
  type ServerCapabilities,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { isTrustRequest } from './chatState';
import { ChatViewProvider } from './chatView';
import { DiffReviewUi } from './diffReviewUi';
import {
  createDiffReviewHandler,
  previewResult,
  proposalsFromMeta,
  verifyPreviewApply,
  type FileProposal,
  type ApplyWorkspaceEditParams,
  type ApplyWorkspaceEditResult,
} from './editReview';
import { candidates, describeCommand, DOCS_URL, findPygent, PygentNotFound, type PygentCommand } from './findPygent';
import {
  Methods,
  type Attachment,
  type ContentBlock,
  type FromWebview,
  type ListSessionsResult,
  type LoadSessionResult,
  type CommandsListResult,
  type CommandsRunResult,
  type ModeId,
  type ModeInfo,
  type PluginCommand,
  type NewSessionResult,
  type PermissionOption,
  type PromptResult,
  type RequestPermissionParams,
  type RequestPermissionResult,
  type SessionUpdateParams,
} from './protocol';
import { parseCommandList, shadowedPluginCommands } from './slashCommands';
import { errorParts, errorText } from './rpcErrors';

/** Declares `experimental.pygent.permissionRequests`, so permissions come as pygent/session/requestPermission. */
class PygentCapabilities implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), pygent: { permissionRequests: true } };
    // vscode-languageclient declares changeAnnotationSupport already; make sure it stays declared.
    const ws = (capabilities.workspace ??= {});
    ws.applyEdit = true;
    const edit = (ws.workspaceEdit ??= {});
    edit.documentChanges = true;
    edit.changeAnnotationSupport ??= { groupsOnLabel: true };
  }
  /**
   * The server advertises `pygent.prompt`/`pygent.cancel` as executeCommand commands for generic
   * LSP clients; this extension has its own commands of those names, so it does not register them.
   */
  preInitialize(capabilities: ServerCapabilities): void {
    delete capabilities.executeCommandProvider;
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

interface PendingPermission {
  done: (optionId: string | null) => void;
  options: PermissionOption[];
}

class PygentController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private sessionId: string | undefined;
  private model = '';
  private modeId: ModeId | undefined;
  /** The modes the server offers (session/new and session/load results); empty before a session. */
  private modes: ModeInfo[] = [];
  private turn: CancellationTokenSource | undefined;
  private stopping = false;
  private suppressUpdatesFor: string | undefined;
  private permissionCounter = 0;
  private commandCounter = 0;
  /** The plugins' commands as last listed (for the source shown on a command's card). */
  private pluginCommands: PluginCommand[] = [];
  private readonly permissions = new Map<string, PendingPermission>();
  private progressCounter = 0;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly diffUi: DiffReviewUi;
  private readonly diffReview: (p: ApplyWorkspaceEditParams) => Promise<ApplyWorkspaceEditResult>;
  private starting: Promise<boolean> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly log: vscode.LogOutputChannel,
    readonly view: ChatViewProvider,
  ) {
    this.statusBar = vscode.window.createStatusBarItem('pygent.status', vscode.StatusBarAlignment.Right, 100);
    this.statusBar.name = 'pygent';
    this.statusBar.command = 'pygent.chat.focus';
    this.updateStatus();
    this.statusBar.show();
    this.diffUi = new DiffReviewUi((params) => this.applyInVsCode(params));
    this.diffReview = createDiffReviewHandler(this.diffUi);
    this.disposables.push(this.statusBar, this.diffUi);
  }

  // -- server lifecycle ------------------------------------------------------------------------

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('pygent');
  }

  private workspaceRoot(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  private async pythonInterpreter(): Promise<string | undefined> {
    try {
      const ext = vscode.extensions.getExtension('ms-python.python');
      if (!ext) return undefined;
      const api = (ext.isActive ? ext.exports : await ext.activate()) as {
        environments?: { getActiveEnvironmentPath?: () => { path?: string } };
      };
      return api?.environments?.getActiveEnvironmentPath?.()?.path;
    } catch (err) {
      this.log.info(`Python extension gave no interpreter: ${String(err)}`);
      return undefined;
    }
  }

  ensureStarted(): Promise<boolean> {
    if (this.client?.state === State.Running) return Promise.resolve(true);
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async start(): Promise<boolean> {
    this.view.post({ type: 'server', status: { state: 'starting' } });
    let command: PygentCommand;
    try {
      command = await findPygent(candidates(this.config().get<string>('path', ''), await this.pythonInterpreter()));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PygentNotFound) this.log.error(`${message}\nTried:\n  ${err.tried.join('\n  ')}`);
      this.failed(message);
      return false;
    }
    this.log.info(`Starting ${describeCommand(command)} serve`);
    const serverOptions: ServerOptions = {
      command: command.command,
      args: [...command.args, 'serve'],
      options: { cwd: this.workspaceRoot(), env: { ...process.env } },
    };
    const initializationOptions: Record<string, unknown> = {};
    const model = this.config().get<string>('model', '');
    const mode = this.config().get<string>('permissionMode', '');
    if (model) initializationOptions.model = model;
    if (mode) initializationOptions.permissionMode = mode;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.log,
      initializationOptions,
      connectionOptions: { maxRestartCount: 0 },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => ({ action: CloseAction.DoNotRestart, handled: true }),
      },
    };
    const client = new LanguageClient('pygent', 'pygent', serverOptions, clientOptions);
    client.registerFeature(new PygentCapabilities());
    this.client = client;
    let started = false;
    client.onDidChangeState((e) => {
      if (client !== this.client || !started) return;
      if (e.oldState === State.Running && e.newState === State.Stopped && !this.stopping) {
        this.serverDied();
      }
    });
    try {
      await client.start();
    } catch (err) {
      if (client === this.client) this.client = undefined;
      const reason = err instanceof Error ? err.message : String(err);
      this.failed(
        `pygent serve (${describeCommand(command)} serve) exited while starting: ${reason}. ` +
          'See "pygent: Show Logs", fix the cause, then run "pygent: Restart Server".',
      );
      return false;
    }
    started = true;
    this.hook(client);
    this.view.post({ type: 'server', status: { state: 'running' } });
    return true;
  }

  private hook(client: LanguageClient): void {
    client.onNotification(Methods.sessionUpdate, (params: SessionUpdateParams) => {
      if (params.sessionId === this.suppressUpdatesFor) return;
      if (params.update?.sessionUpdate === 'current_mode_update') {
        this.modeId = params.update.currentModeId;
        this.updateStatus();
      }
      this.view.post({ type: 'update', sessionId: params.sessionId, update: params.update });
    });
    client.onRequest(Methods.sessionRequestPermission, (params: RequestPermissionParams, token) =>
      this.askPermission(params, token),
    );
    client.onRequest(ApplyWorkspaceEditRequest.type.method, (params: ApplyWorkspaceEditParams) =>
      this.handleApplyEdit(params),
    );
  }

  private failed(message: string): void {
    this.log.error(message);
    this.view.post({ type: 'server', status: { state: 'failed', message } });
    void vscode.window.showErrorMessage(message, 'Open Docs', 'Show Logs').then((choice) => {
      if (choice === 'Open Docs') void vscode.env.openExternal(vscode.Uri.parse(DOCS_URL));
      if (choice === 'Show Logs') this.log.show();
    });
  }

  private serverDied(): void {
    const message = this.turn
      ? 'pygent serve stopped in the middle of the turn. What it wrote so far is kept above; restart the server and resume the session to go on.'
      : 'pygent serve stopped. Restart it to go on.';
    this.log.error(message);
    this.turn?.dispose();
    this.turn = undefined;
    this.resolveAllPermissions();
    this.updateStatus();
    this.view.post({ type: 'serverDied', message, sessionId: this.sessionId });
    if (!this.view.visible) {
      void vscode.window.showErrorMessage(message, 'Restart and Resume').then((c) => {
        if (c) void this.restart(true);
      });
    }
  }

  async restart(resume: boolean): Promise<void> {
    const old = this.client;
    this.client = undefined;
    this.stopping = true;
    try {
      if (old && old.state !== State.Stopped) await old.stop(2000).catch(() => undefined);
    } finally {
      this.stopping = false;
    }
    this.turn?.dispose();
    this.turn = undefined;
    this.resolveAllPermissions();
    const keep = resume ? this.sessionId : undefined;
    if (!(await this.ensureStarted())) return;
    if (keep) {
      await this.loadSession(keep, false);
      this.view.post({
        type: 'update',
        sessionId: keep,
        update: { sessionUpdate: 'pygent_notice', level: 'info', message: 'Server restarted; session resumed.' },
      });
    } else {
      this.sessionId = undefined;
      await this.newSession();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) await client.stop(2000).catch(() => undefined);
  }

  // -- sessions --------------------------------------------------------------------------------

  async newSession(): Promise<void> {
    if (!(await this.ensureStarted()) || !this.client) return;
    try {
      const result = await this.client.sendRequest<NewSessionResult>(Methods.sessionNew, this.cwdParams());
      this.sessionId = result.sessionId;
      this.model = result.models?.currentModelId ?? this.model;
      this.takeModes(result.modes);
      this.updateStatus();
      this.view.post({ type: 'session', sessionId: result.sessionId, modes: result.modes, model: this.model });
      void this.refreshCommands();
    } catch (err) {
      this.reportError('Could not start a session', err);
    }
  }

  /**
   * Asks the server for the plugins' slash commands (once a session exists) and gives them to
   * the chat's completion. A server without `pygent/commands/list` (older) or one that fails
   * leaves the list empty; the reason goes to the log, the built-in commands still work.
   */
  async refreshCommands(): Promise<void> {
    const client = this.client;
    const sessionId = this.sessionId;
    if (!client || !sessionId) return;
    let commands: PluginCommand[] = [];
    try {
      commands = parseCommandList(await client.sendRequest<CommandsListResult>(Methods.commandsList, { sessionId }));
    } catch (err) {
      this.log.warn(`pygent/commands/list failed, so no plugin commands are offered: ${errorText(err)}`);
    }
    if (client !== this.client) return;
    for (const c of shadowedPluginCommands(commands)) {
      this.log.warn(`the plugin ${c.source} has a command /${c.name} named like a built-in one; the built-in one runs`);
    }
    this.pluginCommands = commands;
    this.view.post({ type: 'commands', commands });
  }

  /**
   * Runs a plugin's `/name args` on the server (`pygent/commands/run`) and shows its text in the
   * chat as the command's card, not as an answer of the model; an error answer (unknown command,
   * a handler that raised) is shown as the card's error and the chat goes on.
   */
  async runCommand(name: string, args: string): Promise<void> {
    const commandId = `c${++this.commandCounter}`;
    if (!this.sessionId || this.client?.state !== State.Running) {
      if (!(await this.ensureStarted())) return;
      if (!this.sessionId) await this.newSession();
    }
    const client = this.client;
    const sessionId = this.sessionId;
    if (!client || !sessionId) return;
    this.view.post({ type: 'commandStarted', commandId, name, args, source: this.commandSource(name) });
    try {
      const result = await client.sendRequest<CommandsRunResult>(Methods.commandsRun, { sessionId, name, args });
      const text = typeof result?.text === 'string' && result.text !== '' ? result.text : `/${name} returned nothing.`;
      this.view.post({ type: 'commandResult', commandId, text });
    } catch (err) {
      const { message, hint } = isMethodNotFound(err)
        ? {
            message: 'This pygent server has no plugin commands (pygent/commands/run is unknown to it).',
            hint: 'Update pygent, then run "pygent: Restart Server".',
          }
        : errorParts(err); // the hint once, under the message
      this.log.error(`/${name} failed: ${message}`);
      this.view.post({ type: 'commandFailed', commandId, message, hint });
    }
  }

  private commandSource(name: string): string | undefined {
    return this.pluginCommands.find((c) => c.name === name)?.source;
  }

  private takeModes(modes: NewSessionResult['modes']): void {
    if (!modes) return;
    if (Array.isArray(modes.availableModes) && modes.availableModes.length) this.modes = modes.availableModes;
    this.modeId = modes.currentModeId ?? this.modeId;
  }

  private modeName(id: ModeId | undefined): string {
    return this.modes.find((m) => m.id === id)?.name ?? id ?? '';
  }

  private cwdParams(): { cwd?: string } {
    const root = this.workspaceRoot();
    return root ? { cwd: root } : {};
  }

  /** Loads a session: `replay` shows its history; without it the transcript on screen stays. */
  async loadSession(sessionId: string, replay: boolean): Promise<void> {
    if (!(await this.ensureStarted()) || !this.client) return;
    if (replay) {
      this.view.post({ type: 'session', sessionId, replay: true });
    } else {
      this.suppressUpdatesFor = sessionId;
    }
    try {
      const result = await this.client.sendRequest<LoadSessionResult>(Methods.sessionLoad, {
        sessionId,
        ...this.cwdParams(),
      });
      this.sessionId = sessionId;
      this.model = result.models?.currentModelId ?? this.model;
      this.takeModes(result.modes);
      this.updateStatus();
      this.view.post({ type: 'session', sessionId, modes: result.modes, model: this.model });
      void this.refreshCommands();
    } catch (err) {
      this.reportError(`Could not load session ${sessionId}`, err);
    } finally {
      this.suppressUpdatesFor = undefined;
    }
  }

  async pickSession(): Promise<void> {
    if (!(await this.ensureStarted()) || !this.client) return;
    let result: ListSessionsResult;
    try {
      result = await this.client.sendRequest<ListSessionsResult>(Methods.sessionList, this.cwdParams());
    } catch (err) {
      this.reportError('Could not list sessions', err);
      return;
    }
    if (!result.sessions.length) {
      void vscode.window.showInformationMessage('pygent has no sessions in this workspace yet.');
      return;
    }
    const pick = await vscode.window.showQuickPick(
      result.sessions.map((s) => ({
        label: s.title || '(untitled)',
        description: s.updatedAt ? new Date(s.updatedAt).toLocaleString() : undefined,
        detail: `${s.messageCount ?? 0} messages · ${s.sessionId}`,
        sessionId: s.sessionId,
      })),
      { title: 'Resume a pygent session', placeHolder: 'Sessions of this workspace, newest first (TUI and Neovim ones too)' },
    );
    if (pick) await this.loadSession(pick.sessionId, true);
  }

  async setMode(modeId?: ModeId): Promise<void> {
    if (!this.sessionId) await this.newSession();
    if (!modeId) {
      // The server's modes, with its names and descriptions (there is no list of our own).
      const pick = await vscode.window.showQuickPick(
        this.modes.map((m) => ({
          label: m.name || m.id,
          description: m.id === this.modeId ? `${m.id} · current` : m.id,
          detail: m.description,
          id: m.id,
        })),
        { title: 'pygent permission mode', placeHolder: 'What pygent may do without asking' },
      );
      if (!pick) return;
      modeId = pick.id;
    }
    if (!this.client || !this.sessionId) return;
    try {
      await this.client.sendRequest(Methods.sessionSetMode, { sessionId: this.sessionId, modeId });
      this.modeId = modeId;
      this.updateStatus();
      this.view.post({ type: 'mode', modeId });
    } catch (err) {
      this.reportError('Could not change the mode', err);
    }
  }

  /** Sets the session's model: `modelId`, or one the person types (the `/model` command gives it). */
  async setModel(modelId?: string): Promise<void> {
    modelId ??= await vscode.window.showInputBox({
      title: 'pygent model',
      prompt: 'A litellm model name, e.g. anthropic/claude-sonnet-4-5 or openai/gpt-4.1',
      value: this.model,
    });
    if (!modelId) return;
    if (!this.sessionId) await this.newSession();
    if (!this.client || !this.sessionId) return;
    try {
      await this.client.sendRequest(Methods.sessionSetModel, { sessionId: this.sessionId, modelId });
      this.model = modelId;
      this.updateStatus();
      this.view.post({ type: 'model', model: modelId });
    } catch (err) {
      this.reportError('Could not change the model', err);
    }
  }

  // -- turns -----------------------------------------------------------------------------------

  async send(text: string, attachments: Attachment[]): Promise<void> {
    if (this.turn) {
      void vscode.window.showWarningMessage('pygent is still answering. Wait or cancel the turn first.');
      return;
    }
    const prompt: ContentBlock[] = [];
    if (text.trim()) prompt.push({ type: 'text', text });
    for (const a of attachments) prompt.push(a.block);
    if (!prompt.length) return;
    if (!this.sessionId || this.client?.state !== State.Running) {
      if (!(await this.ensureStarted())) return;
      if (!this.sessionId) await this.newSession();
    }
    const client = this.client;
    const sessionId = this.sessionId;
    if (!client || !sessionId) return;
    const source = new CancellationTokenSource();
    this.turn = source;
    const token = `pygent-vscode-${++this.progressCounter}`;
    const progress = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind === 'report' && value.message) this.updateStatus(value.message);
    });
    this.updateStatus('thinking…');
    this.view.post({ type: 'turnStarted', sessionId, prompt });
    try {
      const result = await client.sendRequest<PromptResult>(
        Methods.sessionPrompt,
        { sessionId, prompt, workDoneToken: token },
        source.token,
      );
      this.view.post({ type: 'turnEnded', sessionId, stopReason: result.stopReason, usage: result.usage });
    } catch (err) {
      if (client === this.client && client.state === State.Running) {
        if (source.token.isCancellationRequested) {
          this.view.post({ type: 'turnEnded', sessionId, stopReason: 'cancelled' });
        } else {
          this.view.post({ type: 'turnEnded', sessionId, stopReason: 'error', error: errorText(err) });
        }
      }
    } finally {
      progress.dispose();
      if (this.turn === source) this.turn = undefined;
      source.dispose();
      this.updateStatus();
    }
  }

  cancel(): void {
    if (!this.turn || !this.client || !this.sessionId) return;
    void this.client.sendNotification(Methods.sessionCancel, { sessionId: this.sessionId });
    this.turn.cancel();
  }

  // -- permissions and edits -------------------------------------------------------------------

  private askPermission(params: RequestPermissionParams, token: vscode.CancellationToken): Promise<RequestPermissionResult> {
    const requestId = `p${++this.permissionCounter}`;
    return new Promise<RequestPermissionResult>((resolve) => {
      const done = (optionId: string | null): void => {
        if (!this.permissions.delete(requestId)) return;
        this.view.post({ type: 'permissionResolved', requestId, optionId });
        resolve({ outcome: optionId === null ? { outcome: 'cancelled' } : { outcome: 'selected', optionId } });
      };
      this.permissions.set(requestId, { done, options: params.options });
      token.onCancellationRequested(() => done(null));
      this.view.post({ type: 'permission', requestId, params });
      if (!this.view.visible) {
        const title = params.toolCall.title ?? 'run a tool';
        // The trust question lists each server: the server's own text says it all.
        const message = isTrustRequest(params) && params._meta?.pygent?.message
          ? params._meta.pygent.message
          : `pygent wants to: ${title}`;
        void vscode.window
          .showInformationMessage(message, ...params.options.map((o) => o.name))
          .then((choice) => {
            const option = params.options.find((o) => o.name === choice);
            if (option) done(option.optionId);
          });
      }
    });
  }

  answerPermission(requestId: string, optionId: string | null): void {
    const pending = this.permissions.get(requestId);
    if (!pending) return;
    if (optionId !== null && !pending.options.some((o) => o.optionId === optionId)) {
      this.log.warn(`ignored a permission answer with unknown option ${optionId}`);
      return;
    }
    pending.done(optionId);
  }

  private resolveAllPermissions(): void {
    for (const pending of [...this.permissions.values()]) pending.done(null);
  }

  private async handleApplyEdit(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const toolCallId = params._meta?.pygent?.toolCallId;
    if (toolCallId && this.sessionId) this.view.post({ type: 'reviewing', sessionId: this.sessionId, toolCallId });
    const mode = this.config().get<string>('editReview', 'refactorPreview');
    if (mode === 'diffEditor') {
      return this.diffReview(params);
    }
    try {
      // What the edit should produce (the server's texts), to detect a partial apply afterwards.
      let proposals: FileProposal[] | undefined;
      try {
        proposals = proposalsFromMeta(params);
      } catch (err) {
        this.log.warn(`workspace/applyEdit: ${errorText(err)}; cannot check for a partial apply`);
      }
      const result = previewResult(await this.applyInVsCode(params));
      if (!result.applied || !proposals) return result;
      return await verifyPreviewApply(
        proposals,
        (uri) => this.diffUi.readText(uri),
        async (uri) => {
          try {
            await vscode.workspace.fs.stat(vscode.Uri.parse(uri));
            return true;
          } catch {
            return false;
          }
        },
      );
    } catch (err) {
      return { applied: false, failureReason: `VS Code could not apply the edit: ${errorText(err)}` };
    }
  }

  /** Applies through VS Code; annotated edits (needsConfirmation) open the refactor preview. */
  private async applyInVsCode(params: ApplyWorkspaceEditParams): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(
      params.edit as Parameters<typeof client.protocol2CodeConverter.asWorkspaceEdit>[0],
    );
    if (!edit) return false;
    const applied = await vscode.workspace.applyEdit(edit);
    if (applied) {
      // Edits land in buffers; save them so tools that read the disk see the change.
      const uris = new Set(edit.entries().map(([uri]) => uri.toString()));
      for (const doc of vscode.workspace.textDocuments) {
        if (uris.has(doc.uri.toString()) && doc.isDirty) await doc.save();
      }
    }
    return applied;
  }

  // -- webview ---------------------------------------------------------------------------------

  async onWebviewMessage(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.view.post({ type: 'model', model: this.model });
        if (this.modeId) this.view.post({ type: 'mode', modeId: this.modeId });
        if (await this.ensureStarted()) {
          if (!this.sessionId) await this.newSession();
          else {
            this.view.post({ type: 'session', sessionId: this.sessionId, model: this.model });
            void this.refreshCommands();
          }
        }
        break;
      case 'send':
        await this.send(message.text, message.attachments);
        break;
      case 'cancel':
        this.cancel();
        break;
      case 'permissionAnswer':
        this.answerPermission(message.requestId, message.optionId);
        break;
      case 'attachFile':
        await this.attachFile();
        break;
      case 'addSelection':
        this.addSelection();
        break;
      case 'newChat':
        await vscode.commands.executeCommand('pygent.newChat');
        break;
      case 'pickSession':
        await this.pickSession();
        break;
      case 'setMode':
        await this.setMode(message.modeId);
        break;
      case 'pickModel':
        await this.setModel();
        break;
      case 'setModel':
        await this.setModel(message.model);
        break;
      case 'pickMode':
        await this.setMode();
        break;
      case 'runCommand':
        await this.runCommand(message.name, message.args);
        break;
      case 'restartServer':
        await this.restart(message.resume);
        break;
      case 'openFile':
        await this.openFile(message.path, message.line);
        break;
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        break;
      case 'log':
        this.log[message.level](`webview: ${message.message}`);
        break;
    }
  }

  /**
   * Opens a file the chat names (a tool location, or a file name in an answer such as
   * `src/app.py:42`) in the editor, at the line when one is given. A relative name is looked up
   * under the workspace root, then anywhere in the workspace (`app.py` for `src/app.py`).
   */
  async openFile(name: string, line?: number): Promise<void> {
    const uri = await this.resolveWorkspaceFile(name);
    if (!uri) {
      void vscode.window.showWarningMessage(`pygent: ${name} is not a file in this workspace.`);
      return;
    }
    const at = Math.max(0, (line ?? 1) - 1);
    try {
      await vscode.window.showTextDocument(uri, { selection: new vscode.Range(at, 0, at, 0), preview: true });
    } catch (err) {
      void vscode.window.showWarningMessage(`pygent: could not open ${name}: ${errorText(err)}`);
    }
  }

  private async resolveWorkspaceFile(name: string): Promise<vscode.Uri | undefined> {
    const isFile = async (uri: vscode.Uri): Promise<boolean> => {
      try {
        return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) !== 0;
      } catch {
        return false;
      }
    };
    if (name.startsWith('file:')) {
      const uri = vscode.Uri.parse(name);
      return (await isFile(uri)) ? uri : undefined;
    }
    if (path.isAbsolute(name)) {
      const uri = vscode.Uri.file(name);
      return (await isFile(uri)) ? uri : undefined;
    }
    const clean = name.replace(/^\.\//, '').replace(/\\/g, '/');
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const uri = vscode.Uri.joinPath(folder.uri, clean);
      if (await isFile(uri)) return uri;
    }
    if (clean.includes('..')) return undefined;
    const glob = `**/${clean.replace(/[[\]{}?*]/g, '?')}`;
    const found = await vscode.workspace.findFiles(glob, '**/{node_modules,.git,.venv,__pycache__}/**', 2);
    return found[0];
  }

  async attachFile(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*', '**/{node_modules,.git,.venv,__pycache__}/**', 5000);
    const pick = await vscode.window.showQuickPick(
      files
        .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri }))
        .sort((a, b) => a.label.localeCompare(b.label)),
      { title: 'Attach a file to the pygent prompt', matchOnDescription: true },
    );
    if (!pick) return;
    this.view.post({
      type: 'attach',
      attachment: {
        id: `link:${pick.uri.toString()}`,
        label: pick.label,
        block: { type: 'resource_link', uri: pick.uri.toString(), name: pick.label },
      },
    });
  }

  addSelection(): boolean {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage('Select some text in an editor first.');
      return false;
    }
    const sel = editor.selection;
    const uri = editor.document.uri.toString();
    const name = path.basename(editor.document.uri.fsPath);
    const range = {
      start: { line: sel.start.line, character: sel.start.character },
      end: { line: sel.end.line, character: sel.end.character },
    };
    this.view.post({
      type: 'attach',
      attachment: {
        id: `sel:${uri}:${sel.start.line}:${sel.end.line}`,
        label: `${name}:${sel.start.line + 1}-${sel.end.line + 1}`,
        block: {
          type: 'resource',
          resource: { uri, text: editor.document.getText(sel), mimeType: 'text/plain' },
          _meta: { range },
        },
      },
    });
    return true;
  }

  // -- misc ------------------------------------------------------------------------------------

  private updateStatus(activity?: string): void {
    const model = this.model || 'pygent';
    const mode = this.modeName(this.modeId);
    if (this.turn && activity !== undefined) {
      this.statusBar.text = `$(sync~spin) pygent: ${activity}`;
    } else if (this.turn) {
      this.statusBar.text = `$(sync~spin) pygent: working…`;
    } else {
      this.statusBar.text = `$(hubot) ${model}${mode ? ` · ${mode}` : ''}`;
    }
    this.statusBar.tooltip = `pygent — model ${model}${mode ? `, mode ${mode}` : ''}. Click to open the chat.`;
  }

  private reportError(what: string, err: unknown): void {
    const { message, hint } = errorParts(err);
    const text = `${what}: ${message}`;
    this.log.error(hint ? `${text} ${hint}` : text);
    this.view.post({ type: 'error', message: text, hint });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** JSON-RPC -32601: the server does not know the method (an older pygent). */
function isMethodNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === -32601;
}


let controller: PygentController | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('pygent', { log: true });
  const holder: { ctl?: PygentController } = {};
  const view = new ChatViewProvider(context.extensionUri, (m) => void holder.ctl?.onWebviewMessage(m), log);
  const c = new PygentController(log, view);
  holder.ctl = c;
  controller = c;
  context.subscriptions.push(
    log,
    view,
    c,
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewType, view, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.commands.registerCommand('pygent.newChat', async () => {
      view.post({ type: 'clear' });
      await view.reveal();
      await c.newSession();
    }),
    vscode.commands.registerCommand('pygent.askAboutSelection', async () => {
      await view.reveal();
      c.addSelection();
    }),
    vscode.commands.registerCommand('pygent.addSelection', () => c.addSelection()),
    vscode.commands.registerCommand('pygent.cancel', () => c.cancel()),
    vscode.commands.registerCommand('pygent.resumeSession', () => c.pickSession()),
    vscode.commands.registerCommand('pygent.setMode', () => c.setMode()),
    vscode.commands.registerCommand('pygent.setModel', () => c.setModel()),
    vscode.commands.registerCommand('pygent.showLogs', () => log.show()),
    vscode.commands.registerCommand('pygent.restartServer', () => c.restart(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['pygent.path', 'pygent.model', 'pygent.permissionMode', 'pygent.trace.server'].some((k) => e.affectsConfiguration(k))) {
        void vscode.window
          .showInformationMessage('pygent settings changed. Restart the server to use them?', 'Restart Server')
          .then((choice) => choice && c.restart(true));
      }
    }),
  );
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
