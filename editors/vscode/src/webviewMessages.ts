/**
 * Checks what the webview posts before the extension acts on it. A message of an unknown type,
 * or with missing fields, is ignored and the reason logged (never thrown).
 */

import { FROM_WEBVIEW_TYPES, type FromWebview } from './protocol';

export type Parsed = { ok: true; message: FromWebview } | { ok: false; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function parseWebviewMessage(raw: unknown): Parsed {
  if (!isObject(raw)) {
    return { ok: false, reason: `ignored a webview message that is not an object: ${describe(raw)}` };
  }
  const type = raw.type;
  if (typeof type !== 'string' || !(FROM_WEBVIEW_TYPES as readonly string[]).includes(type)) {
    return { ok: false, reason: `ignored a webview message of unknown type ${JSON.stringify(type)}` };
  }
  const bad = (field: string): Parsed => ({
    ok: false,
    reason: `ignored a webview '${type}' message: ${field}`,
  });
  switch (type) {
    case 'send':
      if (typeof raw.text !== 'string') return bad('text must be a string');
      if (!Array.isArray(raw.attachments)) return bad('attachments must be a list');
      for (const a of raw.attachments) {
        if (!isObject(a) || !isObject(a.block) || typeof a.block.type !== 'string') {
          return bad('every attachment needs a block');
        }
      }
      break;
    case 'permissionAnswer':
      if (typeof raw.requestId !== 'string') return bad('requestId must be a string');
      if (raw.optionId !== null && typeof raw.optionId !== 'string') return bad('optionId must be a string or null');
      break;
    case 'setMode':
      // Which ids exist is the server's business (it answers an unknown one with the valid list).
      if (typeof raw.modeId !== 'string' || !/^[\w-]+$/.test(raw.modeId)) return bad('modeId must be a mode id such as "ask"');
      break;
    case 'setModel':
      if (typeof raw.model !== 'string' || !/^\S+$/.test(raw.model)) return bad('model must be a model name without spaces');
      break;
    case 'runCommand':
      if (typeof raw.name !== 'string' || !/^[^\s/]+$/.test(raw.name)) return bad('name must be a command name without the slash, e.g. "wc"');
      if (typeof raw.args !== 'string') return bad('args must be a string');
      break;
    case 'restartServer':
      if (typeof raw.resume !== 'boolean') return bad('resume must be true or false');
      break;
    case 'openFile':
      if (typeof raw.path !== 'string' || raw.path === '') return bad('path must be a non-empty string');
      if (raw.line !== undefined && (typeof raw.line !== 'number' || !Number.isInteger(raw.line) || raw.line < 1)) {
        return bad('line must be a positive whole number');
      }
      break;
    case 'copy':
      if (typeof raw.text !== 'string') return bad('text must be a string');
      break;
    case 'log':
      if (typeof raw.message !== 'string') return bad('message must be a string');
      break;
    default:
      break;
  }
  return { ok: true, message: raw as unknown as FromWebview };
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value);
  }
}
