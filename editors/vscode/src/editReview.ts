/**
 * Reviewing pygent's edits in a diff editor (`pygent.editReview: diffEditor`).
 *
 * The extension handles `workspace/applyEdit` itself (its middleware for that request): with
 * `refactorPreview` it lets VS Code apply the edit (edits carry change annotations with
 * `needsConfirmation`, so VS Code opens its refactor preview); with `diffEditor` it shows each
 * file as `vscode.diff` of current vs proposed text with Accept / Reject / Reject with reason,
 * and answers `{applied}` accordingly.
 *
 * Everything here is pure apart from the injected {@link ReviewUi}, so it tests without VS Code.
 */

export interface Position {
  line: number;
  character: number;
}

export interface TextEdit {
  range: { start: Position; end: Position };
  newText: string;
  annotationId?: string;
}

export interface TextDocumentEdit {
  textDocument: { uri: string; version?: number | null };
  edits: TextEdit[];
}

export interface CreateFileOp {
  kind: 'create';
  uri: string;
  options?: { overwrite?: boolean; ignoreIfExists?: boolean };
  annotationId?: string;
}

export interface RenameFileOp {
  kind: 'rename';
  oldUri: string;
  newUri: string;
  options?: { overwrite?: boolean; ignoreIfExists?: boolean };
  annotationId?: string;
}

export interface DeleteFileOp {
  kind: 'delete';
  uri: string;
  options?: { recursive?: boolean; ignoreIfNotExists?: boolean };
  annotationId?: string;
}

export type DocumentChange = TextDocumentEdit | CreateFileOp | RenameFileOp | DeleteFileOp;

export interface WorkspaceEdit {
  documentChanges?: DocumentChange[];
  changes?: Record<string, TextEdit[]>;
  changeAnnotations?: Record<string, { label: string; needsConfirmation?: boolean; description?: string }>;
}

export interface ApplyWorkspaceEditParams {
  label?: string;
  edit: WorkspaceEdit;
}

export interface ApplyWorkspaceEditResult {
  applied: boolean;
  failureReason?: string;
}

/** One file's proposed change, as the diff editor shows it. */
export interface FileProposal {
  kind: 'edit' | 'create' | 'delete' | 'rename';
  uri: string;
  /** For renames: the new location. */
  newUri?: string;
  /** Current text ('' for a file that does not exist yet). */
  original: string;
  /** Text after the change ('' for a deletion). */
  proposed: string;
  title: string;
}

export type Decision = { verdict: 'accept' } | { verdict: 'reject'; reason?: string };

export interface ReviewUi {
  /** Current text of a file (open buffer if any, else disk); undefined when it does not exist. */
  readText(uri: string): Promise<string | undefined>;
  /** Shows one proposal and waits for the user's decision. */
  review(proposal: FileProposal, index: number, total: number): Promise<Decision>;
  /** Applies the whole edit once every file was accepted; false when VS Code could not. */
  apply(params: ApplyWorkspaceEditParams): Promise<boolean>;
}

/** UTF-16 offset of an LSP position in `text` (clamped to the text, like VS Code does). */
export function offsetAt(text: string, pos: Position): number {
  let line = 0;
  let offset = 0;
  while (line < pos.line) {
    const next = text.indexOf('\n', offset);
    if (next === -1) {
      return text.length;
    }
    offset = next + 1;
    line++;
  }
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd === -1) lineEnd = text.length;
  if (lineEnd > offset && text[lineEnd - 1] === '\r') lineEnd--;
  return Math.min(offset + Math.max(0, pos.character), lineEnd);
}

/** Applies LSP text edits (non-overlapping, positions in the original text) to `text`. */
export function applyTextEdits(text: string, edits: TextEdit[]): string {
  const spans = edits
    .map((e, i) => ({ start: offsetAt(text, e.range.start), end: offsetAt(text, e.range.end), newText: e.newText, i }))
    .sort((a, b) => a.start - b.start || a.end - b.end || a.i - b.i);
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    if (span.start < cursor) {
      throw new Error('overlapping edits');
    }
    out += text.slice(cursor, span.start) + span.newText;
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

function baseName(uri: string): string {
  const path = uri.split('#')[0].split('?')[0];
  return decodeURIComponent(path.substring(path.lastIndexOf('/') + 1));
}

function isTextDocumentEdit(change: DocumentChange): change is TextDocumentEdit {
  return (change as TextDocumentEdit).textDocument !== undefined;
}

/** The per-file proposals of a workspace edit, in order (edits to one file are merged). */
export async function proposalsFor(
  edit: WorkspaceEdit,
  readText: (uri: string) => Promise<string | undefined>,
): Promise<FileProposal[]> {
  const out: FileProposal[] = [];
  // Text of each file as the earlier changes of this same edit leave it.
  const pending = new Map<string, FileProposal>();
  const current = async (uri: string): Promise<string | undefined> => {
    const p = pending.get(uri);
    if (p) return p.kind === 'delete' ? undefined : p.proposed;
    return readText(uri);
  };
  const changes: DocumentChange[] = edit.documentChanges
    ? edit.documentChanges
    : Object.entries(edit.changes ?? {}).map(([uri, edits]) => ({ textDocument: { uri }, edits }));
  for (const change of changes) {
    if (isTextDocumentEdit(change)) {
      const uri = change.textDocument.uri;
      const before = (await current(uri)) ?? '';
      const proposed = applyTextEdits(before, change.edits);
      const existing = pending.get(uri);
      if (existing) {
        existing.proposed = proposed;
      } else {
        const p: FileProposal = {
          kind: 'edit',
          uri,
          original: before,
          proposed,
          title: `pygent: ${baseName(uri)} (current ↔ proposed)`,
        };
        pending.set(uri, p);
        out.push(p);
      }
    } else if (change.kind === 'create') {
      const before = await current(change.uri);
      const p: FileProposal = {
        kind: 'create',
        uri: change.uri,
        original: before ?? '',
        proposed: '',
        title: `pygent: create ${baseName(change.uri)}`,
      };
      pending.set(change.uri, p);
      out.push(p);
    } else if (change.kind === 'delete') {
      const before = (await current(change.uri)) ?? '';
      const p: FileProposal = {
        kind: 'delete',
        uri: change.uri,
        original: before,
        proposed: '',
        title: `pygent: delete ${baseName(change.uri)}`,
      };
      pending.set(change.uri, p);
      out.push(p);
    } else if (change.kind === 'rename') {
      const before = (await current(change.oldUri)) ?? '';
      const p: FileProposal = {
        kind: 'rename',
        uri: change.oldUri,
        newUri: change.newUri,
        original: before,
        proposed: before,
        title: `pygent: rename ${baseName(change.oldUri)} → ${baseName(change.newUri)}`,
      };
      pending.delete(change.oldUri);
      pending.set(change.newUri, p);
      out.push(p);
    }
  }
  return out;
}

export const DEFAULT_REJECT_REASON = 'The user rejected the edit.';

/**
 * The `workspace/applyEdit` handler for `diffEditor` review: every file must be accepted for the
 * edit to be applied; the first rejection answers `applied: false` with the user's reason.
 */
export function createDiffReviewHandler(ui: ReviewUi) {
  return async (params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> => {
    let proposals: FileProposal[];
    try {
      proposals = await proposalsFor(params.edit, (uri) => ui.readText(uri));
    } catch (err) {
      return { applied: false, failureReason: `The edit could not be shown for review: ${errorMessage(err)}` };
    }
    for (let i = 0; i < proposals.length; i++) {
      const decision = await ui.review(proposals[i], i, proposals.length);
      if (decision.verdict === 'reject') {
        const reason = decision.reason?.trim();
        return {
          applied: false,
          failureReason: reason ? `The user rejected the edit: ${reason}` : DEFAULT_REJECT_REASON,
        };
      }
    }
    let applied: boolean;
    try {
      applied = await ui.apply(params);
    } catch (err) {
      return { applied: false, failureReason: `VS Code could not apply the edit: ${errorMessage(err)}` };
    }
    return applied
      ? { applied: true }
      : { applied: false, failureReason: 'VS Code could not apply the edit (the file changed meanwhile?).' };
  };
}

/** What a refactor-preview apply answers: VS Code returns false when the user discards it. */
export function previewResult(applied: boolean): ApplyWorkspaceEditResult {
  return applied ? { applied: true } : { applied: false, failureReason: 'The user discarded the edit in the refactor preview.' };
}

/**
 * What a refactor-preview apply really did. VS Code answers "applied" even when the user unticked
 * some changes in the preview, so every file is compared with what was proposed: a partial apply is
 * reported as `applied: false`, naming the files that differ, so the model re-reads them.
 * Line endings are compared loosely (VS Code converts inserted text to the document's EOL).
 */
export async function verifyPreviewApply(
  proposals: FileProposal[],
  readText: (uri: string) => Promise<string | undefined>,
  exists: (uri: string) => Promise<boolean> = async (uri) => (await readText(uri)) !== undefined,
): Promise<ApplyWorkspaceEditResult> {
  const differing: string[] = [];
  const norm = (text: string) => text.replace(/\r\n/g, '\n');
  for (const p of proposals) {
    if (p.kind === 'delete') {
      if (await exists(p.uri)) differing.push(`${baseName(p.uri)} (not deleted)`);
      continue;
    }
    const target = p.kind === 'rename' && p.newUri ? p.newUri : p.uri;
    const now = await readText(target);
    if (now === undefined) {
      differing.push(`${baseName(target)} (missing)`);
    } else if (norm(now) !== norm(p.proposed)) {
      differing.push(baseName(target));
    }
  }
  if (differing.length === 0) return { applied: true };
  return {
    applied: false,
    failureReason:
      'The user applied only part of this edit in the refactor preview (some changes were unticked). ' +
      `These files differ from what you proposed: ${differing.join(', ')}. Read them again before continuing.`,
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
