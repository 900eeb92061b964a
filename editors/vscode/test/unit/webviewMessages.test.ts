import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../../src/webviewMessages';

describe('webview messages', () => {
  it('accepts the known messages', () => {
    for (const msg of [
      { type: 'ready' },
      { type: 'send', text: 'hi', attachments: [] },
      { type: 'cancel' },
      { type: 'permissionAnswer', requestId: 'p1', optionId: 'allow_once' },
      { type: 'permissionAnswer', requestId: 'p1', optionId: null },
      { type: 'setMode', modeId: 'plan' },
      { type: 'restartServer', resume: true },
      { type: 'openFile', path: '/x.py', line: 3 },
      { type: 'openFile', path: 'src/app.py' },
      { type: 'setMode', modeId: 'a-mode-only-a-newer-server-knows' },
      { type: 'pickMode' },
      { type: 'setModel', model: 'openai/gpt-4.1' },
      { type: 'runCommand', name: 'shout', args: 'hello there' },
      { type: 'runCommand', name: 'shout', args: '' },
    ]) {
      assert.equal(parseWebviewMessage(msg).ok, true, JSON.stringify(msg));
    }
  });

  it('ignores an unknown type with a reason that names it', () => {
    const parsed = parseWebviewMessage({ type: 'launchMissiles', target: 'moon' });
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.reason, /unknown type "launchMissiles"/);
  });

  it('ignores malformed messages', () => {
    const cases: unknown[] = [
      null,
      'send',
      42,
      [],
      {},
      { type: 'send', text: 5, attachments: [] },
      { type: 'send', text: 'x', attachments: [{}] },
      { type: 'setMode', modeId: 'not a mode!' },
      { type: 'setMode', modeId: 3 },
      { type: 'openFile', path: '' },
      { type: 'openFile', path: 'a.py', line: 0 },
      { type: 'openFile', path: 'a.py', line: '4' },
      { type: 'permissionAnswer', optionId: 'allow_once' },
      { type: 'restartServer' },
      { type: 'setModel', model: 'gpt 4' },
      { type: 'setModel' },
      { type: 'runCommand', name: '/shout', args: '' },
      { type: 'runCommand', name: 'two words', args: '' },
      { type: 'runCommand', name: 'shout' },
      { type: 'runCommand', name: 'shout', args: 3 },
    ];
    for (const raw of cases) {
      const parsed = parseWebviewMessage(raw);
      assert.equal(parsed.ok, false, JSON.stringify(raw));
      assert.match(parsed.ok ? '' : parsed.reason, /^ignored/);
    }
  });
});
