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

/** One file of `_meta.pygent.files`: its whole text before and after the change. */
export interface EditFileMeta {
  uri: string;
  /** Set for a rename: where the file was. */
  oldUri?: string;
  /** null for a file the change creates. */
  oldText: string | null;
  /** null for a file the change deletes. */
  newText: string | null;
}

export interface ApplyWorkspaceEditParams {
  label?: string;
  edit: WorkspaceEdit;
  /** pygent's server always sends these: the review shows them instead of replaying `edit`. */
  _meta?: { pygent?: { toolCallId?: string; files?: EditFileMeta[] } };
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
  /** Shows one proposal and waits for the user's decision. */
  review(proposal: FileProposal, index: number, total: number): Promise<Decision>;
  /** Applies the whole edit once every file was accepted; false when VS Code could not. */
  apply(params: ApplyWorkspaceEditParams): Promise<boolean>;
}

function baseName(uri: string): string {
  const path = uri.split('#')[0].split('?')[0];
  return decodeURIComponent(path.substring(path.lastIndexOf('/') + 1));
}

/**
 * The per-file proposals of an applyEdit request, from the server's own before/after texts
 * (`_meta.pygent.files`); nothing is re-derived from the WorkspaceEdit's ranges. Several changes
 * of one file show as one proposal (first text before, last text after). Throws, naming what is
 * wrong, when the request carries no (or malformed) `_meta.pygent.files`.
 */
export function proposalsFromMeta(params: ApplyWorkspaceEditParams): FileProposal[] {
  const files = params._meta?.pygent?.files;
  if (!Array.isArray(files)) {
    throw new Error(
      'the request has no _meta.pygent.files (is the server an older pygent? update it so the extension and the server come from the same release)',
    );
  }
  const out: FileProposal[] = [];
  const byUri = new Map<string, FileProposal>();
  files.forEach((file, i) => {
    if (!file || typeof file !== 'object' || typeof file.uri !== 'string') {
      throw new Error(`_meta.pygent.files[${i}] has no uri`);
    }
    const oldText = typeof file.oldText === 'string' ? file.oldText : null;
    const newText = typeof file.newText === 'string' ? file.newText : null;
    const existing = byUri.get(file.uri);
    if (existing) {
      existing.proposed = newText ?? '';
      if (newText === null) existing.kind = 'delete';
      return;
    }
    let p: FileProposal;
    if (typeof file.oldUri === 'string') {
      p = {
        kind: 'rename',
        uri: file.oldUri,
        newUri: file.uri,
        original: oldText ?? '',
        proposed: newText ?? '',
        title: `pygent: rename ${baseName(file.oldUri)} → ${baseName(file.uri)}`,
      };
    } else if (oldText === null && newText !== null) {
      p = { kind: 'create', uri: file.uri, original: '', proposed: newText, title: `pygent: create ${baseName(file.uri)}` };
    } else if (newText === null) {
      p = { kind: 'delete', uri: file.uri, original: oldText ?? '', proposed: '', title: `pygent: delete ${baseName(file.uri)}` };
    } else {
      p = {
        kind: 'edit',
        uri: file.uri,
        original: oldText ?? '',
        proposed: newText,
        title: `pygent: ${baseName(file.uri)} (current ↔ proposed)`,
      };
    }
    byUri.set(file.uri, p);
    out.push(p);
  });
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
      proposals = proposalsFromMeta(params);
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
