/**
 * Finding the command that starts `pygent serve`.
 *
 * Order: the `pygent.path` setting, else `pygent` on PATH, else `python -m pygent` with the
 * Python extension's interpreter, else `python3 -m pygent` (`python` on Windows). Each
 * candidate is probed with `--version`; the first that answers wins.
 */

import { execFile } from 'child_process';

export interface PygentCommand {
  command: string;
  args: string[];
  /** Where the candidate came from, for messages. */
  source: 'setting' | 'path' | 'python-extension' | 'python';
}

export const DOCS_URL = 'https://github.com/pygent-dev/pygent/blob/main/docs/editors/vscode.md';

/** Splits a `pygent.path` value into a command and arguments (quotes group words). */
export function splitCommandLine(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of value.trim()) {
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else {
        current += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || current) {
        out.push(current);
        current = '';
        has = false;
      }
    } else {
      current += ch;
    }
  }
  if (has || current) out.push(current);
  return out;
}

export function candidates(
  settingPath: string,
  pythonInterpreter: string | undefined,
  platform: NodeJS.Platform = process.platform,
): PygentCommand[] {
  const out: PygentCommand[] = [];
  const words = splitCommandLine(settingPath);
  if (words.length > 0) {
    out.push({ command: words[0], args: words.slice(1), source: 'setting' });
    // An explicit setting is the only candidate: falling back would hide a typo.
    return out;
  }
  out.push({ command: 'pygent', args: [], source: 'path' });
  if (pythonInterpreter) {
    out.push({ command: pythonInterpreter, args: ['-m', 'pygent'], source: 'python-extension' });
  }
  out.push({ command: platform === 'win32' ? 'python' : 'python3', args: ['-m', 'pygent'], source: 'python' });
  return out;
}

export type Probe = (cmd: PygentCommand) => Promise<{ ok: boolean; output: string }>;

export const execProbe: Probe = (cmd) =>
  new Promise((resolve) => {
    execFile(cmd.command, [...cmd.args, '--version'], { timeout: 15000, windowsHide: true }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      resolve({ ok: !error && /pygent/i.test(output), output: error ? `${error.message}\n${output}` : output });
    });
  });

export class PygentNotFound extends Error {
  constructor(
    message: string,
    readonly tried: string[],
  ) {
    super(message);
  }
}

export function describeCommand(cmd: PygentCommand): string {
  return [cmd.command, ...cmd.args].map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ');
}

/** The first candidate that answers `--version`, or a PygentNotFound naming what was tried and the fix. */
export async function findPygent(list: PygentCommand[], probe: Probe = execProbe): Promise<PygentCommand> {
  const tried: string[] = [];
  for (const cmd of list) {
    const result = await probe(cmd);
    if (result.ok) {
      return cmd;
    }
    tried.push(`${describeCommand(cmd)}: ${firstLine(result.output) || 'no answer'}`);
  }
  const fromSetting = list.length === 1 && list[0].source === 'setting';
  const message = fromSetting
    ? `pygent could not be started with the pygent.path setting (${describeCommand(list[0])}). ` +
      'Fix the setting or install pygent (pip install pygent), then run "pygent: Restart Server".'
    : 'pygent was not found: not on PATH and not installed in the Python environment. ' +
      'Install it (pip install pygent) or set pygent.path, then run "pygent: Restart Server".';
  throw new PygentNotFound(message, tried);
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((l) => l.trim())?.trim().slice(0, 200) ?? '';
}
