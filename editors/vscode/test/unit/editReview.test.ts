import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createDiffReviewHandler,
  DEFAULT_REJECT_REASON,
  previewResult,
  proposalsFromMeta,
  type ApplyWorkspaceEditParams,
  type Decision,
  type FileProposal,
  type ReviewUi,
  verifyPreviewApply,
} from '../../src/editReview';

const UTIL = 'file:///home/u/proj/util.py';
const BEFORE = 'def add(a, b):\n    return a + b\n';
const AFTER = 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n';

// The edit of the reference transcript (docs: protocol-examples.md), with the server's _meta.
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
  _meta: { pygent: { toolCallId: 'call_1', files: [{ uri: UTIL, oldText: BEFORE, newText: AFTER }] } },
};

function fakeUi(decisions: Decision[], applyOk = true) {
  const reviewed: FileProposal[] = [];
  const applied: ApplyWorkspaceEditParams[] = [];
  const ui: ReviewUi = {
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

describe('proposalsFromMeta', () => {
  it("shows the server's texts, not a replay of the edit's ranges", () => {
    // The range says line 9: replaying it would give another text. _meta is what the server computed.
    const params: ApplyWorkspaceEditParams = {
      edit: { documentChanges: [{ textDocument: { uri: UTIL }, edits: [{ range: { start: { line: 9, character: 0 }, end: { line: 9, character: 0 } }, newText: 'BOGUS' }] }] },
      _meta: { pygent: { files: [{ uri: UTIL, oldText: BEFORE, newText: AFTER }] } },
    };
    assert.deepEqual(
      proposalsFromMeta(params).map((p) => [p.kind, p.uri, p.original, p.proposed]),
      [['edit', UTIL, BEFORE, AFTER]],
    );
  });

  it('a created, a deleted and a renamed file; two changes of one file are one proposal', () => {
    const NEW = 'file:///p/new.py';
    const OLD = 'file:///p/old.py';
    const FROM = 'file:///p/from.py';
    const TO = 'file:///p/to.py';
    const proposals = proposalsFromMeta({
      edit: {},
      _meta: {
        pygent: {
          files: [
            { uri: NEW, oldText: null, newText: 'x = 1\n' },
            { uri: OLD, oldText: 'gone\n', newText: null },
            { uri: TO, oldUri: FROM, oldText: 'M = 1\n', newText: 'M = 1\n' },
            { uri: NEW, oldText: 'x = 1\n', newText: 'x = 2\n' },
          ],
        },
      },
    });
    assert.deepEqual(
      proposals.map((p) => [p.kind, p.uri, p.newUri, p.original, p.proposed]),
      [
        ['create', NEW, undefined, '', 'x = 2\n'],
        ['delete', OLD, undefined, 'gone\n', ''],
        ['rename', FROM, TO, 'M = 1\n', 'M = 1\n'],
      ],
    );
  });

  it('refuses a request without _meta.pygent.files, or with an entry without uri, saying what is wrong', () => {
    assert.throws(() => proposalsFromMeta({ edit: {} }), /no _meta\.pygent\.files.*update it/);
    assert.throws(
      () => proposalsFromMeta({ edit: {}, _meta: { pygent: { files: [{ oldText: 'a', newText: 'b' } as never] } } }),
      /_meta\.pygent\.files\[0\] has no uri/,
    );
  });
});

describe('diff editor review (the applyEdit middleware)', () => {
  it('applies when the user accepts, showing current vs proposed', async () => {
    const { ui, reviewed, applied } = fakeUi([{ verdict: 'accept' }]);
    const result = await createDiffReviewHandler(ui)(docstringEdit);
    assert.deepEqual(result, { applied: true });
    assert.equal(reviewed.length, 1);
    assert.equal(reviewed[0].original, 'def add(a, b):\n    return a + b\n');
    assert.equal(reviewed[0].proposed, 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n');
    assert.equal(applied.length, 1);
  });

  it('answers applied:false with the reason when the user rejects', async () => {
    const { ui, applied } = fakeUi([{ verdict: 'reject', reason: 'use Google style' }]);
    const result = await createDiffReviewHandler(ui)(docstringEdit);
    assert.deepEqual(result, { applied: false, failureReason: 'The user rejected the edit: use Google style' });
    assert.equal(applied.length, 0, 'nothing applied');
  });

  it('a plain reject has a default reason', async () => {
    const { ui } = fakeUi([{ verdict: 'reject' }]);
    assert.deepEqual(await createDiffReviewHandler(ui)(docstringEdit), { applied: false, failureReason: DEFAULT_REJECT_REASON });
  });

  it('every file must be accepted: the second file rejected applies nothing', async () => {
    const A = 'file:///p/a.py';
    const B = 'file:///p/b.py';
    const { ui, reviewed, applied } = fakeUi([{ verdict: 'accept' }, { verdict: 'reject' }]);
    const result = await createDiffReviewHandler(ui)({
      edit: {},
      _meta: { pygent: { files: [{ uri: A, oldText: 'a\n', newText: '1a\n' }, { uri: B, oldText: 'b\n', newText: '2b\n' }] } },
    });
    assert.equal(result.applied, false);
    assert.equal(reviewed.length, 2);
    assert.equal(applied.length, 0);
  });

  it('reports when VS Code cannot apply, and when the edit cannot be shown', async () => {
    const { ui } = fakeUi([{ verdict: 'accept' }], false);
    const failed = await createDiffReviewHandler(ui)(docstringEdit);
    assert.equal(failed.applied, false);
    assert.match(failed.failureReason ?? '', /could not apply/);
    const broken = fakeUi([]);
    const shown = await createDiffReviewHandler(broken.ui)({ label: 'x', edit: docstringEdit.edit });
    assert.equal(shown.applied, false);
    assert.match(shown.failureReason ?? '', /could not be shown for review: the request has no _meta\.pygent\.files/);
    assert.equal(broken.reviewed.length + broken.applied.length, 0, 'nothing shown, nothing applied');
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

describe('the recorded turn (tests/fixtures/recorded_turn.json)', () => {
  it("its applyEdit requests review from _meta and are answered as the recorded client did", async () => {
    const fixture = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'tests', 'fixtures', 'recorded_turn.json'), 'utf8'),
    ) as { messages: { from: string; message: { id?: string; method?: string; params?: ApplyWorkspaceEditParams; result?: { applied?: boolean } } }[] };
    const answers = new Map(fixture.messages.filter((m) => m.from === 'client' && m.message.result).map((m) => [m.message.id, m.message.result]));
    const edits = fixture.messages.filter((m) => m.message.method === 'workspace/applyEdit');
    assert.ok(edits.length >= 2, 'the recording has an accepted and a rejected edit');
    for (const { message } of edits) {
      const params = message.params!;
      const recorded = answers.get(message.id)!;
      const proposals = proposalsFromMeta(params);
      assert.deepEqual(
        proposals.map((p) => p.proposed),
        params._meta!.pygent!.files!.map((f) => f.newText ?? ''),
      );
      const { ui, reviewed, applied } = fakeUi(recorded.applied ? [{ verdict: 'accept' }] : [{ verdict: 'reject', reason: 'not now' }]);
      const result = await createDiffReviewHandler(ui)(params);
      assert.equal(result.applied, recorded.applied, params.label);
      assert.equal(reviewed.length, proposals.length);
      assert.equal(applied.length, recorded.applied ? 1 : 0);
    }
  });
});
