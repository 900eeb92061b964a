import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('package.json', () => {
  it('is publisher pygent, name pygent-vscode, with the engine vscode-languageclient needs', () => {
    assert.equal(pkg.publisher, 'pygent');
    assert.equal(pkg.name, 'pygent-vscode');
    const client = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8'));
    assert.equal(pkg.engines.vscode, client.engines.vscode);
    assert.equal(pkg.dependencies['vscode-languageclient'], client.version);
  });

  it('contributes the view container, the webview view, commands and settings of the issue', () => {
    assert.deepEqual(pkg.contributes.viewsContainers.activitybar.map((c: { id: string }) => c.id), ['pygent']);
    assert.deepEqual(pkg.contributes.views.pygent, [{ type: 'webview', id: 'pygent.chat', name: 'Chat' }]);
    const commands = pkg.contributes.commands.map((c: { command: string }) => c.command);
    for (const id of [
      'pygent.newChat',
      'pygent.askAboutSelection',
      'pygent.cancel',
      'pygent.resumeSession',
      'pygent.setMode',
      'pygent.setModel',
      'pygent.showLogs',
      'pygent.restartServer',
    ]) {
      assert.ok(commands.includes(id), id);
    }
    const settings = Object.keys(pkg.contributes.configuration.properties);
    assert.deepEqual(settings.sort(), ['pygent.editReview', 'pygent.model', 'pygent.path', 'pygent.permissionMode', 'pygent.trace.server']);
    assert.equal(pkg.contributes.configuration.properties['pygent.editReview'].default, 'refactorPreview');
    const context = pkg.contributes.menus['editor/context'].map((m: { command: string }) => m.command);
    assert.ok(context.includes('pygent.askAboutSelection'));
    assert.ok(pkg.activationEvents.includes('onView:pygent.chat'));
  });
});
