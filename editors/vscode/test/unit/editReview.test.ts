import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  applyTextEdits,
  createDiffReviewHandler,
  DEFAULT_REJECT_REASON,
  offsetAt,
  previewResult,
  proposalsFor,
  type ApplyWorkspaceEditParams,
  type Decision,
  type FileProposal,
  type ReviewUi,
  type TextDocumentEdit,
  verifyPreviewApply,
} from '../../src/editReview';

const UTIL = 'file:///home/u/proj/util.py';

// The edit of the reference transcript (docs: protocol-examples.md).
const docstringEdit: ApplyWorkspaceEditParams = {
  label: 'Edit util.py',
  edit: {
    documentChanges: [
      {
        textDocument: { uri: UTIL, version: 7 },
        edits: [
          {
            range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } },
            newText: '    """Add two numbers."""\n',
            annotationId: 'pygent-call_1',
          },
        ],
      },
    ],
    changeAnnotations: { 'pygent-call_1': { label: 'Edit util.py', needsConfirmation: true } },
  },
};

function fakeUi(files: Record<string, string>, decisions: Decision[], applyOk = true) {
  const reviewed: FileProposal[] = [];
  const applied: ApplyWorkspaceEditParams[] = [];
  const ui: ReviewUi = {
    readText: async (uri) => files[uri],
    review: async (proposal) => {
      reviewed.push(proposal);
      const d = decisions.shift();
      assert.ok(d, 'no decision left');
      return d;
    },
    apply: async (params) => {
      applied.push(params);
      return applyOk;
    },
  };
  return { ui, reviewed, applied };
}

describe('applyTextEdits', () => {
  it('inserts, replaces and deletes at LSP positions', () => {
    const text = 'def add(a, b):\n    return a + b\n';
    assert.equal(
      applyTextEdits(text, (docstringEdit.edit.documentChanges![0] as TextDocumentEdit).edits),
      'def add(a, b):\n    """Add two numbers."""\n    return a + b\n',
    );
    assert.equal(
      applyTextEdits('abc\ndef\n', [
        { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }, newText: 'XYZ' },
        { range: { start: { line: 0, character: 1 }, end: { line: 0, character: 2 } }, newText: '' },
      ]),
      'ac\nXYZ\n',
    );
  });

  it('clamps positions past the end of a line or file, and handles CRLF', () => {
    assert.equal(offsetAt('ab\r\ncd', { line: 0, character: 99 }), 2);
    assert.equal(offsetAt('ab\ncd', { line: 9, character: 0 }), 5);
    assert.equal(offsetAt('ab\ncd', { line: 1, character: 1 }), 4);
  });

  it('refuses overlapping edits', () => {
    assert.throws(() =>
      applyTextEdits('abcdef', [
        { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } }, newText: '' },
        { range: { start: { line: 0, character: 2 }, end: { line: 0, character: 5 } }, newText: '' },
      ]),
    );
  });
});

describe('proposalsFor', () => {
  it('shows a create followed by its content as one new file, and a delete', async () => {
    const NEW = 'file:///p/new.py';
    const OLD = 'file:///p/old.py';
    const proposals = await proposalsFor(
      {
        documentChanges: [
          { kind: 'create', uri: NEW },
          { textDocument: { uri: NEW, version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'x = 1\n' }] },
          { kind: 'delete', uri: OLD },
        ],
      },
      async (uri) => (uri === OLD ? 'gone\n' : undefined),
    );
    assert.deepEqual(
      proposals.map((p) => [p.kind, p.uri, p.original, p.proposed]),
      [
        ['create', NEW, '', 'x = 1\n'],
        ['delete', OLD, 'gone\n', ''],
      ],
    );
  });

  it('accepts the older `changes` map', async () => {
    const proposals = await proposalsFor(
      { changes: { [UTIL]: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: 'D' }] } },
      async () => 'def f(): pass\n',
    );
    assert.equal(proposals[0].proposed, 'Def f(): pass\n');
  });
});

describe('diff editor review (the applyEdit middleware)', () => {
  it('applies when the user accepts, showing current vs proposed', async () => {
    const { ui, reviewed, applied } = fakeUi({ [UTIL]: 'def add(a, b):\n    return a + b\n' }, [{ verdict: 'accept' }]);
    const result = await createDiffReviewHandler(ui)(docstringEdit);
    assert.deepEqual(result, { applied: true });
    assert.equal(reviewed.length, 1);
    assert.equal(reviewed[0].original, 'def add(a, b):\n    return a + b\n');
    assert.equal(reviewed[0].proposed, 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n');
    assert.equal(applied.length, 1);
  });

  it('answers applied:false with the reason when the user rejects', async () => {
    const { ui, applied } = fakeUi({ [UTIL]: 'def add(a, b):\n' }, [{ verdict: 'reject', reason: 'use Google style' }]);
    const result = await createDiffReviewHandler(ui)(docstringEdit);
    assert.deepEqual(result, { applied: false, failureReason: 'The user rejected the edit: use Google style' });
    assert.equal(applied.length, 0, 'nothing applied');
  });

  it('a plain reject has a default reason', async () => {
    const { ui } = fakeUi({ [UTIL]: '' }, [{ verdict: 'reject' }]);
    assert.deepEqual(await createDiffReviewHandler(ui)(docstringEdit), { applied: false, failureReason: DEFAULT_REJECT_REASON });
  });

  it('every file must be accepted: the second file rejected applies nothing', async () => {
    const A = 'file:///p/a.py';
    const B = 'file:///p/b.py';
    const ins = (t: string) => [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: t }];
    const { ui, reviewed, applied } = fakeUi({ [A]: 'a\n', [B]: 'b\n' }, [{ verdict: 'accept' }, { verdict: 'reject' }]);
    const result = await createDiffReviewHandler(ui)({
      edit: { documentChanges: [{ textDocument: { uri: A }, edits: ins('1') }, { textDocument: { uri: B }, edits: ins('2') }] },
    });
    assert.equal(result.applied, false);
    assert.equal(reviewed.length, 2);
    assert.equal(applied.length, 0);
  });

  it('reports when VS Code cannot apply, and when the edit cannot be shown', async () => {
    const { ui } = fakeUi({ [UTIL]: 'x\n' }, [{ verdict: 'accept' }], false);
    const failed = await createDiffReviewHandler(ui)(docstringEdit);
    assert.equal(failed.applied, false);
    assert.match(failed.failureReason ?? '', /could not apply/);
    const broken = fakeUi({}, []);
    broken.ui.readText = async () => {
      throw new Error('disk on fire');
    };
    const shown = await createDiffReviewHandler(broken.ui)(docstringEdit);
    assert.equal(shown.applied, false);
    assert.match(shown.failureReason ?? '', /could not be shown for review: disk on fire/);
  });

  it('refactor preview: a discarded preview answers applied:false', () => {
    assert.deepEqual(previewResult(true), { applied: true });
    assert.match(previewResult(false).failureReason ?? '', /discarded/);
  });

  it('refactor preview: unticked changes are reported as a partial apply, not applied:true', async () => {
    const proposals: FileProposal[] = [
      { kind: 'edit', uri: 'file:///p/a.py', original: 'a\n', proposed: 'A\n', title: 'a' },
      { kind: 'edit', uri: 'file:///p/b.py', original: 'b\n', proposed: 'B\n', title: 'b' },
      { kind: 'delete', uri: 'file:///p/c.py', original: 'c\n', proposed: '', title: 'c' },
    ];
    // Everything as proposed (CRLF on disk counts as the same text): applied.
    const all: Record<string, string> = { 'file:///p/a.py': 'A\r\n', 'file:///p/b.py': 'B\n' };
    assert.deepEqual(await verifyPreviewApply(proposals, async (u) => all[u]), { applied: true });
    // b.py unticked and c.py kept: not applied, and the model is told which files differ.
    const partial: Record<string, string> = { 'file:///p/a.py': 'A\n', 'file:///p/b.py': 'b\n', 'file:///p/c.py': 'c\n' };
    const result = await verifyPreviewApply(proposals, async (u) => partial[u]);
    assert.equal(result.applied, false);
    assert.match(result.failureReason ?? '', /only part of this edit/);
    assert.match(result.failureReason ?? '', /b\.py, c\.py \(not deleted\)/);
    assert.doesNotMatch(result.failureReason ?? '', /a\.py/);
  });
});
