import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { findFileRefs, renderMarkdown } from '../../webview/markdown';

describe('file names in answers', () => {
  it('app.py, README.md, main.rs and setup.sh are workspace file links, never http links', () => {
    const html = renderMarkdown('Edit app.py, then README.md, main.rs and setup.sh.');
    assert.doesNotMatch(html, /http:\/\//, html);
    for (const name of ['app.py', 'README.md', 'main.rs', 'setup.sh']) {
      assert.match(html, new RegExp(`<a href="#" class="file-link" data-path="${name.replace('.', '\\.')}"[^>]*>${name.replace('.', '\\.')}</a>`), html);
    }
  });

  it('a :line suffix, inline code and relative Markdown links carry the line', () => {
    const html = renderMarkdown('See src/x.py:42, `util.py:2`, (see app.py:9) and [the tests](tests/test_x.py#L7).');
    assert.match(html, /data-path="app\.py"[^>]*data-line="9"[^>]*>app\.py:9<\/a>/, html);
    assert.match(html, /data-path="src\/x\.py"[^>]*data-line="42"/);
    assert.match(html, /data-path="util\.py"[^>]*data-line="2"[^>]*><code>util\.py:2<\/code><\/a>/);
    assert.match(html, /data-path="tests\/test_x\.py"[^>]*data-line="7"[^>]*>the tests<\/a>/);
  });

  it('real URLs stay web links, emails and www. too; prose is left alone', () => {
    const html = renderMarkdown(
      'Docs: https://peps.python.org/pep-0257/ and www.example.com, mail a@b.io. Node.js 3.14 e.g. v1.2 i.e. fine.',
    );
    assert.match(html, /<a href="https:\/\/peps\.python\.org\/pep-0257\/">/);
    assert.match(html, /<a href="http:\/\/www\.example\.com">/);
    assert.match(html, /<a href="mailto:a@b\.io">/);
    assert.doesNotMatch(html, /file-link/, html);
  });

  it('finds names with directories, dots and lines, not numbers or library names', () => {
    assert.deepEqual(
      findFileRefs('a ./pkg/mod.py:3:1 b /abs/dir/file.tsx c 1.5 d Node.js e .env f Makefile').map((r) => [r.path, r.line]),
      [
        ['./pkg/mod.py', 3],
        ['/abs/dir/file.tsx', undefined],
        ['Makefile', undefined],
      ],
    );
  });

  it('javascript: links are still refused', () => {
    assert.doesNotMatch(renderMarkdown('[x](javascript:alert(1))'), /<a /);
  });
});
