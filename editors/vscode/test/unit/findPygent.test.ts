import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { candidates, execProbe, findPygent, PygentNotFound, splitCommandLine } from '../../src/findPygent';

const PYTHON = process.env.PYGENT_PYTHON || 'python3';

describe('finding pygent', () => {
  it('splits pygent.path like a shell would, quotes included', () => {
    assert.deepEqual(splitCommandLine('/usr/bin/python3 -m pygent'), ['/usr/bin/python3', '-m', 'pygent']);
    assert.deepEqual(splitCommandLine('"/opt/my tools/pygent"'), ['/opt/my tools/pygent']);
    assert.deepEqual(splitCommandLine('  '), []);
  });

  it('tries the setting alone, else PATH, the Python extension, python3', () => {
    assert.deepEqual(candidates('/x/pygent', '/venv/bin/python', 'linux').map((c) => c.source), ['setting']);
    assert.deepEqual(
      candidates('', '/venv/bin/python', 'linux').map((c) => [c.command, ...c.args].join(' ')),
      ['pygent', '/venv/bin/python -m pygent', 'python3 -m pygent'],
    );
    assert.equal(candidates('', undefined, 'win32').at(-1)?.command, 'python');
  });

  it('finds the real pygent through python -m pygent', async () => {
    const found = await findPygent(candidates(`${PYTHON} -m pygent`, undefined));
    assert.equal(found.command, PYTHON);
  });

  it('a missing pygent gives one clear message naming the fix', async () => {
    await assert.rejects(
      findPygent(candidates('', undefined).map((c) => ({ ...c, command: `/nonexistent/${c.command}` }))),
      (err: unknown) => {
        assert.ok(err instanceof PygentNotFound);
        assert.match(err.message, /pygent was not found/);
        assert.match(err.message, /pip install pygent/);
        assert.match(err.message, /pygent\.path/);
        assert.equal(err.tried.length, 2);
        return true;
      },
    );
  });

  it('a pygent.path that crashes is reported with the setting named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pygent-vscode-'));
    const script = join(dir, 'crashing-pygent');
    writeFileSync(script, '#!/bin/sh\necho "Traceback: boom" >&2\nexit 3\n');
    chmodSync(script, 0o755);
    const probe = await execProbe({ command: script, args: [], source: 'setting' });
    assert.equal(probe.ok, false);
    await assert.rejects(findPygent(candidates(script, undefined)), /could not be started with the pygent\.path setting/);
  });
});
