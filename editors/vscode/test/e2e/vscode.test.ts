/**
 * End to end in a real VS Code (code-server) with the built .vsix, the real `pygent serve` and
 * the project's fake LLM server: a prompt from the sidebar, one edit accepted in the refactor
 * preview, one discarded, a permission request answered; files on disk and the chat checked;
 * then the slash commands of a test plugin (tests/mcp/mcp_helpers.py installs it on the server's
 * PYTHONPATH) completed, run and failing; and the question to trust a project's MCP servers.
 *
 * Environment: PYGENT_CODE_SERVER (code-server's out/node/entry.js), PYGENT_NODE24_BIN (a
 * directory with Node 24's `node`), PYGENT_PYTHON (a Python with pygent installed), optional
 * PYGENT_CHROMIUM and PYGENT_ARTIFACTS. scripts/ci-setup.sh --e2e installs code-server.
 */

import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';

const ROOT = join(__dirname, '..', '..', '..');
const ARTIFACTS = process.env.PYGENT_ARTIFACTS || join(ROOT, 'test-artifacts');
const PYTHON = process.env.PYGENT_PYTHON || 'python3';
const CODE_SERVER = process.env.PYGENT_CODE_SERVER ?? '';
const NODE24_BIN = process.env.PYGENT_NODE24_BIN ?? '';
const VSIX = join(ROOT, 'pygent-vscode.vsix');
const REPO = join(ROOT, '..', '..');

const children: ChildProcess[] = [];
let browser: Browser | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function startFakeLlm(scriptPath: string): Promise<number> {
  const child = spawn(PYTHON, ['-m', 'pygent.testing.fake_llm', '--script', scriptPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(Number(line.trim())));
    child.once('exit', (code) => reject(new Error(`fake LLM server exited with ${code}`)));
  });
}

async function waitHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `e2e-${name}.png`) });
}

function chat(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

const SCRIPT = [
  {
    text: 'I will edit both files.',
    tool_calls: [{ name: 'edit_file', arguments: { path: 'a.py', old_string: 'x = 1', new_string: 'x = 2' } }],
  },
  { tool_calls: [{ name: 'edit_file', arguments: { path: 'b.py', old_string: 'y = 1', new_string: 'y = 2' } }] },
  { tool_calls: [{ name: 'shell', arguments: { command: 'echo ran > ran.txt' } }] },
  { text: 'All **done**: a.py:1 edited, b.py left alone.' },
  // The second prompt streams slowly: the test kills `pygent serve` in the middle of it.
  { text: 'Streaming slowly. '.repeat(60), delay: 0.25 },
  { text: 'Back after the restart.' },
  { text: 'Fine again.' },
  { text: 'Without the project tools.' },
];

/** Pid of the `pygent serve` whose working directory is `cwd` (found in /proc, killed by id). */
function servePid(cwd: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.includes('serve') && cmdline.some((a) => a.includes('pygent')) && readlinkSync(`/proc/${entry}/cwd`) === cwd) {
        return Number(entry);
      }
    } catch {
      /* gone or not ours */
    }
  }
  return undefined;
}

describe('pygent in a real VS Code', () => {
  let workspace = '';
  let settingsFile = '';
  let settings: Record<string, unknown> = {};
  let page: Page;

  before(async () => {
    assert.ok(existsSync(CODE_SERVER), `PYGENT_CODE_SERVER must point at code-server's entry.js (got ${JSON.stringify(CODE_SERVER)}); run scripts/ci-setup.sh --e2e`);
    assert.ok(existsSync(join(NODE24_BIN, 'node')), 'PYGENT_NODE24_BIN must hold Node 24');
    assert.ok(existsSync(VSIX), 'build the .vsix first: npm run package');
    const base = mkdtempSync(join(tmpdir(), 'pygent-vscode-e2e-'));
    workspace = join(base, 'ws');
    const userData = join(base, 'user-data');
    const extensions = join(base, 'extensions');
    mkdirSync(workspace);
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(workspace, 'a.py'), 'x = 1\n');
    writeFileSync(join(workspace, 'b.py'), 'y = 1\n');
    settingsFile = join(userData, 'User', 'settings.json');
    settings = {
          'pygent.path': `${PYTHON} -m pygent`,
          'pygent.permissionMode': 'ask',
          'pygent.editReview': 'refactorPreview',
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'security.workspace.trust.enabled': false,
          'telemetry.telemetryLevel': 'off',
          'extensions.autoCheckUpdates': false,
          'update.mode': 'none',
    };
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
    const scriptPath = join(base, 'script.json');
    writeFileSync(scriptPath, JSON.stringify(SCRIPT));
    const llmPort = await startFakeLlm(scriptPath);
    // The `testcmds` plugin (slash commands), installed as the Python tests do.
    const site = join(base, 'site');
    const plugin = spawnSync(
      PYTHON,
      [
        '-c',
        'import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); from mcp_helpers import install_test_plugin; install_test_plugin(Path(sys.argv[2]))',
        join(REPO, 'tests', 'mcp'),
        site,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(plugin.status, 0, `installing the test plugin failed:\n${plugin.stderr}`);
    const env = {
      ...process.env,
      PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(':'),
      PATH: `${NODE24_BIN}:${process.env.PATH}`,
      PYGENT_MODEL: 'openai/fake-model',
      PYGENT_API_BASE: `http://127.0.0.1:${llmPort}/v1`,
      PYGENT_API_KEY: 'sk-fake',
      PYGENT_LOG_DISABLED: '1',
    };
    const common = ['--extensions-dir', extensions, '--user-data-dir', userData];
    const install = spawnSync(join(NODE24_BIN, 'node'), [CODE_SERVER, ...common, '--install-extension', VSIX], {
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(install.status, 0, `installing the .vsix failed:\n${install.stdout}\n${install.stderr}`);
    const port = await freePort();
    const server = spawn(
      join(NODE24_BIN, 'node'),
      [
        CODE_SERVER,
        ...common,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        workspace,
      ],
      { env, stdio: ['ignore', 'inherit', 'inherit'], detached: process.platform !== 'win32' },
    );
    children.push(server);
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 120_000);
    browser = await chromium.launch({
      executablePath: process.env.PYGENT_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    for (const child of children) {
      try {
        if (child.pid && process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* not a group leader */
      }
      child.kill('SIGTERM');
    }
  });

  it('asks for a change, reviews the edits in the refactor preview and answers a permission request', async (t) => {
    t.after(async () => {
      await shot(page, 'last').catch(() => undefined);
    });
    await page.locator('.activitybar [aria-label^="pygent"]').first().click({ timeout: 60_000 });
    const view = chat(page);
    const box = view.getByRole('textbox', { name: 'Message pygent' });
    await box.waitFor({ timeout: 60_000 });
    await view.locator('.model', { hasText: 'openai/fake-model' }).waitFor({ timeout: 60_000 });
    await shot(page, '1-view');
    await box.fill('set x to 2 and y to 2, then run the script');
    await box.press('Enter');

    // First edit: accept in VS Code's refactor preview.
    const apply = page.getByRole('button', { name: 'Apply', exact: true });
    await apply.waitFor({ timeout: 60_000 });
    await shot(page, '2-refactor-preview');
    // Annotated edits start unticked in the preview: tick the file, then apply.
    await page.locator('.monaco-list-row', { hasText: 'a.py' }).first().getByRole('checkbox').first().click();
    await apply.click();
    // Second edit: discard.
    const discard = page.getByRole('button', { name: 'Discard', exact: true });
    await discard.waitFor({ timeout: 60_000 });
    await page.waitForTimeout(500);
    await discard.click();

    // Then the shell command asks permission inline.
    const group = view.getByRole('group', { name: /Permission request: / });
    await group.waitFor({ timeout: 60_000 });
    await shot(page, '3-permission');
    await group.getByRole('button', { name: /^Allow once/ }).click();

    await view.locator('.msg.agent strong', { hasText: 'done' }).waitFor({ timeout: 60_000 });
    await shot(page, '4-done');
    assert.equal(readFileSync(join(workspace, 'a.py'), 'utf8'), 'x = 2\n');
    assert.equal(readFileSync(join(workspace, 'b.py'), 'utf8'), 'y = 1\n');
    assert.equal(readFileSync(join(workspace, 'ran.txt'), 'utf8').trim(), 'ran');
    const cards = await view.locator('details.tool summary').allInnerTexts();
    assert.equal(cards.length, 3, cards.join(' | '));
    assert.match(cards[0], /done/);
    assert.match(cards[1], /rejected/, 'the discarded edit is rejected, not failed');
    assert.doesNotMatch(cards[1], /failed/);
    assert.match(await view.locator('.msg.user').first().innerText(), /set x to 2/);
    // A file name in the answer opens the workspace file in an editor (not http://a.py).
    await view.locator('a.file-link', { hasText: 'a.py:1' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'a.py' }).first().waitFor({ timeout: 60_000 });
    await shot(page, '4b-file-link');
  });
  it('keeps the text when pygent serve dies mid-turn; restart and resume continues the session', async (t) => {
    t.after(async () => {
      await shot(page, 'last-died').catch(() => undefined);
    });
    const view = chat(page);
    const box = view.getByRole('textbox', { name: 'Message pygent' });
    await box.fill('stream something long');
    await box.press('Enter');
    await view.locator('.msg.agent', { hasText: 'Streaming slowly. Streaming slowly.' }).waitFor({ timeout: 60_000 });
    const pid = servePid(workspace);
    assert.ok(pid, 'found the pygent serve process');
    process.kill(pid, 'SIGKILL');
    const alert = view.getByRole('alert').filter({ hasText: 'stopped in the middle of the turn' });
    await alert.waitFor({ timeout: 60_000 });
    await shot(page, '5-server-died');
    assert.match(await view.locator('.msg.agent').last().innerText(), /Streaming slowly\./, 'the partial answer stays');
    await alert.getByRole('button', { name: 'Restart the server and resume the session' }).click();
    await view.locator('.notice', { hasText: 'Server restarted; session resumed.' }).waitFor({ timeout: 60_000 });
    const newPid = servePid(workspace);
    assert.ok(newPid && newPid !== pid, 'a new server runs');
    assert.match(await view.locator('.msg.agent').last().innerText(), /Streaming slowly\./, 'nothing was lost');
    assert.equal(await view.locator('.msg.user').count(), 2, 'the resume did not replay the history over the transcript');
    await box.fill('are you back?');
    await box.press('Enter');
    await view.locator('.msg.agent', { hasText: 'Back after the restart.' }).waitFor({ timeout: 60_000 });
    await shot(page, '6-resumed');
  });

  it("completes and runs a plugin's slash command from the server; a failing one is an error and the chat goes on", async (t) => {
    t.after(async () => {
      await shot(page, 'last-slash').catch(() => undefined);
    });
    const view = chat(page);
    const box = view.getByRole('textbox', { name: 'Message pygent' });
    await box.fill('');
    await box.pressSequentially('/sh');
    const options = view.getByRole('listbox', { name: 'Commands' }).getByRole('option');
    await options.first().waitFor({ timeout: 60_000 });
    const texts = await options.allInnerTexts();
    assert.equal(texts.length, 1, texts.join(' | '));
    assert.match(texts[0], /\/shout\s+Shout the text back\.\s+testcmds/);
    await box.press('Tab');
    await box.pressSequentially('from vs code');
    await shot(page, '7-slash-completion');
    await box.press('Enter');
    const card = view.locator('.command.done', { hasText: '/shout from vs code' });
    await card.locator('strong', { hasText: 'FROM VS CODE' }).waitFor({ timeout: 60_000 });
    assert.match(await card.innerText(), /plugin testcmds/);
    assert.match(await card.innerText(), /cwd /);
    await box.fill('/boom now');
    await box.press('Enter');
    const failed = view.getByRole('alert').filter({ hasText: "The command /boom of the plugin 'testcmds' failed: ValueError: kaboom now." });
    await failed.waitFor({ timeout: 60_000 });
    assert.match(await failed.innerText(), /The plugin has a bug/);
    await shot(page, '8-slash-done');
    await box.fill('still there?');
    await box.press('Enter');
    await view.locator('.msg.agent', { hasText: 'Fine again.' }).waitFor({ timeout: 60_000 });
  });

  it("asks to trust the project's MCP servers with a card listing the command line; Don't start goes on without them", async (t) => {
    t.after(async () => {
      await shot(page, 'last-trust').catch(() => undefined);
    });
    const server = join(REPO, 'tests', 'mcp', 'servers', 'stdio_server.py');
    mkdirSync(join(workspace, '.pygent'), { recursive: true });
    writeFileSync(
      join(workspace, '.pygent', 'config.toml'),
      `[mcp.servers.proj]\ncommand = ${JSON.stringify(PYTHON)}\nargs = [${JSON.stringify(server)}]\n`,
    );
    // The server reads the settings once: restart it (as a person would after editing them).
    const view = chat(page);
    const restarted = view.locator('.notice', { hasText: 'Server restarted; session resumed.' });
    const before = await restarted.count();
    await page.keyboard.press('F1');
    const palette = page.locator('.quick-input-widget input');
    await palette.waitFor({ timeout: 60_000 });
    await palette.fill('>pygent: Restart Server');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Restart Server' }).first().waitFor({ timeout: 60_000 });
    await palette.press('Enter');
    await restarted.nth(before).waitFor({ timeout: 60_000 });
    const box = view.getByRole('textbox', { name: 'Message pygent' });
    await box.fill('use the project tools');
    await box.press('Enter');
    const card = view.getByRole('group', { name: /Permission request: Start the MCP servers of the project/ });
    await card.waitFor({ timeout: 60_000 });
    await shot(page, '9-mcp-trust');
    const servers = await card.getByRole('list', { name: 'MCP servers' }).getByRole('listitem').allInnerTexts();
    assert.equal(servers.length, 1, servers.join(' | '));
    assert.equal(servers[0].split('\n')[0], `proj: ${PYTHON} ${server}`);
    assert.match(servers[0], new RegExp(`in ${workspace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.doesNotMatch(await card.innerText(), /"\w+":/, 'no raw JSON');
    assert.deepEqual(await card.getByRole('button').allInnerTexts(), ['Trust and start', "Don't start"]);
    // Don't start: nothing is recorded (Trust and start would write to the data directory).
    await card.getByRole('button', { name: /^Don't start/ }).click();
    await view.locator('.msg.agent', { hasText: 'Without the project tools.' }).waitFor({ timeout: 60_000 });
    assert.match(await card.innerText(), /Answered: Don't start/);
  });
});
