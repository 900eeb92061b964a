import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  commandLine,
  formatUsage,
  initialState,
  reduce,
  restoreState,
  trustServers,
  type AgentItem,
  type CommandItem,
  type NoticeItem,
  type PermissionItem,
  type ToolItem,
} from '../../src/chatState';
import type { ToWebview } from '../../src/protocol';

const S = 'sess-1';

function chunk(text: string): ToWebview {
  return { type: 'update', sessionId: S, update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } } };
}

describe('chat state', () => {
  it('joins streamed chunks into one answer after the user message', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    reduce(state, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'hi' }] });
    reduce(state, chunk('Hel'));
    const touched = reduce(state, chunk('lo'));
    assert.equal(state.items.length, 2);
    assert.equal(state.items[0].kind, 'user');
    const answer = state.items[1] as AgentItem;
    assert.equal(answer.text, 'Hello');
    assert.deepEqual(touched, [answer.id]);
    assert.equal(state.busy, true);
    reduce(state, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' });
    assert.equal(state.busy, false);
    reduce(state, chunk('next'));
    assert.equal(state.items.length, 3, 'a chunk after the turn starts a new answer');
  });

  it('puts attachments of the prompt on the user message', () => {
    const state = initialState();
    reduce(state, {
      type: 'turnStarted',
      sessionId: S,
      prompt: [
        { type: 'text', text: 'explain' },
        { type: 'resource_link', uri: 'file:///p/a.py', name: 'a.py' },
        { type: 'resource', resource: { uri: 'file:///p/b.py', text: 'x = 1' } },
      ],
    });
    assert.deepEqual(state.items[0], { kind: 'user', id: 'i1', text: 'explain', attachments: ['a.py', 'b.py'] });
  });

  it('merges tool_call and tool_call_update into one card', () => {
    const state = initialState();
    reduce(state, {
      type: 'update',
      sessionId: S,
      update: { sessionUpdate: 'tool_call', toolCallId: 'c1', title: 'Edit util.py', kind: 'edit', status: 'pending', rawInput: { path: 'util.py' } },
    });
    reduce(state, {
      type: 'update',
      sessionId: S,
      update: {
        sessionUpdate: 'tool_call_update',
        toolCallId: 'c1',
        status: 'completed',
        content: [{ type: 'diff', path: '/p/util.py', oldText: 'a\n', newText: 'b\n' }],
      },
    });
    assert.equal(state.items.length, 1);
    const tool = state.items[0] as ToolItem;
    assert.equal(tool.status, 'completed');
    assert.equal(tool.title, 'Edit util.py');
    assert.equal(tool.toolKind, 'edit');
    assert.deepEqual(tool.rawInput, { path: 'util.py' });
    assert.equal(tool.content.length, 1);
  });

  it('a tool_call_update for an unknown call still shows a card', () => {
    const state = initialState();
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call_update', toolCallId: 'zz', status: 'failed' } });
    assert.equal((state.items[0] as ToolItem).status, 'failed');
  });

  it('ignores unknown update kinds and updates of other sessions', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    const unknown = { type: 'update', sessionId: S, update: { sessionUpdate: 'future_thing', x: 1 } } as unknown as ToWebview;
    assert.deepEqual(reduce(state, unknown), []);
    assert.deepEqual(
      reduce(state, { type: 'update', sessionId: 'other', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'x' } } }),
      [],
    );
    assert.equal(state.items.length, 0);
  });

  it('permission requests are answered once; the end of a turn closes open ones', () => {
    const state = initialState();
    const options = [
      { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' as const },
      { optionId: 'reject_once', name: 'Reject once', kind: 'reject_once' as const },
    ];
    reduce(state, {
      type: 'permission',
      requestId: 'p1',
      params: { sessionId: S, toolCall: { toolCallId: 'c2', title: 'Run `pytest -q`', rawInput: { command: 'pytest -q' } }, options },
    });
    reduce(state, {
      type: 'permission',
      requestId: 'p2',
      params: { sessionId: S, toolCall: { toolCallId: 'c3', title: 'Run `ls`' }, options },
    });
    const [p1, p2] = state.items as PermissionItem[];
    assert.equal(p1.detail, 'pytest -q');
    assert.equal(p1.answer, undefined);
    reduce(state, { type: 'permissionResolved', requestId: 'p1', optionId: 'allow_once' });
    assert.equal(p1.answer, 'allow_once');
    reduce(state, { type: 'turnEnded', sessionId: S, stopReason: 'cancelled' });
    assert.equal(p2.answer, null);
    assert.equal(state.items[state.items.length - 1].kind, 'notice');
  });

  it('a dying server keeps the text and offers restart and resume', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    reduce(state, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'go' }] });
    reduce(state, chunk('partial answer'));
    reduce(state, { type: 'serverDied', message: 'pygent serve stopped', sessionId: S });
    assert.equal(state.busy, false);
    assert.equal((state.items[1] as AgentItem).text, 'partial answer');
    const notice = state.items[2];
    assert.equal(notice.kind, 'notice');
    assert.deepEqual(notice.kind === 'notice' ? notice.actions : [], ['restart', 'resume']);
  });

  it('loading another session with replay clears the transcript; clear resets', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    reduce(state, chunk('old'));
    assert.deepEqual(reduce(state, { type: 'session', sessionId: 'sess-2', replay: true }), ['all', 'header']);
    assert.equal(state.items.length, 0);
    reduce(state, {
      type: 'update',
      sessionId: 'sess-2',
      update: { sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'earlier question' } },
    });
    assert.equal(state.items[0].kind, 'user');
    reduce(state, { type: 'clear' });
    assert.equal(state.items.length, 0);
    assert.equal(state.sessionId, undefined);
  });

  it('mode, model and attachments', () => {
    const state = initialState();
    reduce(state, {
      type: 'session',
      sessionId: S,
      model: 'openai/fake-model',
      modes: { currentModeId: 'ask', availableModes: [{ id: 'ask', name: 'Ask' }] },
    });
    assert.equal(state.modeId, 'ask');
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'current_mode_update', currentModeId: 'plan' } });
    assert.equal(state.modeId, 'plan');
    const attachment = { id: 'a', label: 'a.py', block: { type: 'resource_link' as const, uri: 'file:///a.py', name: 'a.py' } };
    reduce(state, { type: 'attach', attachment });
    reduce(state, { type: 'attach', attachment });
    assert.equal(state.attachments.length, 1, 'the same attachment is added once');
  });

  it("mode and model changes are told in the transcript with the server's names; the first value is not", () => {
    const state = initialState();
    reduce(state, {
      type: 'session',
      sessionId: S,
      model: 'openai/a',
      modes: { currentModeId: 'ask', availableModes: [{ id: 'ask', name: 'Ask' }, { id: 'auto-edit', name: 'Auto-edit' }] },
    });
    assert.equal(state.items.length, 0);
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'current_mode_update', currentModeId: 'auto-edit' } });
    reduce(state, { type: 'mode', modeId: 'auto-edit' });
    reduce(state, { type: 'model', model: 'openai/a' });
    reduce(state, { type: 'model', model: 'openai/b' });
    const notices = state.items.filter((i) => i.kind === 'notice').map((i) => (i as NoticeItem).message);
    assert.deepEqual(notices, ['Mode: Auto-edit', 'Model: openai/b'], 'one notice per real change');
  });

  it('usage from usage_update and from the end of the turn', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    const touched = reduce(state, {
      type: 'update',
      sessionId: S,
      update: { sessionUpdate: 'usage_update', _meta: { pygent: { usage: { inputTokens: 1200, outputTokens: 40, totalTokens: 1240 } } } },
    });
    assert.deepEqual(touched, ['header']);
    assert.equal(formatUsage(state.usage), 'turn 1.2k tokens');
    reduce(state, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn', usage: { totalTokens: 7170, costUsd: 0.0123 } });
    assert.equal(formatUsage(state.usage), 'turn 7.2k tokens · $0.0123');
    assert.equal(formatUsage({ totalTokens: 0, costUsd: null }), '');
    assert.equal(formatUsage(undefined), '');
  });

  it('a call the person turned down is marked rejected; a real failure is not', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    for (const id of ['c1', 'c2']) {
      reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call', toolCallId: id, title: id, kind: 'edit' } });
    }
    reduce(state, {
      type: 'update',
      sessionId: S,
      update: { sessionUpdate: 'tool_call_update', toolCallId: 'c1', status: 'failed', _meta: { pygent: { outcome: 'rejected' } } },
    });
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call_update', toolCallId: 'c2', status: 'failed' } });
    const tools = state.items.filter((i) => i.kind === 'tool') as ToolItem[];
    assert.deepEqual(
      tools.map((t) => [t.toolCallId, t.status, t.outcome]),
      [
        ['c1', 'failed', 'rejected'],
        ['c2', 'failed', undefined],
      ],
    );
  });

  it('a tool call whose edit is open for review says so until its next status', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call', toolCallId: 'c1', title: 'Edit a.py', kind: 'edit' } });
    const tool = state.items[0] as ToolItem;
    assert.deepEqual(reduce(state, { type: 'reviewing', sessionId: S, toolCallId: 'c1' }), [tool.id]);
    assert.equal(tool.reviewing, true);
    assert.deepEqual(reduce(state, { type: 'reviewing', sessionId: S, toolCallId: 'unknown' }), [], 'an unknown call changes nothing');
    assert.deepEqual(reduce(state, { type: 'reviewing', sessionId: 'other', toolCallId: 'c1' }), [], 'another session changes nothing');
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call_update', toolCallId: 'c1', content: [] } });
    assert.equal(tool.reviewing, true, 'an update without a status keeps it');
    reduce(state, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call_update', toolCallId: 'c1', status: 'completed' } });
    assert.equal(tool.reviewing, undefined);
  });

  it('restores a saved state, and starts fresh from garbage', () => {
    const state = initialState();
    reduce(state, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'q' }] });
    const saved = JSON.parse(JSON.stringify(state));
    const restored = restoreState(saved);
    assert.equal(restored.items.length, 1);
    assert.equal(restored.busy, false, 'a reload never shows a turn as running');
    assert.equal(restoreState(null).items.length, 0);
    assert.equal(restoreState({ version: 99, items: [] }).version, 1);
    assert.equal(restoreState('nonsense').items.length, 0);
  });
});

/** The trust question exactly as pygent.mcp.trust.trust_question builds it. */
export function trustParams(workspace = '/work/proj'): Extract<ToWebview, { type: 'permission' }>['params'] {
  return {
    sessionId: S,
    toolCall: {
      toolCallId: 'mcp-trust-0123456789abcdef',
      title: `Start the MCP servers of the project ${workspace}?`,
      kind: 'execute',
      content: [{ type: 'content', content: { type: 'text', text: `The project config ${workspace}/.pygent/config.toml defines MCP servers…` } }],
      rawInput: {
        workspace,
        servers: [
          { name: 'proj', command: '/usr/bin/python3', args: ['/srv/my server.py', '--port', '7'], cwd: workspace, env: { TOKEN: '****' }, risk: 'medium' },
          { name: 'remote', url: 'https://mcp.example.com/mcp', headers: { Authorization: '****' }, risk: 'low' },
        ],
      },
    },
    options: [
      { optionId: 'mcp_trust', name: 'Trust and start', kind: 'allow_always' },
      { optionId: 'mcp_dont_start', name: "Don't start", kind: 'reject_once' },
    ],
    _meta: { reason: 'the project…', pygent: { mcpTrust: true, message: `pygent wants to start the MCP servers of the project ${workspace}:\n- proj: runs …` } },
  };
}

describe('plugin commands and the MCP trust question', () => {
  it('keeps the plugin command list and survives a reload with it', () => {
    const state = initialState();
    reduce(state, { type: 'commands', commands: [{ name: 'shout', help: 'Shout.', source: 'testcmds' }] });
    assert.deepEqual(state.commands, [{ name: 'shout', help: 'Shout.', source: 'testcmds' }]);
    const restored = restoreState(JSON.parse(JSON.stringify(state)));
    assert.equal(restored.commands[0].name, 'shout');
    const old = restoreState({ version: 1, items: [], modes: [] });
    assert.deepEqual(old.commands, [], 'a state saved before commands existed gets an empty list');
  });

  it('shows a command as its own card with the text, not as an answer of the model', () => {
    const state = initialState();
    reduce(state, { type: 'session', sessionId: S });
    reduce(state, { type: 'commandStarted', commandId: 'c1', name: 'shout', args: 'hi', source: 'testcmds' });
    const item = state.items[0] as CommandItem;
    assert.equal(item.kind, 'command');
    assert.equal(item.status, 'running');
    const touched = reduce(state, { type: 'commandResult', commandId: 'c1', text: '**HI**' });
    assert.deepEqual(touched, [item.id]);
    assert.equal(item.status, 'done');
    assert.equal(item.text, '**HI**');
    assert.equal(state.items.filter((i) => i.kind === 'agent').length, 0);
    assert.equal(state.busy, false, 'a command is not a turn');
  });

  it('shows a failed command as an error with the hint, and later commands still work', () => {
    const state = initialState();
    reduce(state, { type: 'commandStarted', commandId: 'c1', name: 'boom', args: 'now' });
    reduce(state, {
      type: 'commandFailed',
      commandId: 'c1',
      message: "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom now.",
      hint: 'The plugin has a bug…',
    });
    const failed = state.items[0] as CommandItem;
    assert.equal(failed.status, 'failed');
    assert.match(failed.text, /ValueError: kaboom now/);
    assert.equal(failed.hint, 'The plugin has a bug…');
    reduce(state, { type: 'commandStarted', commandId: 'c2', name: 'shout', args: 'x' });
    reduce(state, { type: 'commandResult', commandId: 'c2', text: 'X' });
    assert.equal((state.items[1] as CommandItem).status, 'done');
    assert.deepEqual(reduce(state, { type: 'commandResult', commandId: 'nope', text: 'lost' }), [], 'unknown id: nothing');
  });

  it('marks a command still running when the view reloads as failed', () => {
    const state = initialState();
    reduce(state, { type: 'commandStarted', commandId: 'c1', name: 'shout', args: '' });
    const restored = restoreState(JSON.parse(JSON.stringify(state)));
    const item = restored.items[0] as CommandItem;
    assert.equal(item.status, 'failed');
    assert.match(item.text, /reloaded before the command answered/);
  });

  it('renders the trust question with each server command line, never raw JSON', () => {
    const state = initialState();
    reduce(state, { type: 'permission', requestId: 'p1', params: trustParams() });
    const item = state.items[0] as PermissionItem;
    assert.equal(item.title, 'Start the MCP servers of the project /work/proj?');
    assert.equal(item.detail, '');
    assert.deepEqual(item.servers, [
      {
        name: 'proj',
        target: "/usr/bin/python3 '/srv/my server.py' --port 7",
        details: ['in /work/proj', 'with TOKEN=****', 'tools run as risk medium'],
      },
      { name: 'remote', target: 'https://mcp.example.com/mcp', details: ['with headers Authorization', 'tools run as risk low'] },
    ]);
    assert.deepEqual(item.options.map((o) => o.name), ['Trust and start', "Don't start"]);
    assert.match(item.note ?? '', /run as you/);
  });

  it('falls back to the server wording when a trust question has no readable server list', () => {
    const params = trustParams();
    params.toolCall.rawInput = { workspace: '/w', servers: 'garbled' };
    const state = initialState();
    reduce(state, { type: 'permission', requestId: 'p1', params });
    const item = state.items[0] as PermissionItem;
    assert.equal(item.servers, undefined);
    assert.match(item.detail, /^pygent wants to start the MCP servers of the project/);
    assert.doesNotMatch(item.detail, /[{}]/);
  });

  it('quotes command words only where a shell would need it', () => {
    assert.equal(commandLine('npx', ['-y', '@scope/server@1.2', '--root=/a/b']), 'npx -y @scope/server@1.2 --root=/a/b');
    assert.equal(commandLine('run', ["it's", '', 'a b']), `run 'it'\\''s' '' 'a b'`);
    assert.deepEqual(trustServers(undefined), []);
    assert.deepEqual(trustServers({ servers: [null, { name: 'x' }] }), [], 'a server with neither command nor URL is skipped');
  });
});
