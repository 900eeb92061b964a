/**
 * The chat UI inside the `pygent.chat` webview. Holds the transcript as data (src/chatState.ts),
 * persists it with setState, renders it to the DOM incrementally, and posts the user's actions
 * to the extension. Messages it does not know are ignored and logged.
 */

import {
  addNotice,
  formatUsage,
  reduce,
  restoreState,
  type AgentItem,
  type ChatItem,
  type CommandItem,
  type ChatState,
  type NoticeItem,
  type PermissionItem,
  type PlanItem,
  type ToolItem,
  type UserItem,
} from '../src/chatState';
import type { FromWebview, ModeId, ToolCallContent, ToWebview } from '../src/protocol';
import { allCommands, completeSlash, resolveSlash, type SlashCommand } from '../src/slashCommands';
import { renderMarkdown } from './markdown';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const TO_WEBVIEW_TYPES = new Set<string>([
  'update',
  'session',
  'turnStarted',
  'turnEnded',
  'permission',
  'permissionResolved',
  'reviewing',
  'attach',
  'server',
  'serverDied',
  'error',
  'mode',
  'model',
  'clear',
  'commands',
  'commandStarted',
  'commandResult',
  'commandFailed',
]);

/** Above this many characters a streaming answer is shown as plain text until the turn ends. */
const PLAIN_WHILE_STREAMING = 100_000;
/** Above this many characters an answer stays plain text (formatting it would take seconds). */
const PLAIN_ALWAYS = 400_000;

const KIND_ICONS: Record<string, string> = {
  read: '📄',
  edit: '✏️',
  delete: '🗑️',
  move: '📦',
  search: '🔍',
  execute: '▶️',
  think: '💭',
  fetch: '🌐',
  other: '🔧',
};

const STATUS_TEXT: Record<string, string> = {
  pending: 'pending',
  in_progress: 'running',
  completed: 'done',
  failed: 'failed',
  rejected: 'rejected',
  reviewing: 'in review',
};

const vscode = acquireVsCodeApi();
const state: ChatState = restoreState(vscode.getState());

function post(message: FromWebview): void {
  vscode.postMessage(message);
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  post({ type: 'log', level, message });
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// -- layout ----------------------------------------------------------------------------------

const app = document.getElementById('app') ?? document.body;

const titleEl = el('span', { class: 'title', 'aria-live': 'polite' });
const newChatBtn = el('button', { class: 'secondary', 'aria-label': 'New chat', title: 'New chat', text: '+ New' });
const sessionsBtn = el('button', {
  class: 'secondary',
  'aria-label': 'Sessions: resume an earlier session',
  title: 'Resume an earlier session',
  text: 'Sessions',
});
const modeSelect = el('select', { 'aria-label': 'Permission mode', title: 'Permission mode' });
const modelBtn = el('button', { class: 'secondary model', 'aria-label': 'Model', title: 'Change the model' });
const usageEl = el('span', { class: 'usage', 'aria-label': 'Token usage of the turn' });
const serverEl = el('span', { class: 'server-state', role: 'status' });
const toolbar = el(
  'div',
  { class: 'toolbar', role: 'toolbar', 'aria-label': 'pygent chat toolbar' },
  newChatBtn,
  sessionsBtn,
  modeSelect,
  modelBtn,
  usageEl,
  el('span', { class: 'spacer' }),
  titleEl,
  serverEl,
);

const transcript = el('div', {
  class: 'transcript',
  role: 'log',
  'aria-live': 'polite',
  'aria-label': 'Conversation',
  tabindex: '0',
});

const chipsEl = el('div', { class: 'chips', 'aria-label': 'Attachments' });
const input = el('textarea', {
  id: 'prompt',
  'aria-label': 'Message pygent',
  placeholder: 'Message pygent (Enter sends, Shift+Enter for a new line, @ attaches a file)',
  rows: '3',
});
const attachBtn = el('button', { class: 'secondary', 'aria-label': 'Attach a file', title: 'Attach a file (@)', text: '@ File' });
const selectionBtn = el('button', {
  class: 'secondary',
  'aria-label': 'Add the editor selection',
  title: 'Add the selection of the active editor',
  text: 'Add selection',
});
const sendBtn = el('button', { 'aria-label': 'Send', text: 'Send' });
const cancelBtn = el('button', { class: 'secondary', 'aria-label': 'Cancel', text: 'Cancel' });
// Completion of slash commands: built-in ones and the plugins' (pygent/commands/list).
const slashList = el('ul', { id: 'slash-list', class: 'slash-list', role: 'listbox', 'aria-label': 'Commands' });
slashList.hidden = true;
input.setAttribute('aria-autocomplete', 'list');
input.setAttribute('aria-controls', 'slash-list');
input.setAttribute('aria-expanded', 'false');
const composer = el(
  'div',
  { class: 'composer' },
  chipsEl,
  slashList,
  input,
  el('div', { class: 'row' }, attachBtn, selectionBtn, el('span', { class: 'spacer' }), cancelBtn, sendBtn),
);

app.append(toolbar, transcript, composer);

// -- rendering -------------------------------------------------------------------------------

const itemEls = new Map<string, HTMLElement>();
const lastMarkdown = new Map<string, number>();
const plainLength = new Map<string, number>();
const dirty = new Set<string>();
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function scheduleSave(): void {
  if (saveTimer !== undefined) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    vscode.setState(state);
  }, 300);
}

function markDirty(ids: string[]): void {
  for (const id of ids) dirty.add(id);
  if (flushTimer === undefined) {
    flushTimer = setTimeout(flush, 16);
  }
  scheduleSave();
}

function flush(): void {
  flushTimer = undefined;
  const ids = [...dirty];
  dirty.clear();
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
  if (ids.includes('all')) {
    transcript.replaceChildren();
    itemEls.clear();
    for (const item of state.items) renderItem(item);
  } else {
    for (const id of ids) {
      if (id === 'header' || id === 'attachments') continue;
      const item = state.items.find((i) => i.id === id);
      if (item) renderItem(item);
    }
  }
  if (ids.includes('header') || ids.includes('all')) renderHeader();
  if (ids.includes('attachments')) renderChips();
  if (nearBottom) transcript.scrollTop = transcript.scrollHeight;
}

function renderItem(item: ChatItem): void {
  let node: HTMLElement;
  switch (item.kind) {
    case 'user':
      node = renderUser(item);
      break;
    case 'agent':
    case 'thought': {
      const existing = itemEls.get(item.id);
      if (existing && !renderAgent(item, existing)) return;
      node = existing ?? el('div');
      if (!existing) renderAgent(item, node, true);
      break;
    }
    case 'tool':
      node = renderTool(item, itemEls.get(item.id));
      break;
    case 'permission':
      node = renderPermission(item);
      break;
    case 'notice':
      node = renderNotice(item);
      break;
    case 'plan':
      node = renderPlan(item);
      break;
    case 'command':
      node = renderCommand(item);
      break;
    default:
      return;
  }
  node.dataset.id = item.id;
  const existing = itemEls.get(item.id);
  if (existing && existing !== node) existing.replaceWith(node);
  else if (!existing) transcript.append(node);
  itemEls.set(item.id, node);
}

function renderUser(item: UserItem): HTMLElement {
  const node = el('div', { class: 'msg user', 'aria-label': 'You said' }, item.text);
  if (item.attachments.length) {
    node.append(el('div', { class: 'chips' }, ...item.attachments.map((a) => el('span', { class: 'chip', text: a }))));
  }
  return node;
}

/** Renders an answer into `node`; returns false when the render was skipped (throttled). */
function renderAgent(item: AgentItem, node: HTMLElement, force = false): boolean {
  node.className = `msg ${item.kind}`;
  node.setAttribute('aria-label', item.kind === 'agent' ? 'pygent said' : 'pygent thought');
  if (item.kind === 'thought') {
    node.textContent = item.text;
    return true;
  }
  const streaming = state.busy && state.openItem === item.id;
  if ((streaming && item.text.length > PLAIN_WHILE_STREAMING) || item.text.length > PLAIN_ALWAYS) {
    // Append only the new text, a block per flush split at line ends: re-setting (or re-laying
    // out) megabytes of text per chunk would freeze the view.
    let shown = plainLength.get(item.id);
    if (shown === undefined || !node.classList.contains('plain')) {
      node.className = `msg ${item.kind} plain`;
      node.replaceChildren(el('div', { class: 'tail' }));
      shown = 0;
    }
    const tail = node.lastElementChild as HTMLElement;
    const fresh = item.text.slice(shown);
    const cut = fresh.lastIndexOf('\n');
    if (cut >= 0) {
      tail.before(el('div', { text: fresh.slice(0, cut) }));
      shown += cut + 1;
    }
    tail.textContent = item.text.slice(shown);
    plainLength.set(item.id, shown);
    return true;
  }
  node.classList.remove('plain');
  plainLength.delete(item.id);
  // Re-rendering Markdown costs time proportional to the text: do it less often for long answers.
  const now = Date.now();
  const last = lastMarkdown.get(item.id) ?? 0;
  if (streaming && !force && now - last < Math.min(500, item.text.length / 500)) {
    dirty.add(item.id);
    if (flushTimer === undefined) flushTimer = setTimeout(flush, 50);
    return false;
  }
  lastMarkdown.set(item.id, now);
  node.innerHTML = renderMarkdown(item.text);
  for (const pre of node.querySelectorAll('pre')) {
    const code = pre.textContent ?? '';
    const btn = el('button', { class: 'copy-btn secondary', 'aria-label': 'Copy code', text: 'Copy' });
    btn.addEventListener('click', () => {
      post({ type: 'copy', text: code });
      btn.textContent = 'Copied';
    });
    pre.append(btn);
  }
  for (const a of node.querySelectorAll('a:not(.file-link)')) {
    a.setAttribute('title', a.getAttribute('href') ?? '');
  }
  if (!streaming && item.text) {
    const copy = el('button', { class: 'secondary copy-msg', 'aria-label': 'Copy answer', text: 'Copy answer' });
    copy.addEventListener('click', () => post({ type: 'copy', text: item.text }));
    node.append(copy);
  }
  return true;
}

function simpleDiff(content: Extract<ToolCallContent, { type: 'diff' }>): HTMLElement {
  const oldLines = (content.oldText ?? '').split('\n');
  const newLines = content.newText.split('\n');
  let start = 0;
  while (start < oldLines.length && start < newLines.length && oldLines[start] === newLines[start]) start++;
  let endOld = oldLines.length - 1;
  let endNew = newLines.length - 1;
  while (endOld >= start && endNew >= start && oldLines[endOld] === newLines[endNew]) {
    endOld--;
    endNew--;
  }
  const pre = el('pre', { class: 'diff', 'aria-label': `Diff of ${content.path}` });
  pre.append(el('div', { text: `--- ${content.path}` }));
  for (let i = Math.max(0, start - 2); i < start; i++) pre.append(el('div', { text: `  ${oldLines[i]}` }));
  for (let i = start; i <= endOld; i++) pre.append(el('div', { class: 'del', text: `- ${oldLines[i]}` }));
  for (let i = start; i <= endNew; i++) pre.append(el('div', { class: 'add', text: `+ ${newLines[i]}` }));
  return pre;
}

function json(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function renderTool(item: ToolItem, existing: HTMLElement | undefined): HTMLElement {
  const open = existing instanceof HTMLDetailsElement ? existing.open : false;
  // A call the person turned down is "rejected" (neutral), not "failed" (red).
  const shown = item.outcome === 'rejected' ? 'rejected' : item.reviewing ? 'reviewing' : item.status;
  const status = STATUS_TEXT[shown] ?? shown;
  const details = el('details', { class: `tool ${shown}`, 'aria-label': `Tool ${item.title}: ${status}` });
  details.open = open;
  details.append(
    el(
      'summary',
      {},
      el('span', { class: 'icon', 'aria-hidden': 'true', text: KIND_ICONS[item.toolKind] ?? KIND_ICONS.other }),
      el('span', { class: 'tool-title', text: item.title }),
      el('span', { class: `status ${shown}`, text: status }),
    ),
  );
  const body = el('div', { class: 'tool-body' });
  for (const loc of item.locations) {
    const link = el('button', {
      class: 'secondary location',
      'aria-label': `Open ${loc.path}`,
      text: `${loc.path}${loc.line ? `:${loc.line}` : ''}`,
    });
    link.addEventListener('click', () => post({ type: 'openFile', path: loc.path, line: loc.line }));
    body.append(link);
  }
  if (item.rawInput !== undefined) {
    body.append(el('div', { class: 'label', text: 'Input' }), el('pre', { text: json(item.rawInput) }));
  }
  for (const c of item.content) {
    if (c.type === 'diff') body.append(simpleDiff(c));
    else if (c.type === 'content' && c.content.type === 'text') body.append(el('pre', { class: 'output', text: c.content.text }));
  }
  if (item.rawOutput !== undefined) {
    body.append(el('div', { class: 'label', text: 'Output' }), el('pre', { text: json(item.rawOutput) }));
  }
  details.append(body);
  return details;
}

function renderPermission(item: PermissionItem): HTMLElement {
  const node = el('div', { class: 'permission', role: 'group', 'aria-label': `Permission request: ${item.title}` });
  // The trust question's title is a whole question ("Start the MCP servers of the project …?").
  node.append(el('div', { class: 'question', text: item.servers ? item.title : `pygent wants to: ${item.title}` }));
  if (item.servers) {
    const list = el('ul', { class: 'servers', 'aria-label': 'MCP servers' });
    for (const server of item.servers) {
      const li = el('li', { class: 'server' }, el('span', { class: 'server-name', text: `${server.name}:` }), ' ');
      li.append(el('code', { class: 'server-command', text: server.target }));
      if (server.details.length) li.append(el('div', { class: 'server-details', text: server.details.join(' · ') }));
      list.append(li);
    }
    node.append(list);
  }
  if (item.note) node.append(el('div', { class: 'note', text: item.note }));
  if (item.detail) node.append(el('pre', { class: 'detail', text: item.detail }));
  const buttons = el('div', { class: 'buttons' });
  const answered = item.answer !== undefined;
  for (const option of item.options) {
    const btn = el('button', {
      class: option.kind.startsWith('allow') ? '' : 'secondary',
      'data-option': option.optionId,
      'aria-label': `${option.name}: ${item.title}`,
      text: option.name,
    });
    if (answered) btn.setAttribute('disabled', '');
    btn.addEventListener('click', () => {
      if (item.answer !== undefined) return;
      post({ type: 'permissionAnswer', requestId: item.requestId, optionId: option.optionId });
    });
    buttons.append(btn);
  }
  node.append(buttons);
  if (answered) {
    const chosen = item.options.find((o) => o.optionId === item.answer);
    node.append(el('div', { class: 'answer', text: chosen ? `Answered: ${chosen.name}` : 'No answer (the turn ended).' }));
  }
  return node;
}

function renderNotice(item: NoticeItem): HTMLElement {
  const node = el('div', {
    class: `notice ${item.level}`,
    role: item.level === 'error' ? 'alert' : 'note',
  });
  node.append(el('div', { class: 'message', text: item.message }));
  if (item.hint) node.append(el('div', { class: 'hint', text: item.hint }));
  if (item.actions) {
    const row = el('div', { class: 'buttons' });
    if (item.actions.includes('resume')) {
      const btn = el('button', { text: 'Restart and resume', 'aria-label': 'Restart the server and resume the session' });
      btn.addEventListener('click', () => post({ type: 'restartServer', resume: true }));
      row.append(btn);
    }
    if (item.actions.includes('restart')) {
      const btn = el('button', { class: item.actions.includes('resume') ? 'secondary' : '', text: 'Restart server' });
      btn.addEventListener('click', () => post({ type: 'restartServer', resume: false }));
      row.append(btn);
    }
    node.append(row);
  }
  return node;
}

const COMMAND_STATUS: Record<CommandItem['status'], string> = { running: 'running…', done: '', failed: 'failed' };

/** A plugin command's card: what was run, by which plugin, and its text (or its error). */
function renderCommand(item: CommandItem): HTMLElement {
  const invocation = `/${item.name}${item.args ? ` ${item.args}` : ''}`;
  const node = el('div', {
    class: `command ${item.status}`,
    role: item.status === 'failed' ? 'alert' : 'note',
    'aria-label': `Command ${invocation}${item.status === 'done' ? '' : `: ${COMMAND_STATUS[item.status]}`}`,
  });
  const head = el('div', { class: 'command-head' }, el('code', { class: 'invocation', text: invocation }));
  if (item.source) head.append(el('span', { class: 'source', text: `plugin ${item.source}` }));
  if (item.status !== 'done') head.append(el('span', { class: `status ${item.status}`, text: COMMAND_STATUS[item.status] }));
  node.append(head);
  if (item.status === 'done') {
    const body = el('div', { class: 'command-output' });
    body.innerHTML = renderMarkdown(item.text);
    node.append(body);
  } else if (item.status === 'failed') {
    node.append(el('div', { class: 'message', text: item.text }));
    if (item.hint) node.append(el('div', { class: 'hint', text: item.hint }));
  }
  return node;
}

function renderPlan(item: PlanItem): HTMLElement {
  const list = el('ol', { class: 'plan', 'aria-label': 'Plan' });
  for (const entry of item.entries) {
    const mark = entry.status === 'completed' ? '✓ ' : entry.status === 'in_progress' ? '… ' : '';
    list.append(el('li', { text: mark + entry.content }));
  }
  return list;
}

function renderHeader(): void {
  titleEl.textContent = state.title ?? '';
  // The modes are the server's (session/new's availableModes); none until a session exists.
  const modes = state.modes;
  const key = modes.map((m) => m.id).join('\n');
  if (modeSelect.dataset.modes !== key) {
    modeSelect.dataset.modes = key;
    modeSelect.replaceChildren(
      ...(modes.length
        ? modes.map((m) => el('option', { value: m.id, text: m.name || m.id, title: m.description ?? '' }))
        : [el('option', { value: '', text: 'mode…' })]),
    );
  }
  modeSelect.disabled = !modes.length;
  if (state.modeId) modeSelect.value = state.modeId;
  const current = modes.find((m) => m.id === state.modeId);
  modeSelect.title = current?.description ? `Permission mode: ${current.description}` : 'Permission mode';
  const usage = formatUsage(state.usage);
  usageEl.textContent = usage;
  usageEl.hidden = !usage;
  modelBtn.textContent = state.model || 'model';
  modelBtn.setAttribute('aria-label', `Model: ${state.model || 'default'}. Change the model`);
  serverEl.textContent =
    state.serverState === 'running' ? '' : state.serverState === 'starting' ? 'starting…' : `server ${state.serverState}`;
  sendBtn.hidden = state.busy;
  cancelBtn.hidden = !state.busy;
  document.body.dataset.busy = String(state.busy);
}

function renderChips(): void {
  chipsEl.replaceChildren(
    ...state.attachments.map((a) => {
      const remove = el('button', { 'aria-label': `Remove attachment ${a.label}`, text: '×' });
      remove.addEventListener('click', () => {
        state.attachments = state.attachments.filter((x) => x.id !== a.id);
        markDirty(['attachments']);
      });
      return el('span', { class: 'chip' }, a.label, remove);
    }),
  );
}

// -- slash commands --------------------------------------------------------------------------

let slashMatches: SlashCommand[] = [];
let slashIndex = 0;

function slashOpen(): boolean {
  return !slashList.hidden && slashMatches.length > 0;
}

function closeSlash(): void {
  slashMatches = [];
  slashList.hidden = true;
  slashList.replaceChildren();
  input.setAttribute('aria-expanded', 'false');
  input.removeAttribute('aria-activedescendant');
}

/** Shows the commands that match the word being typed (`/`, `/sh`), or hides the list. */
function updateSlash(): void {
  const found = completeSlash(input.value, input.selectionStart ?? input.value.length, allCommands(state.commands));
  if (!found || !found.matches.length) {
    closeSlash();
    return;
  }
  const previous = slashMatches[slashIndex]?.name;
  slashMatches = found.matches;
  const keep = slashMatches.findIndex((c) => c.name === previous);
  slashIndex = keep >= 0 ? keep : 0;
  renderSlash();
}

function renderSlash(): void {
  slashList.replaceChildren(
    ...slashMatches.map((c, i) => {
      const option = el(
        'li',
        { id: `slash-${i}`, class: 'slash-option', role: 'option', 'aria-selected': String(i === slashIndex), 'data-name': c.name },
        el('span', { class: 'slash-name', text: `/${c.name}${c.usage ? ` ${c.usage}` : ''}` }),
        el('span', { class: 'slash-help', text: c.help }),
        el('span', { class: 'slash-source', text: c.source }),
      );
      // mousedown, not click: the input keeps the focus.
      option.addEventListener('mousedown', (e) => {
        e.preventDefault();
        slashIndex = i;
        acceptSlash();
      });
      return option;
    }),
  );
  slashList.hidden = false;
  input.setAttribute('aria-expanded', 'true');
  input.setAttribute('aria-activedescendant', `slash-${slashIndex}`);
  slashList.children[slashIndex]?.scrollIntoView({ block: 'nearest' });
}

/** Puts the highlighted command into the input (`/shout `), keeping what follows the word. */
function acceptSlash(): void {
  const command = slashMatches[slashIndex];
  if (!command) return;
  const rest = input.value.replace(/^\/[^\s/]*/, '').replace(/^\s*/, '');
  input.value = `/${command.name} ${rest}`;
  const caret = command.name.length + 2;
  input.selectionStart = input.selectionEnd = caret;
  state.draft = input.value;
  scheduleSave();
  closeSlash();
}

/** Runs a slash command; returns the text to send to the model, or undefined when it was a command. */
function runSlash(text: string): string | undefined {
  const action = resolveSlash(text, state.commands, state.modes);
  if (action.kind === 'prompt') return action.text;
  closeSlash();
  if (action.kind === 'notice') {
    markDirty([addNotice(state, action.level, action.message, action.hint)]);
    // A mistyped command stays in the input, to fix it.
    if (action.level === 'error') return undefined;
  } else {
    post(action.message);
  }
  input.value = '';
  state.draft = '';
  scheduleSave();
  return undefined;
}

// -- input -----------------------------------------------------------------------------------

function send(): void {
  // Commands run also while a turn is running (they do not talk to the model).
  const text = runSlash(input.value);
  if (text === undefined) return;
  if (state.busy || (!text.trim() && !state.attachments.length)) return;
  post({ type: 'send', text, attachments: state.attachments });
  input.value = '';
  state.draft = '';
  state.attachments = [];
  markDirty(['attachments']);
}

input.addEventListener('keydown', (e) => {
  if (slashOpen() && !e.isComposing) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      slashIndex = (slashIndex + step + slashMatches.length) % slashMatches.length;
      renderSlash();
      return;
    }
    if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) {
      e.preventDefault();
      // Enter on a command typed in full runs it; otherwise Enter and Tab complete the name.
      if (e.key === 'Enter' && input.value.trim() === `/${slashMatches[slashIndex].name}`) {
        closeSlash();
        send();
      } else {
        acceptSlash();
      }
      return;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      closeSlash();
      return;
    }
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  } else if (e.key === 'Escape' && state.busy) {
    e.preventDefault();
    post({ type: 'cancel' });
  }
});
input.addEventListener('input', (e) => {
  const ev = e as InputEvent;
  if (ev.data === '@') {
    const pos = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, pos - 1);
    if (before === '' || /\s$/.test(before)) {
      input.value = before + input.value.slice(pos);
      input.selectionStart = input.selectionEnd = before.length;
      post({ type: 'attachFile' });
    }
  }
  state.draft = input.value;
  scheduleSave();
  updateSlash();
});
input.addEventListener('click', updateSlash);
input.addEventListener('blur', closeSlash);
sendBtn.addEventListener('click', send);
cancelBtn.addEventListener('click', () => post({ type: 'cancel' }));
attachBtn.addEventListener('click', () => post({ type: 'attachFile' }));
selectionBtn.addEventListener('click', () => post({ type: 'addSelection' }));
newChatBtn.addEventListener('click', () => post({ type: 'newChat' }));
sessionsBtn.addEventListener('click', () => post({ type: 'pickSession' }));
modelBtn.addEventListener('click', () => post({ type: 'pickModel' }));
modeSelect.addEventListener('change', () => {
  if (modeSelect.value) post({ type: 'setMode', modeId: modeSelect.value as ModeId });
});
// File names in answers (a.file-link, see markdown.ts) open the workspace file, at the line.
transcript.addEventListener('click', (e) => {
  const link = (e.target as Element | null)?.closest?.('a.file-link');
  if (!(link instanceof HTMLAnchorElement)) return;
  e.preventDefault();
  const path = link.dataset.path;
  if (!path) return;
  const line = link.dataset.line ? Number(link.dataset.line) : undefined;
  post(line ? { type: 'openFile', path, line } : { type: 'openFile', path });
});

// -- messages from the extension -------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent) => {
  const msg = event.data as unknown;
  if (!msg || typeof msg !== 'object' || !TO_WEBVIEW_TYPES.has(String((msg as { type?: unknown }).type))) {
    let shown: string;
    try {
      shown = JSON.stringify(msg).slice(0, 200);
    } catch {
      shown = String(msg);
    }
    log('warn', `ignored a message of unknown type: ${shown}`);
    return;
  }
  try {
    const typed = msg as ToWebview;
    const touched = reduce(state, typed);
    if (typed.type === 'attach') input.focus();
    markDirty(touched);
  } catch (err) {
    log('error', `could not show a '${(msg as { type: string }).type}' message: ${String(err)}`);
    markDirty([addNotice(state, 'error', 'pygent could not show part of the answer; see "pygent: Show Logs".')]);
  }
});

input.value = state.draft;
markDirty(['all', 'header', 'attachments']);
flush();
post({ type: 'ready' });
