/**
 * Errors from the pygent server, for people. pygent's JSON-RPC error `message` already ends with
 * its `data.hint` (so plain clients show both); a client that shows the hint on its own line
 * takes it off the message first, or the person reads it twice.
 */

/** The error's message (or its text when it is not a JSON-RPC error). */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

/** The error's `data.hint`, when the server sent one. */
export function errorHint(err: unknown): string | undefined {
  const data = (err as { data?: { hint?: unknown } } | undefined)?.data;
  return typeof data?.hint === 'string' && data.hint !== '' ? data.hint : undefined;
}

/** `message` without a trailing `hint` (and the space before it); unchanged when it does not end so. */
export function withoutHint(message: string, hint: string | undefined): string {
  if (!hint || !message.endsWith(hint) || message.length === hint.length) return message;
  return message.slice(0, -hint.length).trimEnd();
}

/** The message to show and the hint to show under it, each once. */
export function errorParts(err: unknown): { message: string; hint: string | undefined } {
  const hint = errorHint(err);
  return { message: withoutHint(errorText(err), hint), hint };
}
