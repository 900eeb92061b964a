/**
 * The chat transcript as plain data, and how each message from the extension changes it.
 *
 * Pure (no DOM, no `vscode`): the webview renders from it and persists it with `setState`;
 * the unit tests drive it directly. `reduce` mutates the state in place (a streamed answer of
 * megabytes must not be copied per chunk) and returns the ids of the items it touched.
 */

import type {
  Attachment,
  ContentBlock,
  ModeId,
  ModeInfo,
  PermissionOption,
  PlanEntry,
  PluginCommand,
  RequestPermissionParams,
  SessionUpdate,
  ToolCallContent,
  ToolKind,
  ToolLocation,
  ToolStatus,
  ToWebview,
  Usage,
} from './protocol';

export interface UserItem {
  kind: 'user';
  id: string;
  text: string;
  attachments: string[];
}

export interface AgentItem {
  kind: 'agent' | 'thought';
  id: string;
  text: string;
}

export interface ToolItem {
  kind: 'tool';
  id: string;
  toolCallId: string;
  title: string;
  toolKind: ToolKind;
  status: ToolStatus;
  rawInput?: unknown;
  rawOutput?: unknown;
  content: ToolCallContent[];
  locations: ToolLocation[];
  /** 'rejected': the person turned the call down (an edit discarded, a permission refused). */
  outcome?: 'rejected';
  /** Its edit is open for review; cleared by the next update with a status. */
  reviewing?: boolean;
}

export interface PermissionItem {
  kind: 'permission';
  id: string;
  requestId: string;
  title: string;
  detail: string;
  options: PermissionOption[];
  answer?: string | null;
  /** A trust question about the project's MCP servers: each server as it would run. */
  servers?: TrustServerLine[];
  /** One more line under the question (why it is asked). */
  note?: string;
}

/** One MCP server of a trust question, as the card shows it. */
export interface TrustServerLine {
  name: string;
  /** The command line (`npx -y server --flag`) or the URL. */
  target: string;
  /** `in /work/dir`, `with TOKEN=****`, `risk medium` parts. */
  details: string[];
}

/** A plugin slash command the person ran, and its answer (not part of the conversation). */
export interface CommandItem {
  kind: 'command';
  id: string;
  commandId: string;
  name: string;
  args: string;
  source?: string;
  status: 'running' | 'done' | 'failed';
  /** The handler's text (Markdown) when done, the error message when failed. */
  text: string;
  hint?: string;
}

export type NoticeAction = 'restart' | 'resume';

export interface NoticeItem {
  kind: 'notice';
  id: string;
  level: 'info' | 'warning' | 'error';
  message: string;
  hint?: string;
  actions?: NoticeAction[];
}

export interface PlanItem {
  kind: 'plan';
  id: string;
  entries: PlanEntry[];
}

export type ChatItem = UserItem | AgentItem | ToolItem | PermissionItem | NoticeItem | PlanItem | CommandItem;

export interface ChatState {
  version: 1;
  sessionId?: string;
  title?: string;
  model?: string;
  modeId?: ModeId;
  modes: ModeInfo[];
  /** The plugins' slash commands (`pygent/commands/list`); empty until a session exists. */
  commands: PluginCommand[];
  /** Token usage of the running (or last) turn. */
  usage?: Usage;
  items: ChatItem[];
  busy: boolean;
  draft: string;
  attachments: Attachment[];
  serverState: 'starting' | 'running' | 'stopped' | 'failed';
  nextId: number;
  /** Id of the message item that the next chunk of the same kind extends. */
  openItem?: string;
}

export function initialState(): ChatState {
  return {
    version: 1,
    modes: [],
    commands: [],
    items: [],
    busy: false,
    draft: '',
    attachments: [],
    serverState: 'starting',
    nextId: 1,
  };
}

/** A state restored from `getState`, or a fresh one when it is missing or from another version. */
export function restoreState(saved: unknown): ChatState {
  if (
    saved !== null &&
    typeof saved === 'object' &&
    (saved as { version?: unknown }).version === 1 &&
    Array.isArray((saved as { items?: unknown }).items)
  ) {
    const state = saved as ChatState;
    // A turn cannot survive a reload of the view: the extension tells us again if one runs.
    state.busy = false;
    if (!Array.isArray(state.commands)) state.commands = [];
    for (const item of state.items) {
      if (item.kind === 'permission' && item.answer === undefined) {
        item.answer = null;
      }
      if (item.kind === 'command' && item.status === 'running') {
        item.status = 'failed';
        item.text = 'The chat was reloaded before the command answered.';
      }
    }
    return state;
  }
  return initialState();
}

function newId(state: ChatState): string {
  return `i${state.nextId++}`;
}

function findItem<K extends ChatItem['kind']>(
  state: ChatState,
  id: string | undefined,
): Extract<ChatItem, { kind: K }> | undefined {
  if (id === undefined) {
    return undefined;
  }
  for (let i = state.items.length - 1; i >= 0; i--) {
    if (state.items[i].id === id) {
      return state.items[i] as Extract<ChatItem, { kind: K }>;
    }
  }
  return undefined;
}

function findTool(state: ChatState, toolCallId: string): ToolItem | undefined {
  for (let i = state.items.length - 1; i >= 0; i--) {
    const item = state.items[i];
    if (item.kind === 'tool' && item.toolCallId === toolCallId) {
      return item;
    }
  }
  return undefined;
}

/** The text a content block shows in the transcript. */
export function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'resource_link':
      return `@${block.name}`;
    case 'resource':
      return block.resource.text;
    default:
      return '';
  }
}

function appendChunk(state: ChatState, kind: 'agent' | 'thought' | 'user', text: string): string[] {
  const open = findItem(state, state.openItem);
  if (open && open.kind === kind && (kind === 'agent' || kind === 'thought' || kind === 'user')) {
    (open as AgentItem | UserItem).text += text;
    return [open.id];
  }
  const id = newId(state);
  if (kind === 'user') {
    state.items.push({ kind: 'user', id, text, attachments: [] });
  } else {
    state.items.push({ kind, id, text });
  }
  state.openItem = id;
  return [id];
}

/** Applies one `pygent/session/update` to the transcript. Unknown update kinds change nothing. */
export function applyUpdate(state: ChatState, update: SessionUpdate): string[] {
  switch (update.sessionUpdate) {
    case 'agent_message_chunk':
      return appendChunk(state, 'agent', blockText(update.content));
    case 'agent_thought_chunk':
      return appendChunk(state, 'thought', blockText(update.content));
    case 'user_message_chunk':
      return appendChunk(state, 'user', blockText(update.content));
    case 'tool_call': {
      state.openItem = undefined;
      const existing = findTool(state, update.toolCallId);
      const item: ToolItem = existing ?? {
        kind: 'tool',
        id: newId(state),
        toolCallId: update.toolCallId,
        title: update.title,
        toolKind: update.kind ?? 'other',
        status: update.status ?? 'pending',
        content: [],
        locations: [],
      };
      item.title = update.title || item.title;
      item.toolKind = update.kind ?? item.toolKind;
      item.status = update.status ?? item.status;
      if (update.rawInput !== undefined) item.rawInput = update.rawInput;
      if (update.content) item.content = update.content;
      if (update.locations) item.locations = update.locations;
      if (update._meta?.pygent?.outcome === 'rejected') item.outcome = 'rejected';
      if (!existing) state.items.push(item);
      return [item.id];
    }
    case 'tool_call_update': {
      state.openItem = undefined;
      let item = findTool(state, update.toolCallId);
      if (!item) {
        item = {
          kind: 'tool',
          id: newId(state),
          toolCallId: update.toolCallId,
          title: update.title ?? update.toolCallId,
          toolKind: update.kind ?? 'other',
          status: update.status ?? 'pending',
          content: [],
          locations: [],
        };
        state.items.push(item);
      }
      if (update.title) item.title = update.title;
      if (update.kind) item.toolKind = update.kind;
      if (update.status) {
        item.status = update.status;
        delete item.reviewing;
      }
      if (update.rawInput !== undefined) item.rawInput = update.rawInput;
      if (update.rawOutput !== undefined) item.rawOutput = update.rawOutput;
      if (update.content) item.content = update.content;
      if (update.locations) item.locations = update.locations;
      if (update._meta?.pygent?.outcome === 'rejected') item.outcome = 'rejected';
      return [item.id];
    }
    case 'plan': {
      state.openItem = undefined;
      const last = state.items[state.items.length - 1];
      if (last && last.kind === 'plan') {
        last.entries = update.entries;
        return [last.id];
      }
      const id = newId(state);
      state.items.push({ kind: 'plan', id, entries: update.entries });
      return [id];
    }
    case 'current_mode_update': {
      const before = state.modeId;
      state.modeId = update.currentModeId;
      if (before === undefined || before === update.currentModeId) return ['header'];
      return ['header', addNotice(state, 'info', `Mode: ${modeName(state, update.currentModeId)}`)];
    }
    case 'pygent_notice':
      return [addNotice(state, update.level, update.message)];
    case 'usage_update': {
      const usage = update._meta?.pygent?.usage;
      if (!usage) return [];
      state.usage = usage;
      return ['header'];
    }
    default:
      return [];
  }
}

/** The server's name of mode `id` (the id when the server sent no list). */
export function modeName(state: ChatState, id: string | undefined): string {
  return state.modes.find((m) => m.id === id)?.name ?? id ?? '';
}

/** `turn 7.2k tokens · $0.0123` (empty when nothing is known). */
export function formatUsage(usage: Usage | undefined): string {
  if (!usage) return '';
  const parts: string[] = [];
  const total = usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  if (total > 0) parts.push(total >= 1000 ? `turn ${(total / 1000).toFixed(1)}k tokens` : `turn ${total} tokens`);
  if (typeof usage.costUsd === 'number' && usage.costUsd > 0) parts.push(`$${usage.costUsd.toFixed(4)}`);
  return parts.join(' · ');
}

export function addNotice(
  state: ChatState,
  level: NoticeItem['level'],
  message: string,
  hint?: string,
  actions?: NoticeAction[],
): string {
  state.openItem = undefined;
  const id = newId(state);
  const item: NoticeItem = { kind: 'notice', id, level, message };
  if (hint) item.hint = hint;
  if (actions && actions.length) item.actions = actions;
  state.items.push(item);
  return id;
}

/** True for the question that asks to trust a project's MCP servers. */
export function isTrustRequest(params: RequestPermissionParams): boolean {
  return params._meta?.pygent?.mcpTrust === true || params.toolCall.toolCallId.startsWith('mcp-trust-');
}

/** `npx -y @scope/server --root '/my dir'`: a command line as a person reads it (quoted where needed). */
export function commandLine(command: string, args: readonly string[] = []): string {
  const quote = (word: string): string =>
    word !== '' && /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return [command, ...args].map(quote).join(' ');
}

/** The servers of a trust question's `rawInput.servers`, each as a readable line; [] if malformed. */
export function trustServers(rawInput: unknown): TrustServerLine[] {
  const servers = (rawInput as { servers?: unknown } | null | undefined)?.servers;
  if (!Array.isArray(servers)) return [];
  const lines: TrustServerLine[] = [];
  for (const raw of servers) {
    if (!raw || typeof raw !== 'object') continue;
    const s = raw as Record<string, unknown>;
    const name = typeof s.name === 'string' ? s.name : '(unnamed)';
    const details: string[] = [];
    let target: string;
    if (typeof s.command === 'string') {
      const args = Array.isArray(s.args) ? s.args.filter((a): a is string => typeof a === 'string') : [];
      target = commandLine(s.command, args);
      if (typeof s.cwd === 'string') details.push(`in ${s.cwd}`);
      if (s.env && typeof s.env === 'object') {
        const env = Object.entries(s.env as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
        if (env.length) details.push(`with ${env.join(', ')}`);
      }
    } else if (typeof s.url === 'string') {
      target = s.url;
      if (s.headers && typeof s.headers === 'object') {
        const headers = Object.keys(s.headers as object);
        if (headers.length) details.push(`with headers ${headers.join(', ')}`);
      }
    } else {
      continue;
    }
    if (typeof s.risk === 'string') details.push(`tools run as risk ${s.risk}`);
    lines.push({ name, target, details });
  }
  return lines;
}

/** The text of a tool call's `content` blocks (the trust question's explanation). */
function contentText(content: RequestPermissionParams['toolCall']['content']): string {
  return (content ?? [])
    .map((c) => (c.type === 'content' && c.content.type === 'text' ? c.content.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** The card of a permission request: title, what would run, the server's options. */
export function permissionItem(id: string, requestId: string, params: RequestPermissionParams): PermissionItem {
  const call = params.toolCall;
  const item: PermissionItem = {
    kind: 'permission',
    id,
    requestId,
    title: call.title ?? 'pygent wants to run a tool',
    detail: permissionDetail(call.rawInput),
    options: params.options,
  };
  if (isTrustRequest(params)) {
    const servers = trustServers(call.rawInput);
    if (servers.length) {
      item.servers = servers;
      item.detail = '';
      item.note = 'They run as you, outside pygent\'s sandbox. Trust and start remembers this exact list for this workspace; a changed list asks again.';
    } else {
      // No server list we can read: the server's own wording, never raw JSON.
      item.detail = params._meta?.pygent?.message ?? contentText(call.content);
    }
  }
  return item;
}

/** A one-line description of what a permission request is about. */
export function permissionDetail(rawInput: unknown): string {
  if (rawInput && typeof rawInput === 'object') {
    const input = rawInput as Record<string, unknown>;
    for (const key of ['command', 'path', 'url', 'pattern', 'query']) {
      if (typeof input[key] === 'string') {
        return String(input[key]);
      }
    }
    try {
      return JSON.stringify(rawInput);
    } catch {
      return '';
    }
  }
  return '';
}

/**
 * Applies a message from the extension.
 *
 * Returns the touched item ids; `'all'` when the whole transcript must be re-rendered and
 * `'header'` when only the toolbar (session, model, mode, busy) changed.
 */
export function reduce(state: ChatState, msg: ToWebview): string[] {
  switch (msg.type) {
    case 'update':
      if (state.sessionId !== undefined && msg.sessionId !== state.sessionId) {
        return [];
      }
      return applyUpdate(state, msg.update);
    case 'session': {
      const changed = msg.sessionId !== state.sessionId;
      state.sessionId = msg.sessionId;
      if (msg.title !== undefined) state.title = msg.title;
      if (msg.modes) {
        state.modes = msg.modes.availableModes;
        state.modeId = msg.modes.currentModeId;
      }
      if (msg.model !== undefined) state.model = msg.model;
      if (changed && msg.replay) {
        state.items = [];
        state.openItem = undefined;
        return ['all', 'header'];
      }
      return ['header'];
    }
    case 'turnStarted': {
      state.busy = true;
      state.openItem = undefined;
      const id = newId(state);
      const text = msg.prompt
        .filter((b) => b.type === 'text')
        .map(blockText)
        .join('\n');
      const attachments = msg.prompt
        .filter((b) => b.type !== 'text')
        .map((b) => (b.type === 'resource_link' ? b.name : b.type === 'resource' ? labelForUri(b.resource.uri) : ''));
      state.items.push({ kind: 'user', id, text, attachments });
      return [id, 'header'];
    }
    case 'turnEnded': {
      state.busy = false;
      if (msg.usage) state.usage = msg.usage;
      const touched = ['header'];
      if (state.openItem) touched.push(state.openItem);
      state.openItem = undefined;
      if (msg.stopReason === 'error' && msg.error) {
        touched.push(addNotice(state, 'error', msg.error));
      } else if (msg.stopReason === 'cancelled') {
        touched.push(addNotice(state, 'info', 'Turn cancelled.'));
      } else if (msg.stopReason === 'max_tokens') {
        touched.push(addNotice(state, 'warning', 'The answer was cut off: the model reached its output limit.'));
      } else if (msg.stopReason === 'refusal') {
        touched.push(addNotice(state, 'warning', 'The model refused to answer.'));
      } else if (msg.stopReason === 'max_turn_requests') {
        touched.push(addNotice(state, 'warning', 'The turn stopped after too many steps. Send "continue" to go on.'));
      }
      // Questions still open belong to the ended turn.
      for (const item of state.items) {
        if (item.kind === 'permission' && item.answer === undefined) {
          item.answer = null;
          touched.push(item.id);
        }
      }
      return touched;
    }
    case 'permission': {
      state.openItem = undefined;
      const id = newId(state);
      state.items.push(permissionItem(id, msg.requestId, msg.params));
      return [id];
    }
    case 'commands':
      state.commands = msg.commands;
      return [];
    case 'commandStarted': {
      state.openItem = undefined;
      const id = newId(state);
      const item: CommandItem = { kind: 'command', id, commandId: msg.commandId, name: msg.name, args: msg.args, status: 'running', text: '' };
      if (msg.source) item.source = msg.source;
      state.items.push(item);
      return [id];
    }
    case 'commandResult':
    case 'commandFailed': {
      const item = state.items.find((i): i is CommandItem => i.kind === 'command' && i.commandId === msg.commandId);
      if (!item) return [];
      if (msg.type === 'commandResult') {
        item.status = 'done';
        item.text = msg.text;
      } else {
        item.status = 'failed';
        item.text = msg.message;
        if (msg.hint) item.hint = msg.hint;
      }
      return [item.id];
    }
    case 'reviewing': {
      if (state.sessionId !== undefined && msg.sessionId !== state.sessionId) return [];
      const item = findTool(state, msg.toolCallId);
      if (!item) return [];
      item.reviewing = true;
      return [item.id];
    }
    case 'permissionResolved': {
      for (const item of state.items) {
        if (item.kind === 'permission' && item.requestId === msg.requestId) {
          item.answer = msg.optionId;
          return [item.id];
        }
      }
      return [];
    }
    case 'attach':
      if (!state.attachments.some((a) => a.id === msg.attachment.id)) {
        state.attachments.push(msg.attachment);
      }
      return ['attachments'];
    case 'server':
      state.serverState = msg.status.state;
      if (msg.status.state === 'failed' && msg.status.message) {
        return ['header', addNotice(state, 'error', msg.status.message, undefined, ['restart'])];
      }
      return ['header'];
    case 'serverDied': {
      state.serverState = 'stopped';
      state.busy = false;
      state.openItem = undefined;
      const actions: NoticeAction[] = msg.sessionId ? ['restart', 'resume'] : ['restart'];
      const touched = ['header', addNotice(state, 'error', msg.message, undefined, actions)];
      for (const item of state.items) {
        if (item.kind === 'permission' && item.answer === undefined) {
          item.answer = null;
          touched.push(item.id);
        }
      }
      return touched;
    }
    case 'error':
      return [addNotice(state, 'error', msg.message, msg.hint)];
    case 'mode':
      state.modeId = msg.modeId;
      return ['header'];
    case 'model': {
      const before = state.model;
      state.model = msg.model;
      if (!before || !msg.model || before === msg.model) return ['header'];
      return ['header', addNotice(state, 'info', `Model: ${msg.model}`)];
    }
    case 'clear':
      state.items = [];
      state.openItem = undefined;
      state.sessionId = undefined;
      state.title = undefined;
      state.busy = false;
      return ['all', 'header'];
    default:
      return [];
  }
}

export function labelForUri(uri: string): string {
  const noFragment = uri.split('#')[0];
  const name = decodeURIComponent(noFragment.substring(noFragment.lastIndexOf('/') + 1));
  const fragment = uri.includes('#') ? uri.substring(uri.indexOf('#')) : '';
  return name + fragment;
}
