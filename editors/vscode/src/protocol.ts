/**
 * The `pygent/*` protocol, mirrored from pygent's server (src/pygent/server/protocol.py and the
 * reference transcript). Field names are ACP's wire names. The webview's messages reuse these
 * types: an update that arrives from the server is forwarded to the webview as is.
 *
 * This module is pure (no `vscode` import) so the webview bundle and the unit tests use it too.
 */

export const PROTOCOL_VERSION = 1;

export const Methods = {
  sessionNew: 'pygent/session/new',
  sessionPrompt: 'pygent/session/prompt',
  sessionCancel: 'pygent/session/cancel',
  sessionList: 'pygent/session/list',
  sessionLoad: 'pygent/session/load',
  sessionDelete: 'pygent/session/delete',
  sessionSetMode: 'pygent/session/setMode',
  sessionSetModel: 'pygent/session/setModel',
  sessionUpdate: 'pygent/session/update',
  sessionRequestPermission: 'pygent/session/requestPermission',
  commandsList: 'pygent/commands/list',
  commandsRun: 'pygent/commands/run',
} as const;

/**
 * A permission mode id. The list of modes (ids, names, descriptions) comes from the server
 * (`modes.availableModes` of session/new and session/load); the extension has no copy of it.
 */
export type ModeId = string;

// -- content blocks ----------------------------------------------------------------------------

export interface Range {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ResourceLinkBlock {
  type: 'resource_link';
  uri: string;
  name: string;
}

export interface ResourceBlock {
  type: 'resource';
  resource: { uri: string; text: string; mimeType?: string };
  _meta?: { range?: Range };
}

export type ContentBlock = TextBlock | ResourceLinkBlock | ResourceBlock;

// -- session updates ---------------------------------------------------------------------------

export type ToolKind =
  | 'read'
  | 'edit'
  | 'delete'
  | 'move'
  | 'search'
  | 'execute'
  | 'think'
  | 'fetch'
  | 'other';

export type ToolStatus = 'pending' | 'in_progress' | 'completed' | 'failed';

export interface DiffContent {
  type: 'diff';
  path: string;
  oldText: string | null;
  newText: string;
}

export interface WrappedContent {
  type: 'content';
  content: ContentBlock;
}

export type ToolCallContent = DiffContent | WrappedContent;

export interface ToolLocation {
  path: string;
  line?: number;
}

export interface ToolCall {
  sessionUpdate: 'tool_call';
  toolCallId: string;
  title: string;
  kind?: ToolKind;
  status?: ToolStatus;
  locations?: ToolLocation[];
  rawInput?: unknown;
  content?: ToolCallContent[];
  _meta?: { pygent?: { outcome?: 'rejected' } };
}

export interface ToolCallUpdate {
  sessionUpdate: 'tool_call_update';
  toolCallId: string;
  title?: string;
  kind?: ToolKind;
  status?: ToolStatus;
  locations?: ToolLocation[];
  rawInput?: unknown;
  rawOutput?: unknown;
  content?: ToolCallContent[];
  /** `outcome: 'rejected'`: the person turned the call down (status stays `failed`). */
  _meta?: { pygent?: { outcome?: 'rejected' } };
}

export interface MessageChunk {
  sessionUpdate: 'agent_message_chunk' | 'agent_thought_chunk' | 'user_message_chunk';
  content: ContentBlock;
}

export interface PlanEntry {
  content: string;
  priority?: string;
  status?: string;
}

export interface PlanUpdate {
  sessionUpdate: 'plan';
  entries: PlanEntry[];
}

export interface CurrentModeUpdate {
  sessionUpdate: 'current_mode_update';
  currentModeId: ModeId;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cachedReadTokens?: number;
  totalTokens?: number;
  costUsd?: number | null;
}

export interface UsageUpdate {
  sessionUpdate: 'usage_update';
  _meta?: { pygent?: { usage?: Usage } };
}

export interface NoticeUpdate {
  sessionUpdate: 'pygent_notice';
  level: 'info' | 'warning' | 'error';
  message: string;
}

export type SessionUpdate =
  | ToolCall
  | ToolCallUpdate
  | MessageChunk
  | PlanUpdate
  | CurrentModeUpdate
  | UsageUpdate
  | NoticeUpdate;

export interface SessionUpdateParams {
  sessionId: string;
  update: SessionUpdate;
}

// -- requests and results ----------------------------------------------------------------------

export interface ModeInfo {
  id: ModeId;
  name: string;
  description?: string;
}

export interface SessionModes {
  currentModeId: ModeId;
  availableModes: ModeInfo[];
}

export interface NewSessionParams {
  cwd?: string;
  mcpServers?: unknown[];
}

export interface NewSessionResult {
  sessionId: string;
  modes?: SessionModes;
  models?: { currentModelId: string };
}

export interface LoadSessionParams {
  sessionId: string;
  cwd?: string;
  mcpServers?: unknown[];
}

export interface LoadSessionResult {
  modes?: SessionModes;
  models?: { currentModelId: string };
}

export interface SessionInfo {
  sessionId: string;
  title?: string | null;
  updatedAt?: string;
  messageCount?: number;
}

export interface ListSessionsResult {
  sessions: SessionInfo[];
}

export interface PromptParams {
  sessionId: string;
  prompt: ContentBlock[];
  workDoneToken?: string;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'max_turn_requests' | 'refusal' | 'cancelled';

export interface PromptResult {
  stopReason: StopReason;
  usage?: Usage;
}

export type PermissionOptionKind = 'allow_once' | 'allow_always' | 'reject_once' | 'reject_always';

export interface PermissionOption {
  optionId: string;
  name: string;
  kind: PermissionOptionKind;
}

export interface RequestPermissionParams {
  sessionId: string;
  toolCall: {
    toolCallId: string;
    title?: string;
    kind?: ToolKind;
    rawInput?: unknown;
    content?: ToolCallContent[];
  };
  options: PermissionOption[];
  /**
   * `reason`: why pygent asks. `pygent.mcpTrust`: the question asks to trust the project's MCP
   * servers (`rawInput` is `{workspace, servers}`); `pygent.message`: the whole question as text.
   */
  _meta?: { reason?: string; pygent?: { mcpTrust?: boolean; message?: string } };
}

/** One project MCP server of a trust question (`rawInput.servers[]`): a command or a URL. */
export interface TrustServer {
  name: string;
  command?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
  risk?: string;
}

/** A plugin's slash command (`pygent/commands/list` -> `{commands}`); `name` without the slash. */
export interface PluginCommand {
  name: string;
  help: string;
  /** The plugin's entry-point name. */
  source: string;
}

export interface CommandsListResult {
  commands: PluginCommand[];
}

/** `pygent/commands/run {sessionId, name, args}` -> `{text}` (Markdown for the person). */
export interface CommandsRunResult {
  text: string;
}

export type PermissionOutcome =
  | { outcome: 'selected'; optionId: string }
  | { outcome: 'cancelled' };

export interface RequestPermissionResult {
  outcome: PermissionOutcome;
}

/** JSON-RPC error `data` as pygent sends it (`data.code` is pygent's error code). */
export interface PygentErrorData {
  code?: string;
  hint?: string;
}

// -- extension <-> webview ---------------------------------------------------------------------

/** A prompt attachment as the webview shows it; `block` is what goes on the wire. */
export interface Attachment {
  id: string;
  label: string;
  block: ResourceLinkBlock | ResourceBlock;
}

export interface ServerStatus {
  state: 'starting' | 'running' | 'stopped' | 'failed';
  message?: string;
}

/** Messages the extension posts to the webview. */
export type ToWebview =
  | { type: 'update'; sessionId: string; update: SessionUpdate }
  | { type: 'session'; sessionId: string; title?: string; modes?: SessionModes; model?: string; replay?: boolean }
  | { type: 'turnStarted'; sessionId: string; prompt: ContentBlock[] }
  | { type: 'turnEnded'; sessionId: string; stopReason: StopReason | 'error'; error?: string; usage?: Usage }
  | { type: 'permission'; requestId: string; params: RequestPermissionParams }
  | { type: 'permissionResolved'; requestId: string; optionId: string | null }
  /** The edit of tool call `toolCallId` is open for review (`_meta.pygent.toolCallId` of applyEdit). */
  | { type: 'reviewing'; sessionId: string; toolCallId: string }
  | { type: 'attach'; attachment: Attachment }
  | { type: 'server'; status: ServerStatus }
  | { type: 'serverDied'; message: string; sessionId?: string }
  | { type: 'error'; message: string; hint?: string }
  | { type: 'mode'; modeId: ModeId }
  | { type: 'model'; model: string }
  | { type: 'clear' }
  /** The plugins' slash commands (`pygent/commands/list`), sent when a session opens. */
  | { type: 'commands'; commands: PluginCommand[] }
  /** A plugin command started (`commandId` is the extension's), and how it ended. */
  | { type: 'commandStarted'; commandId: string; name: string; args: string; source?: string }
  | { type: 'commandResult'; commandId: string; text: string }
  | { type: 'commandFailed'; commandId: string; message: string; hint?: string };

/** Messages the webview posts to the extension. */
export type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string; attachments: Attachment[] }
  | { type: 'cancel' }
  | { type: 'permissionAnswer'; requestId: string; optionId: string | null }
  | { type: 'attachFile' }
  | { type: 'addSelection' }
  | { type: 'newChat' }
  | { type: 'pickSession' }
  | { type: 'setMode'; modeId: ModeId }
  | { type: 'pickMode' }
  | { type: 'pickModel' }
  | { type: 'setModel'; model: string }
  /** `/name args` of a plugin command: run it on the server (`pygent/commands/run`). */
  | { type: 'runCommand'; name: string; args: string }
  | { type: 'restartServer'; resume: boolean }
  | { type: 'openFile'; path: string; line?: number }
  | { type: 'copy'; text: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export const FROM_WEBVIEW_TYPES: readonly FromWebview['type'][] = [
  'ready',
  'send',
  'cancel',
  'permissionAnswer',
  'attachFile',
  'addSelection',
  'newChat',
  'pickSession',
  'setMode',
  'pickMode',
  'pickModel',
  'setModel',
  'runCommand',
  'restartServer',
  'openFile',
  'copy',
  'log',
];
