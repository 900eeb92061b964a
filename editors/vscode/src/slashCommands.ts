/**
 * Slash commands of the chat: the built-in ones (`/help`, `/new`, `/sessions`, `/model`, `/mode`)
 * and the plugins' (listed by the server with `pygent/commands/list`, run with
 * `pygent/commands/run`). Pure (no DOM, no `vscode`): the webview completes and dispatches with
 * it, the unit tests drive it directly.
 */

import type { FromWebview, ModeInfo, PluginCommand } from './protocol';

/** One entry of the completion list. `source` is `built-in` or the plugin's name. */
export interface SlashCommand {
  name: string;
  /** What the command takes after its name, for the completion list (`[NAME]`). */
  usage?: string;
  help: string;
  source: string;
}

export const BUILTIN_SOURCE = 'built-in';

export const BUILTIN_COMMANDS: readonly SlashCommand[] = [
  { name: 'help', help: 'List the commands', source: BUILTIN_SOURCE },
  { name: 'new', help: 'Start a new chat session', source: BUILTIN_SOURCE },
  { name: 'sessions', help: 'Resume an earlier session of this workspace', source: BUILTIN_SOURCE },
  { name: 'model', usage: '[NAME]', help: 'Switch the model (no name: asks for one)', source: BUILTIN_SOURCE },
  { name: 'mode', usage: '[MODE]', help: 'Switch the permission mode (no mode: pick one)', source: BUILTIN_SOURCE },
];

/**
 * The commands the chat offers: the built-in ones, then the plugins' sorted by name. A plugin
 * command named like a built-in one is left out (the built-in one runs for that name).
 */
export function allCommands(plugin: readonly PluginCommand[]): SlashCommand[] {
  const builtin = new Set(BUILTIN_COMMANDS.map((c) => c.name));
  const extra = plugin
    .filter((c) => !builtin.has(c.name))
    .map((c) => ({ name: c.name, help: c.help, source: c.source }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [...BUILTIN_COMMANDS, ...extra];
}

/** The commands the plugin list shadows (named like a built-in one), for a warning in the log. */
export function shadowedPluginCommands(plugin: readonly PluginCommand[]): PluginCommand[] {
  const builtin = new Set(BUILTIN_COMMANDS.map((c) => c.name));
  return plugin.filter((c) => builtin.has(c.name));
}

/**
 * The plugin commands of a `pygent/commands/list` answer, keeping only well-formed entries
 * (a name without spaces, text help and source). Anything else is an empty list.
 */
export function parseCommandList(answer: unknown): PluginCommand[] {
  const commands = (answer as { commands?: unknown } | null | undefined)?.commands;
  if (!Array.isArray(commands)) return [];
  const out: PluginCommand[] = [];
  for (const c of commands) {
    if (!c || typeof c !== 'object') continue;
    const { name, help, source } = c as Record<string, unknown>;
    if (typeof name !== 'string' || !/^[^\s/]+$/.test(name)) continue;
    out.push({ name, help: typeof help === 'string' ? help : '', source: typeof source === 'string' ? source : 'plugin' });
  }
  return out;
}

/** What the person typed while the completion list should show: the word after `/` so far. */
export interface SlashQuery {
  /** The text typed after the slash, up to the caret. */
  query: string;
  matches: SlashCommand[];
}

/**
 * The completion list for `text` with the caret at `caret`: shown while the caret is in the
 * first word and that word starts with `/` (`/sh|` lists `/shout`). Names that start with the
 * query come first, then names that contain it.
 */
export function completeSlash(text: string, caret: number, commands: readonly SlashCommand[]): SlashQuery | undefined {
  const before = text.slice(0, caret);
  const match = /^\/([^\s/]*)$/.exec(before);
  if (!match) return undefined;
  // The caret must also be at the end of the word (no completion in the middle of `/sho|ut`).
  if (caret < text.length && !/\s/.test(text[caret])) return undefined;
  const query = match[1].toLowerCase();
  const starts = commands.filter((c) => c.name.toLowerCase().startsWith(query));
  const contains = commands.filter((c) => !c.name.toLowerCase().startsWith(query) && c.name.toLowerCase().includes(query));
  return { query: match[1], matches: [...starts, ...contains] };
}

/** `/name args` split, or undefined when `text` is not a command (see {@link resolveSlash}). */
export function parseSlash(text: string): { name: string; args: string } | undefined {
  const match = /^\/([^\s/]+)(?:\s+([\s\S]*))?$/.exec(text.trimEnd());
  if (!match) return undefined;
  return { name: match[1], args: (match[2] ?? '').trim() };
}

/** What sending `text` does. */
export type SlashAction =
  /** Not a command: send `text` to the model (`//word` arrives as `/word`). */
  | { kind: 'prompt'; text: string }
  /** Post this to the extension (a built-in command, or `runCommand` for a plugin's). */
  | { kind: 'post'; message: FromWebview }
  /** Show this in the chat (`/help`, or an error; the typed text stays in the input on error). */
  | { kind: 'notice'; level: 'info' | 'error'; message: string; hint?: string };

/** The help text `/help` shows: one line per command with its source. */
export function helpText(commands: readonly SlashCommand[]): string {
  const lines = ['Commands (type / in the prompt to complete them):'];
  for (const c of commands) {
    const usage = c.usage ? ` ${c.usage}` : '';
    const source = c.source === BUILTIN_SOURCE ? '' : ` (plugin ${c.source})`;
    lines.push(`/${c.name}${usage} — ${c.help || 'no description'}${source}`);
  }
  return lines.join('\n');
}

const PROMPT_HINT = 'To send text that starts with / to the model, type // instead of /.';

/**
 * What sending `text` does. A message is a command when it starts with `/` and a word with no
 * further slash (`/usr/bin/python fails` is a prompt); a command nobody knows is an error that
 * lists the known ones, never a prompt sent by accident. `//word …` sends `/word …` to the model.
 *
 * @param plugin The server's plugin commands (`pygent/commands/list`).
 * @param modes The server's permission modes (empty before a session exists).
 */
export function resolveSlash(text: string, plugin: readonly PluginCommand[], modes: readonly ModeInfo[]): SlashAction {
  const parsed = parseSlash(text);
  if (!parsed) return { kind: 'prompt', text: /^\/\/[^\s/]/.test(text) ? text.slice(1) : text };
  const { name, args } = parsed;
  const commands = allCommands(plugin);
  switch (name) {
    case 'help':
      return { kind: 'notice', level: 'info', message: helpText(commands) };
    case 'new':
      return { kind: 'post', message: { type: 'newChat' } };
    case 'sessions':
      return { kind: 'post', message: { type: 'pickSession' } };
    case 'model':
      if (!args) return { kind: 'post', message: { type: 'pickModel' } };
      if (/\s/.test(args)) {
        return { kind: 'notice', level: 'error', message: `A model name has no spaces: ${JSON.stringify(args)}.`, hint: 'Example: /model openai/gpt-4.1' };
      }
      return { kind: 'post', message: { type: 'setModel', model: args } };
    case 'mode': {
      if (!args) return { kind: 'post', message: { type: 'pickMode' } };
      const known = modes.map((m) => m.id);
      if (!/^[\w-]+$/.test(args) || (known.length && !known.includes(args))) {
        return {
          kind: 'notice',
          level: 'error',
          message: `Unknown permission mode ${JSON.stringify(args)}.`,
          hint: known.length ? `Use one of: ${known.join(', ')}.` : 'Example: /mode auto-edit',
        };
      }
      return { kind: 'post', message: { type: 'setMode', modeId: args } };
    }
    default:
      break;
  }
  const command = plugin.find((c) => c.name === name);
  if (command) return { kind: 'post', message: { type: 'runCommand', name, args } };
  return {
    kind: 'notice',
    level: 'error',
    message: `Unknown command /${name}.`,
    hint: `Commands: ${commands.map((c) => `/${c.name}`).join(', ')}. ${PROMPT_HINT}`,
  };
}
