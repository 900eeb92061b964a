import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { errorHint, errorParts, errorText, withoutHint } from '../../src/rpcErrors';

const HINT = 'Check llm.api_base; it usually ends in /v1.';

describe('pygent errors for people', () => {
  it('shows the hint once: taken off the end of the message, kept apart', () => {
    const err = { code: -31011, message: `The server answered 404. ${HINT}`, data: { hint: HINT } };
    assert.deepEqual(errorParts(err), { message: 'The server answered 404.', hint: HINT });
  });

  it('keeps a message that does not end with its hint whole', () => {
    const err = { message: 'Something broke.', data: { hint: HINT } };
    assert.deepEqual(errorParts(err), { message: 'Something broke.', hint: HINT });
  });

  it('never empties a message that is only the hint', () => {
    assert.equal(withoutHint(HINT, HINT), HINT);
  });

  it('copes with errors that are not JSON-RPC errors', () => {
    assert.equal(errorText(new Error('boom')), 'boom');
    assert.equal(errorText('plain'), 'plain');
    assert.equal(errorHint(undefined), undefined);
    assert.equal(errorHint({ data: { hint: 3 } }), undefined);
    assert.equal(errorHint({ data: { hint: '' } }), undefined);
    assert.deepEqual(errorParts(null), { message: 'null', hint: undefined });
  });
});
