import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ModeInfo, PluginCommand } from '../../src/protocol';
import {
  allCommands,
  BUILTIN_COMMANDS,
  completeSlash,
  helpText,
  parseCommandList,
  parseSlash,
  resolveSlash,
  shadowedPluginCommands,
} from '../../src/slashCommands';

const PLUGIN: PluginCommand[] = [
  { name: 'shout', help: 'Shout the text back.', source: 'testcmds' },
  { name: 'boom', help: 'Always fails.', source: 'testcmds' },
];
const MODES: ModeInfo[] = [
  { id: 'ask', name: 'Ask' },
  { id: 'auto-edit', name: 'Auto-edit' },
];

describe('slash commands', () => {
  it('lists the built-in commands first, then the plugin ones sorted, each with help and source', () => {
    const names = allCommands(PLUGIN).map((c) => `${c.name}:${c.source}`);
    assert.deepEqual(names, [
      ...BUILTIN_COMMANDS.map((c) => `${c.name}:built-in`),
      'boom:testcmds',
      'shout:testcmds',
    ]);
    assert.equal(allCommands(PLUGIN).find((c) => c.name === 'shout')?.help, 'Shout the text back.');
  });

  it('leaves out a plugin command named like a built-in one and reports it', () => {
    const plugin = [...PLUGIN, { name: 'model', help: 'a rogue /model', source: 'rogue' }];
    assert.equal(allCommands(plugin).filter((c) => c.name === 'model').length, 1);
    assert.equal(allCommands(plugin).find((c) => c.name === 'model')?.source, 'built-in');
    assert.deepEqual(shadowedPluginCommands(plugin).map((c) => c.source), ['rogue']);
  });

  it('completes the first word while it starts with a slash, prefix matches first', () => {
    const commands = allCommands(PLUGIN);
    assert.deepEqual(completeSlash('/', 1, commands)?.matches.length, commands.length);
    assert.deepEqual(completeSlash('/sh', 3, commands)?.matches.map((c) => c.name), ['shout']);
    // "o" starts no name here but is inside several: those come after any prefix match.
    const o = completeSlash('/o', 2, commands)?.matches.map((c) => c.name) ?? [];
    assert.ok(o.includes('boom') && o.includes('model') && o.includes('shout'), o.join());
    assert.deepEqual(completeSlash('/mo', 3, commands)?.matches.map((c) => c.name), ['model', 'mode']);
  });

  it('does not complete outside the first word, in a path, or without a slash', () => {
    const commands = allCommands(PLUGIN);
    assert.equal(completeSlash('/shout hello', 12, commands), undefined);
    assert.equal(completeSlash('/usr/bin', 8, commands), undefined);
    assert.equal(completeSlash('hello /sh', 9, commands), undefined);
    assert.equal(completeSlash(' /sh', 4, commands), undefined);
    assert.equal(completeSlash('/shout', 3, commands), undefined, 'caret in the middle of the word');
    assert.deepEqual(completeSlash('/zzz', 4, commands)?.matches, []);
  });

  it('splits a command from its arguments', () => {
    assert.deepEqual(parseSlash('/shout hello  there '), { name: 'shout', args: 'hello  there' });
    assert.deepEqual(parseSlash('/new'), { name: 'new', args: '' });
    assert.deepEqual(parseSlash('/shout line one\nline two'), { name: 'shout', args: 'line one\nline two' });
    assert.equal(parseSlash('/usr/bin/python crashes'), undefined);
    assert.equal(parseSlash(' /shout x'), undefined);
    assert.equal(parseSlash('/'), undefined);
    assert.equal(parseSlash('hello'), undefined);
  });

  it('runs a plugin command on the server with its arguments', () => {
    assert.deepEqual(resolveSlash('/shout hello there', PLUGIN, MODES), {
      kind: 'post',
      message: { type: 'runCommand', name: 'shout', args: 'hello there' },
    });
  });

  it('maps the built-in commands to the extension actions', () => {
    assert.deepEqual(resolveSlash('/new', PLUGIN, MODES), { kind: 'post', message: { type: 'newChat' } });
    assert.deepEqual(resolveSlash('/sessions', PLUGIN, MODES), { kind: 'post', message: { type: 'pickSession' } });
    assert.deepEqual(resolveSlash('/model', PLUGIN, MODES), { kind: 'post', message: { type: 'pickModel' } });
    assert.deepEqual(resolveSlash('/model openai/gpt-4.1', PLUGIN, MODES), {
      kind: 'post',
      message: { type: 'setModel', model: 'openai/gpt-4.1' },
    });
    assert.deepEqual(resolveSlash('/mode', PLUGIN, MODES), { kind: 'post', message: { type: 'pickMode' } });
    assert.deepEqual(resolveSlash('/mode auto-edit', PLUGIN, MODES), {
      kind: 'post',
      message: { type: 'setMode', modeId: 'auto-edit' },
    });
  });

  it('answers /help with every command, the plugin ones naming their plugin', () => {
    const action = resolveSlash('/help', PLUGIN, MODES);
    assert.equal(action.kind, 'notice');
    const message = action.kind === 'notice' ? action.message : '';
    assert.match(message, /^\/new — Start a new chat session$/m);
    assert.match(message, /^\/shout — Shout the text back\. \(plugin testcmds\)$/m);
    assert.match(message, /^\/model \[NAME\] — /m);
    assert.equal(helpText(allCommands([{ name: 'x', help: '', source: 'p' }])).split('\n').pop(), '/x — no description (plugin p)');
  });

  it('refuses an unknown command with the list of known ones instead of sending it to the model', () => {
    const action = resolveSlash('/shuot hi', PLUGIN, MODES);
    assert.equal(action.kind, 'notice');
    if (action.kind !== 'notice') return;
    assert.equal(action.level, 'error');
    assert.equal(action.message, 'Unknown command /shuot.');
    assert.match(action.hint ?? '', /\/help, \/new, \/sessions, \/model, \/mode, \/boom, \/shout\./);
    assert.match(action.hint ?? '', /type \/\/ instead of \//);
  });

  it('refuses a mode the server does not offer and a model name with spaces', () => {
    const mode = resolveSlash('/mode yolo', PLUGIN, MODES);
    assert.deepEqual(mode, {
      kind: 'notice',
      level: 'error',
      message: 'Unknown permission mode "yolo".',
      hint: 'Use one of: ask, auto-edit.',
    });
    const bad = resolveSlash('/mode no such', PLUGIN, []);
    assert.equal(bad.kind === 'notice' && bad.level, 'error');
    const model = resolveSlash('/model gpt 4', PLUGIN, MODES);
    assert.equal(model.kind === 'notice' && model.message, 'A model name has no spaces: "gpt 4".');
  });

  it('sends anything else to the model, and //word as /word', () => {
    for (const text of ['hello', '/usr/bin/python crashes', ' /shout leading space', 'a /shout inside', '// a comment']) {
      assert.deepEqual(resolveSlash(text, PLUGIN, MODES), { kind: 'prompt', text }, text);
    }
    assert.deepEqual(resolveSlash('//shout is a command?', PLUGIN, MODES), { kind: 'prompt', text: '/shout is a command?' });
  });

  it('keeps only well-formed entries of a commands/list answer', () => {
    assert.deepEqual(parseCommandList(null), []);
    assert.deepEqual(parseCommandList({ commands: 'x' }), []);
    assert.deepEqual(
      parseCommandList({
        commands: [
          { name: 'ok', help: 'fine', source: 'p' },
          { name: 'no help', help: 'spaces', source: 'p' },
          { name: 'a/b', help: 'slash', source: 'p' },
          { name: 5 },
          null,
          { name: 'bare' },
        ],
      }),
      [
        { name: 'ok', help: 'fine', source: 'p' },
        { name: 'bare', help: '', source: 'plugin' },
      ],
    );
  });
});
