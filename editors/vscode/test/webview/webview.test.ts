/**
 * The chat webview in headless Chromium (Debian's chromium driven by playwright-core), with a
 * stubbed acquireVsCodeApi that records what the webview posts and keeps its state.
 */

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chatHtml, makeNonce } from '../../src/html';
import { formatUsage } from '../../src/chatState';
import type { RequestPermissionParams, ToWebview } from '../../src/protocol';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(ROOT, '..', '..', 'tests', 'fixtures', 'recorded_turn.json');
const ARTIFACTS = process.env.PYGENT_ARTIFACTS || join(ROOT, 'test-artifacts');
const ORIGIN = 'http://pygent.test';
const S = 'sess-1';

export function chromiumPath(): string {
  return process.env.PYGENT_CHROMIUM || '/usr/bin/chromium';
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let browser: Browser;

interface Posted {
  type: string;
  [key: string]: unknown;
}

async function openView(savedState?: unknown): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 420, height: 720 } });
  const js = readFileSync(join(ROOT, 'dist', 'webview', 'main.js'));
  const css = readFileSync(join(ROOT, 'dist', 'webview', 'main.css'));
  const html = chatHtml({ cspSource: ORIGIN, nonce: makeNonce(), scriptUri: `${ORIGIN}/main.js`, styleUri: `${ORIGIN}/main.css` });
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = route.request().url();
    if (url.endsWith('/main.js')) return route.fulfill({ body: js, contentType: 'text/javascript' });
    if (url.endsWith('/main.css')) return route.fulfill({ body: css, contentType: 'text/css' });
    return route.fulfill({ body: html, contentType: 'text/html' });
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  (page as unknown as { errors: string[] }).errors = errors;
  await page.addInitScript((state) => {
    const w = window as unknown as { __posted: unknown[]; __state: unknown; acquireVsCodeApi: () => unknown };
    w.__posted = [];
    w.__state = state;
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__posted.push(m),
      getState: () => w.__state,
      setState: (s: unknown) => {
        w.__state = JSON.parse(JSON.stringify(s));
      },
    });
  }, savedState ?? null);
  await page.goto(`${ORIGIN}/index.html`);
  await waitPosted(page, (m) => m.type === 'ready');
  return page;
}

async function posted(page: Page): Promise<Posted[]> {
  return page.evaluate(() => (window as unknown as { __posted: Posted[] }).__posted);
}

async function waitPosted(page: Page, pred: (m: Posted) => boolean, what = 'message'): Promise<Posted> {
  for (let i = 0; i < 200; i++) {
    const found = (await posted(page)).find(pred);
    if (found) return found;
    await page.waitForTimeout(25);
  }
  throw new Error(`the webview never posted the expected ${what}; posted: ${JSON.stringify(await posted(page)).slice(0, 500)}`);
}

async function deliver(page: Page, ...messages: (ToWebview | Record<string, unknown>)[]): Promise<void> {
  await page.evaluate((msgs) => {
    for (const m of msgs) window.postMessage(m, '*');
  }, messages);
}

function chunk(text: string): ToWebview {
  return { type: 'update', sessionId: S, update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text } } };
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `webview-${name}.png`) });
}

const SESSION: ToWebview = {
  type: 'session',
  sessionId: S,
  model: 'openai/fake-model',
  modes: { currentModeId: 'ask', availableModes: [{ id: 'ask', name: 'Ask' }, { id: 'plan', name: 'Plan' }] },
};

before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  await browser?.close();
});

describe('chat webview', () => {
  it('renders a streamed answer as Markdown with highlighted code and a copy button', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'server', status: { state: 'running' } });
    await deliver(page, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'add a docstring' }] });
    const answer = 'Here is **the plan**:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\n<img src=x onerror="alert(1)">';
    for (let i = 0; i < answer.length; i += 7) await deliver(page, chunk(answer.slice(i, i + 7)));
    await deliver(page, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' });
    const agent = page.locator('.msg.agent');
    await agent.locator('strong', { hasText: 'the plan' }).waitFor();
    assert.equal(await page.locator('.msg.user').innerText(), 'add a docstring');
    assert.ok((await agent.locator('pre code .hljs-keyword').count()) > 0, 'python is highlighted');
    assert.equal(await agent.locator('img').count(), 0, 'raw HTML is not rendered');
    assert.match(await agent.innerText(), /<img src=x onerror/);
    await agent.getByRole('button', { name: 'Copy code' }).click();
    const copy = await waitPosted(page, (m) => m.type === 'copy');
    assert.equal(copy.text, 'def add(a, b):\n    return a + b\n');
    assert.equal(await page.locator('#app').getAttribute('role'), 'application');
    assert.equal(await page.getByRole('combobox', { name: 'Permission mode' }).inputValue(), 'ask');
    assert.match((await page.getByRole('button', { name: /^Model:/ }).innerText()) ?? '', /openai\/fake-model/);
    await shot(page, 'markdown');
    assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
    await page.close();
  });

  it('shows tool calls as cards with status, input, diff and locations', async () => {
    const page = await openView();
    await deliver(page, SESSION, {
      type: 'update',
      sessionId: S,
      update: {
        sessionUpdate: 'tool_call',
        toolCallId: 'call_1',
        title: 'Edit util.py',
        kind: 'edit',
        status: 'pending',
        locations: [{ path: '/home/u/proj/util.py', line: 1 }],
        rawInput: { path: 'util.py', old_string: 'def add(a, b):' },
      },
    });
    const card = page.locator('details.tool');
    await card.waitFor();
    assert.match(await card.locator('summary').innerText(), /Edit util\.py[\s\S]*pending/);
    await deliver(page, { type: 'reviewing', sessionId: S, toolCallId: 'call_1' });
    await card.locator('.status.reviewing', { hasText: 'in review' }).waitFor();
    await deliver(page, {
      type: 'update',
      sessionId: S,
      update: {
        sessionUpdate: 'tool_call_update',
        toolCallId: 'call_1',
        status: 'completed',
        content: [
          {
            type: 'diff',
            path: '/home/u/proj/util.py',
            oldText: 'def add(a, b):\n    return a + b\n',
            newText: 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n',
          },
        ],
      },
    });
    await page.locator('details.tool .status.completed').waitFor();
    assert.equal(await card.count(), 1, 'one card per tool call');
    await card.locator('summary').click();
    assert.equal(await card.evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.equal(await card.locator('.diff .add').innerText(), '+     """Add two numbers."""');
    assert.match(await card.innerText(), /"old_string": "def add\(a, b\):"/);
    await card.getByRole('button', { name: 'Open /home/u/proj/util.py' }).click();
    const open = await waitPosted(page, (m) => m.type === 'openFile');
    assert.deepEqual(open, { type: 'openFile', path: '/home/u/proj/util.py', line: 1 });
    // An update keeps the card open.
    await deliver(page, { type: 'update', sessionId: S, update: { sessionUpdate: 'tool_call_update', toolCallId: 'call_1', rawOutput: { ok: true } } });
    await card.locator('text=Output').waitFor();
    assert.equal(await card.evaluate((d) => (d as HTMLDetailsElement).open), true);
    await shot(page, 'tool-card');
    await page.close();
  });

  it('asks permission inline with the server options as buttons', async () => {
    const page = await openView();
    await deliver(page, SESSION, {
      type: 'permission',
      requestId: 'p1',
      params: {
        sessionId: S,
        toolCall: { toolCallId: 'call_2', title: 'Run `pytest -q`', kind: 'execute', rawInput: { command: 'pytest -q' } },
        options: [
          { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' },
          { optionId: 'allow_always', name: 'Allow always', kind: 'allow_always' },
          { optionId: 'reject_once', name: 'Reject once', kind: 'reject_once' },
          { optionId: 'reject_always', name: 'Reject always', kind: 'reject_always' },
        ],
      },
    });
    const group = page.getByRole('group', { name: 'Permission request: Run `pytest -q`' });
    await group.waitFor();
    assert.deepEqual(await group.getByRole('button').allInnerTexts(), ['Allow once', 'Allow always', 'Reject once', 'Reject always']);
    assert.match(await group.innerText(), /pytest -q/);
    await shot(page, 'permission');
    await group.getByRole('button', { name: /^Allow once/ }).click();
    const answer = await waitPosted(page, (m) => m.type === 'permissionAnswer');
    assert.deepEqual(answer, { type: 'permissionAnswer', requestId: 'p1', optionId: 'allow_once' });
    await deliver(page, { type: 'permissionResolved', requestId: 'p1', optionId: 'allow_once' });
    await group.locator('text=Answered: Allow once').waitFor();
    assert.equal(await group.getByRole('button', { name: /^Reject once/ }).isDisabled(), true);
    await page.close();
  });

  it('is usable from the keyboard: Enter sends, Shift+Enter adds a line, Escape cancels, @ attaches', async () => {
    const page = await openView();
    await deliver(page, SESSION);
    const box = page.getByRole('textbox', { name: 'Message pygent' });
    await box.focus();
    await page.keyboard.type('hello');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('world ');
    await page.keyboard.type('@');
    await waitPosted(page, (m) => m.type === 'attachFile', 'attachFile');
    await deliver(page, {
      type: 'attach',
      attachment: { id: 'l1', label: 'util.py', block: { type: 'resource_link', uri: 'file:///p/util.py', name: 'util.py' } },
    });
    await page.locator('.composer .chip', { hasText: 'util.py' }).waitFor();
    assert.equal(await box.inputValue(), 'hello\nworld ', 'the @ itself is not kept');
    await box.focus();
    await page.keyboard.press('Enter');
    const send = await waitPosted(page, (m) => m.type === 'send', 'send');
    assert.equal(send.text, 'hello\nworld ');
    assert.deepEqual((send.attachments as { label: string }[]).map((a) => a.label), ['util.py']);
    assert.equal(await box.inputValue(), '');
    // The composer re-renders on the next frame: wait for the attachment chip to go.
    await page.waitForFunction(() => document.querySelectorAll('.composer .chip').length === 0, undefined, {
      timeout: 5000,
    });
    await deliver(page, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'hello\nworld ' }] });
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Send' }).isHidden(), true);
    await box.focus();
    await page.keyboard.press('Escape');
    await waitPosted(page, (m) => m.type === 'cancel', 'cancel');
    // Tab order reaches the buttons of the composer.
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      names.push(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''));
    }
    assert.ok(names.includes('Attach a file'), names.join(','));
    await page.close();
  });

  it('ignores and logs a message of an unknown type', async () => {
    const page = await openView();
    await deliver(page, { type: 'selfDestruct', payload: 1 }, 'just a string' as unknown as ToWebview);
    const logs = (await posted(page)).filter((m) => m.type === 'log');
    assert.equal(logs.length, 2);
    assert.match(String(logs[0].message), /unknown type: \{"type":"selfDestruct"/);
    await deliver(page, SESSION, chunk('still alive'));
    await page.locator('.msg.agent', { hasText: 'still alive' }).waitFor();
    assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
    await page.close();
  });

  it('shows a dying server, keeps the text and offers restart and resume', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'go' }] }, chunk('partial text'));
    await deliver(page, { type: 'serverDied', message: 'pygent serve stopped in the middle of the turn.', sessionId: S });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /stopped in the middle of the turn/);
    assert.equal(await page.locator('.msg.agent p').innerText(), 'partial text');
    await shot(page, 'server-died');
    await alert.getByRole('button', { name: 'Restart the server and resume the session' }).click();
    const restart = await waitPosted(page, (m) => m.type === 'restartServer');
    assert.equal(restart.resume, true);
    await page.close();
  });

  it('keeps the transcript across a reload (getState/setState)', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'remember me' }] }, chunk('**kept**'));
    await deliver(page, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' });
    await page.getByRole('textbox', { name: 'Message pygent' }).fill('a draft');
    await page.getByRole('textbox', { name: 'Message pygent' }).dispatchEvent('input');
    let saved: unknown = null;
    for (let i = 0; i < 100 && !saved; i++) {
      await page.waitForTimeout(50);
      const s = await page.evaluate(() => (window as unknown as { __state: { draft?: string } | null }).__state);
      if (s && s.draft === 'a draft') saved = s;
    }
    assert.ok(saved, 'the state was saved');
    await page.close();
    const again = await openView(saved);
    await again.locator('.msg.agent strong', { hasText: 'kept' }).waitFor();
    assert.equal(await again.locator('.msg.user').innerText(), 'remember me');
    assert.equal(await again.getByRole('textbox', { name: 'Message pygent' }).inputValue(), 'a draft');
    await again.close();
  });

  it('file names in an answer open the workspace file (at the line); real URLs stay web links', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'which files?' }] });
    await deliver(
      page,
      chunk('Edit app.py, README.md, main.rs and setup.sh; the bug is in src/x.py:42. '),
      chunk('See https://peps.python.org/pep-0257/ for docstrings.'),
      { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' },
    );
    const agent = page.locator('.msg.agent');
    await agent.locator('a.file-link', { hasText: 'src/x.py:42' }).waitFor();
    const hrefs = await agent.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(!hrefs.some((h) => h?.startsWith('http://')), `no file name became a web link: ${hrefs.join(' ')}`);
    for (const name of ['app.py', 'README.md', 'main.rs', 'setup.sh']) {
      const link = agent.locator('a.file-link', { hasText: name });
      assert.equal(await link.count(), 1, name);
      await link.click();
      const open = await waitPosted(page, (m) => m.type === 'openFile' && m.path === name, `openFile ${name}`);
      assert.deepEqual(open, { type: 'openFile', path: name }, 'no line when the answer names none');
    }
    await agent.locator('a.file-link', { hasText: 'src/x.py:42' }).click();
    const atLine = await waitPosted(page, (m) => m.type === 'openFile' && m.path === 'src/x.py', 'openFile src/x.py');
    assert.deepEqual(atLine, { type: 'openFile', path: 'src/x.py', line: 42 });
    const url = agent.locator('a', { hasText: 'https://peps.python.org/pep-0257/' });
    assert.equal(await url.getAttribute('href'), 'https://peps.python.org/pep-0257/');
    assert.equal(await url.getAttribute('class'), null, 'a URL is not a file link');
    await shot(page, 'file-links');
    assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
    await page.close();
  });

  it('replays the recorded turn: every update kind in it is shown', async () => {
    interface Recorded {
      from: 'client' | 'server';
      message: { id?: string | number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> };
    }
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { messages: Recorded[] };
    const requests = new Map<string | number, string>();
    const toView: ToWebview[] = [];
    const kinds = new Set<string>();
    let lastUsage: unknown;
    let lastMode = '';
    const modeNames = new Map<string, string>();
    let promptResult: Record<string, unknown> | undefined;
    let sessionId = '';
    for (const { from, message } of fixture.messages) {
      if (from === 'client') {
        if (message.method && message.id !== undefined) requests.set(message.id, message.method);
        if (message.method === 'pygent/session/prompt') {
          toView.push({ type: 'turnStarted', sessionId, prompt: message.params?.prompt } as ToWebview);
        }
        if (message.result && requests.get(message.id!) === undefined) {
          // The client's answer to a server request (a permission: what the person chose).
          const outcome = (message.result as { outcome?: { optionId?: string } }).outcome;
          if (outcome) toView.push({ type: 'permissionResolved', requestId: String(message.id), optionId: outcome.optionId ?? null });
        }
        continue;
      }
      if (message.method === 'pygent/session/update') {
        const update = message.params!.update as { sessionUpdate: string; _meta?: { pygent?: { usage?: unknown } } };
        kinds.add(update.sessionUpdate);
        if (update.sessionUpdate === 'usage_update') lastUsage = update._meta?.pygent?.usage;
        if (update.sessionUpdate === 'current_mode_update') lastMode = String((update as { currentModeId?: string }).currentModeId);
        toView.push({ type: 'update', sessionId: String(message.params!.sessionId), update } as ToWebview);
      } else if (message.method === 'pygent/session/requestPermission') {
        toView.push({ type: 'permission', requestId: String(message.id), params: message.params } as unknown as ToWebview);
      } else if (message.method === undefined && requests.get(message.id!) === 'pygent/session/new') {
        sessionId = String(message.result!.sessionId);
        const modes = (message.result!.modes as { availableModes?: { id: string; name: string }[] }).availableModes ?? [];
        for (const mode of modes) modeNames.set(mode.id, mode.name);
        toView.push({ type: 'session', sessionId, modes: message.result!.modes, model: 'openai/fake-model' } as ToWebview);
      } else if (message.method === undefined && requests.get(message.id!) === 'pygent/session/prompt') {
        promptResult = message.result;
      }
    }
    const checked = ['agent_message_chunk', 'agent_thought_chunk', 'tool_call', 'tool_call_update', 'plan', 'current_mode_update', 'usage_update', 'pygent_notice'];
    for (const kind of kinds) assert.ok(checked.includes(kind), `the recording has an update kind this suite does not check: ${kind}`);
    for (const kind of checked) assert.ok(kinds.has(kind), `the recording has no ${kind}: this test would prove less than it says`);
    assert.ok(promptResult, 'the recording has the prompt result');

    const page = await openView();
    await deliver(page, { type: 'server', status: { state: 'running' } }, ...toView);
    // usage_update: the toolbar shows the turn's usage so far.
    await page.locator('.toolbar .usage', { hasText: formatUsage(lastUsage as never) }).waitFor();
    await deliver(page, {
      type: 'turnEnded',
      sessionId,
      stopReason: promptResult.stopReason,
      usage: promptResult.usage,
    } as ToWebview);
    await page.locator('.toolbar .usage', { hasText: formatUsage(promptResult.usage as never) }).waitFor();
    // pygent_notice
    await page.locator('.notice', { hasText: 'rate limited, retrying' }).waitFor();
    // agent_thought_chunk and agent_message_chunk
    await page.locator('.msg.thought', { hasText: 'Three steps' }).waitFor();
    await page.locator('.msg.agent', { hasText: "I'll plan this first." }).waitFor();
    const answer = page.locator('.msg.agent', { hasText: 'Done:' });
    await answer.waitFor();
    assert.equal(await answer.locator('a.file-link[data-path="util.py"][data-line="2"]').count(), 1, 'util.py:2 is a file link');
    assert.equal(await answer.locator('a[href="https://peps.python.org/pep-0257/"]').count(), 1);
    // plan
    assert.deepEqual(await page.locator('ol.plan li').allInnerTexts(), ['… Add a docstring to add()', 'Write NOTES.md', 'Remove build.log']);
    // current_mode_update: the select and a notice, with the server's name of the mode.
    const modeName = modeNames.get(lastMode);
    assert.ok(modeName, `the recording changes to a mode the server listed (${lastMode})`);
    assert.equal(await page.getByRole('combobox', { name: 'Permission mode' }).inputValue(), lastMode);
    await page.locator('.notice', { hasText: `Mode: ${modeName}` }).waitFor();
    assert.match((await page.locator('select option[value="plan"]').getAttribute('title')) ?? '', /Read-only/);
    // tool_call and tool_call_update: one card each, the turned-down ones rejected (not failed).
    const status = async (title: string) => page.locator('details.tool', { hasText: title }).locator('.status').innerText();
    assert.equal(await page.locator('details.tool').count(), 4);
    assert.equal(await status('Update plan'), 'done');
    assert.equal(await status('Edit util.py'), 'done');
    assert.equal(await status('Create NOTES.md'), 'rejected');
    assert.equal(await status('Run `rm -f build.log`'), 'rejected');
    assert.equal(await page.locator('details.tool .status.failed').count(), 0, 'nothing shows as failed');
    // The colours come from the VS Code theme: set the two it uses as a dark theme would.
    await page.evaluate(() => {
      document.documentElement.style.setProperty('--vscode-errorForeground', 'rgb(241, 76, 76)');
      document.documentElement.style.setProperty('--vscode-descriptionForeground', 'rgb(160, 160, 160)');
    });
    const rejectedColor = await page.locator('details.tool .status.rejected').first().evaluate((e) => getComputedStyle(e).color);
    assert.equal(rejectedColor, 'rgb(160, 160, 160)', 'rejected uses the neutral description colour');
    const failedColor = await page.evaluate(() => {
      const probe = document.createElement('span');
      probe.className = 'status failed';
      const card = document.createElement('details');
      card.className = 'tool';
      card.append(probe);
      document.body.append(card);
      const color = getComputedStyle(probe).color;
      card.remove();
      return color;
    });
    assert.equal(failedColor, 'rgb(241, 76, 76)');
    assert.notEqual(rejectedColor, failedColor, 'rejected does not look like failed');
    // The permission question and its recorded answer.
    await page.getByRole('group', { name: 'Permission request: Run `rm -f build.log`' }).locator('text=Answered: Reject once').waitFor();
    await shot(page, 'recorded-turn');
    assert.deepEqual((page as unknown as { errors: string[] }).errors, []);
    await page.close();
  });

  it('stays responsive while a huge answer streams', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'big' }] });
    const line = '- item with `code` and **bold** text, number ';
    const total = 600_000;
    let sent = 0;
    let n = 0;
    const box = page.getByRole('textbox', { name: 'Message pygent' });
    while (sent < total) {
      const batch: ToWebview[] = [];
      for (let i = 0; i < 200; i++) {
        const text = `${line}${n++}\n`;
        batch.push(chunk(text));
        sent += text.length;
      }
      await deliver(page, ...batch);
      if (n % 2000 === 0) {
        // Typing goes on while the answer streams.
        await box.press('x');
      }
    }
    await deliver(page, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' });
    await box.press('y');
    assert.match(await box.inputValue(), /x+y$/);
    const lines = await page.evaluate(async () => {
      for (let i = 0; i < 400; i++) {
        const el = document.querySelector('.msg.agent') as HTMLElement | null;
        if (el && document.body.dataset.busy === 'false' && el.innerText.includes('number ')) {
          return el.innerText.split('\n').filter((l) => l.startsWith('- item')).length;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return 0;
    });
    assert.equal(lines, n, 'every line of the answer is shown');
    // A long answer that is not huge is formatted once the turn ends.
    await deliver(page, { type: 'turnStarted', sessionId: S, prompt: [{ type: 'text', text: 'long' }] });
    const long: ToWebview[] = [];
    for (let i = 0; i < 3000; i++) long.push(chunk(`${line}${i}\n`));
    await deliver(page, ...long, { type: 'turnEnded', sessionId: S, stopReason: 'end_turn' });
    await page.locator('.msg.agent').nth(1).locator('li').nth(2999).waitFor();
    await shot(page, 'huge-answer');
    await page.close();
  });
});

/**
 * The trust question exactly as the server builds it (`pygent.mcp.trust.trust_question`), for
 * a stdio server with a space in an argument and an env reference, and an HTTP server with a
 * secret header. Needs PYGENT_PYTHON with pygent (tests/vscode/test_vscode.py sets it).
 */
function serverTrustQuestion(): RequestPermissionParams {
  const code = [
    'import json, sys',
    'from pathlib import Path',
    'from pygent.mcp.config import ServerConfig',
    'from pygent.mcp.trust import trust_question',
    'from pygent.settings.models import McpServerSettings as S',
    "servers = [ServerConfig('proj', 'project', S(command='/usr/bin/python3', args=['/srv/my server.py', '--port', '7'], env={'TOKEN': '${TOKEN}'})),",
    "           ServerConfig('remote', 'project', S(url='https://mcp.example.com/mcp', headers={'Authorization': 'Bearer ${KEY}'}))]",
    "sys.stdout.write(json.dumps(trust_question(servers, Path('/work/proj'))))",
  ].join('\n');
  const result = spawnSync(process.env.PYGENT_PYTHON || 'python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `building the trust question with pygent failed:\n${result.stderr}`);
  return { sessionId: S, ...(JSON.parse(result.stdout) as Omit<RequestPermissionParams, 'sessionId'>) };
}

const PLUGIN_COMMANDS: ToWebview = {
  type: 'commands',
  commands: [
    { name: 'boom', help: 'Always fails.', source: 'testcmds' },
    { name: 'shout', help: 'Shout the text back.', source: 'testcmds' },
  ],
};

function errorsOf(page: Page): string[] {
  return (page as unknown as { errors: string[] }).errors;
}

describe('slash commands and the MCP trust card', () => {
  it('completes the built-in and plugin commands with their help and source', async () => {
    const page = await openView();
    await deliver(page, SESSION, PLUGIN_COMMANDS);
    const box = page.getByRole('textbox', { name: 'Message pygent' });
    await box.press('/');
    const list = page.getByRole('listbox', { name: 'Commands' });
    await list.waitFor();
    const options = list.getByRole('option');
    const texts = await options.allInnerTexts();
    const names = texts.map((t) => t.split(/\s/)[0]);
    assert.deepEqual(names, ['/help', '/new', '/sessions', '/model', '/mode', '/boom', '/shout']);
    const shout = texts[names.indexOf('/shout')];
    assert.match(shout, /Shout the text back\./);
    assert.match(shout, /testcmds/);
    assert.match(texts[names.indexOf('/new')], /built-in/);
    await shot(page, 'slash-completion');
    // Typing filters; the arrow keys move; Tab completes the name and closes the list.
    await box.pressSequentially('s');
    assert.deepEqual((await options.allInnerTexts()).map((t) => t.split(/\s/)[0]), ['/sessions', '/shout']);
    await box.press('ArrowDown');
    assert.equal(await options.nth(1).getAttribute('aria-selected'), 'true');
    assert.equal(await box.getAttribute('aria-activedescendant'), 'slash-1');
    await box.press('Tab');
    assert.equal(await box.inputValue(), '/shout ');
    assert.equal(await list.isHidden(), true);
    await box.pressSequentially('hello there');
    await box.press('Enter');
    const run = await waitPosted(page, (m) => m.type === 'runCommand');
    assert.deepEqual(run, { type: 'runCommand', name: 'shout', args: 'hello there' });
    assert.equal(await box.inputValue(), '', 'the input is cleared once the command is sent');
    assert.equal((await posted(page)).filter((m) => m.type === 'send').length, 0, 'nothing went to the model');
    assert.deepEqual(errorsOf(page), []);
    await page.close();
  });

  it('shows a command result as a card of its own and an error answer as an error; the chat keeps working', async () => {
    const page = await openView();
    await deliver(page, SESSION, PLUGIN_COMMANDS);
    await deliver(page, { type: 'commandStarted', commandId: 'c1', name: 'shout', args: 'hi', source: 'testcmds' });
    const card = page.locator('.command').first();
    await card.getByText('running…').waitFor();
    await deliver(page, { type: 'commandResult', commandId: 'c1', text: '**HI** (session sess-1)' });
    await card.locator('strong', { hasText: 'HI' }).waitFor();
    assert.match(await card.innerText(), /\/shout hi/);
    assert.match(await card.innerText(), /plugin testcmds/);
    assert.equal(await page.locator('.msg.agent').count(), 0, 'not shown as the model answer');
    await deliver(page, { type: 'commandStarted', commandId: 'c2', name: 'boom', args: 'now', source: 'testcmds' });
    await deliver(page, {
      type: 'commandFailed',
      commandId: 'c2',
      message: "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom now.",
      hint: 'The plugin has a bug: report it to its author.',
    });
    const failed = page.getByRole('alert').filter({ hasText: 'kaboom now' });
    await failed.waitFor();
    assert.match(await failed.innerText(), /The plugin has a bug/);
    await shot(page, 'slash-result');
    // The chat goes on: a prompt is still sent to the model.
    const box = page.getByRole('textbox', { name: 'Message pygent' });
    await box.fill('and now a question');
    await box.press('Enter');
    const send = await waitPosted(page, (m) => m.type === 'send');
    assert.equal(send.text, 'and now a question');
    assert.deepEqual(errorsOf(page), []);
    await page.close();
  });

  it('runs the built-in commands, answers /help, and keeps a mistyped command in the input', async () => {
    const page = await openView();
    await deliver(page, SESSION, PLUGIN_COMMANDS);
    const box = page.getByRole('textbox', { name: 'Message pygent' });
    await box.fill('/help');
    await box.press('Enter');
    const help = page.locator('.notice.info').filter({ hasText: 'Commands' });
    await help.waitFor();
    assert.match(await help.innerText(), /\/shout — Shout the text back\. \(plugin testcmds\)/);
    await box.fill('/mode plan');
    await box.press('Enter');
    assert.deepEqual(await waitPosted(page, (m) => m.type === 'setMode'), { type: 'setMode', modeId: 'plan' });
    await box.fill('/model openai/gpt-4.1');
    await box.press('Enter');
    assert.deepEqual(await waitPosted(page, (m) => m.type === 'setModel'), { type: 'setModel', model: 'openai/gpt-4.1' });
    await box.fill('/shuot hi');
    await box.press('Enter');
    const error = page.getByRole('alert').filter({ hasText: 'Unknown command /shuot.' });
    await error.waitFor();
    assert.match(await error.innerText(), /\/shout/);
    assert.equal(await box.inputValue(), '/shuot hi', 'the mistyped command stays to be fixed');
    const sent = (await posted(page)).filter((m) => m.type === 'send' || m.type === 'runCommand');
    assert.deepEqual(sent, [], 'neither the model nor the server got it');
    // A path is a prompt, not a command.
    await box.fill('/usr/bin/python crashes');
    await box.press('Enter');
    assert.equal((await waitPosted(page, (m) => m.type === 'send')).text, '/usr/bin/python crashes');
    // `//word` sends `/word` to the model.
    await box.fill('//shout is what?');
    await box.press('Enter');
    assert.equal((await waitPosted(page, (m) => m.type === 'send' && m.text !== '/usr/bin/python crashes')).text, '/shout is what?');
    assert.deepEqual(errorsOf(page), []);
    await page.close();
  });

  it('renders the MCP trust question (as the server builds it) as a card with each server command line and the two options', async () => {
    const page = await openView();
    await deliver(page, SESSION, { type: 'permission', requestId: 'p9', params: serverTrustQuestion() });
    const card = page.getByRole('group', { name: /Permission request: Start the MCP servers/ });
    await card.waitFor();
    const text = await card.innerText();
    assert.match(text, /^Start the MCP servers of the project \/work\/proj\?/);
    assert.doesNotMatch(text, /pygent wants to: Start/);
    const servers = await card.getByRole('list', { name: 'MCP servers' }).getByRole('listitem').allInnerTexts();
    assert.equal(servers.length, 2);
    assert.equal(servers[0].split('\n')[0], "proj: /usr/bin/python3 '/srv/my server.py' --port 7");
    assert.equal(servers[0].split('\n')[1], 'in /work/proj · with TOKEN=${TOKEN} · tools run as risk execute');
    assert.equal(servers[1].split('\n')[0], 'remote: https://mcp.example.com/mcp');
    assert.match(servers[1], /with headers Authorization/);
    assert.doesNotMatch(text, /"\w+":|\[\{/, 'no raw JSON');
    assert.doesNotMatch(text, /Bearer/, 'the header value is not shown');
    assert.deepEqual(await card.getByRole('button').allInnerTexts(), ['Trust and start', "Don't start"]);
    await shot(page, 'mcp-trust');
    await card.getByRole('button', { name: /^Trust and start/ }).click();
    assert.deepEqual(await waitPosted(page, (m) => m.type === 'permissionAnswer'), {
      type: 'permissionAnswer',
      requestId: 'p9',
      optionId: 'mcp_trust',
    });
    assert.deepEqual(errorsOf(page), []);
    await page.close();
  });
});
