import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chatHtml, contentSecurityPolicy, makeNonce } from '../../src/html';

describe('webview html', () => {
  it('has a strict CSP with the nonce and no inline or eval', () => {
    const nonce = makeNonce();
    const csp = contentSecurityPolicy('vscode-webview://abc', nonce);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = chatHtml({ cspSource: 'vscode-webview://abc', nonce, scriptUri: 'https://x/main.js', styleUri: 'https://x/main.css' });
    assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://x/main.js">`));
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });

  it('makes a new 32-character nonce each load', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.equal(a.length, 32);
    assert.match(a, /^[A-Za-z0-9]+$/);
    assert.notEqual(a, b);
  });
});
