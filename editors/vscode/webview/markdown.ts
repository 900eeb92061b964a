/** Markdown to safe HTML: markdown-it with raw HTML disabled, highlight.js for code blocks. */

import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import diff from 'highlight.js/lib/languages/diff';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import typescript from 'highlight.js/lib/languages/typescript';
import yaml from 'highlight.js/lib/languages/yaml';
import ini from 'highlight.js/lib/languages/ini';

hljs.registerLanguage('bash', bash);
hljs.registerLanguage('diff', diff);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('python', python);
hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('ini', ini);
hljs.registerAliases(['sh', 'shell', 'console'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['js'], { languageName: 'javascript' });
hljs.registerAliases(['ts'], { languageName: 'typescript' });
hljs.registerAliases(['toml'], { languageName: 'ini' });

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const md: MarkdownIt = new MarkdownIt({
  html: false,
  linkify: true,
  breaks: false,
  highlight(code: string, lang: string): string {
    const name = lang.trim().split(/\s+/)[0];
    if (name && hljs.getLanguage(name) && code.length < 200_000) {
      try {
        return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
      } catch {
        /* fall through to plain text */
      }
    }
    return escapeHtml(code);
  },
});

// Only http(s), mailto and file links, and relative paths (shown as workspace file links below);
// markdown-it already refuses javascript: URLs.
const defaultValidate = md.validateLink.bind(md);
md.validateLink = (url: string): boolean => {
  const u = url.trim();
  return defaultValidate(u) && (/^(https?:|mailto:|file:|#)/i.test(u) || isRelativePath(u));
};

// Fuzzy links (no scheme) would turn `app.py`, `README.md`, `main.rs`, `setup.sh` into web sites
// (`.py`, `.md`, `.rs`, `.sh` are country domains): only `www.` addresses are linked without a
// scheme (and emails); file names become workspace file links below.
md.linkify.set({ fuzzyLink: false });
md.linkify.add('www.', {
  validate(text: string, pos: number, self: unknown): number {
    const re = (self as { re: Record<string, string | RegExp | undefined> }).re;
    if (!(re.pygent_www instanceof RegExp)) {
      re.pygent_www = new RegExp(
        `^(?:(?:${String(re.src_domain)})\\.)+${String(re.src_domain_root)}${String(re.src_port)}${String(re.src_host_terminator)}${String(re.src_path)}`,
        'i',
      );
    }
    const m = re.pygent_www.exec(text.slice(pos));
    return m ? m[0].length : 0;
  },
  normalize(match: { url: string }): void {
    match.url = `http://${match.url}`;
  },
});

/** File extensions that make a word a file name (`app.py`, `README.md`, `main.rs`, `setup.sh`). */
const FILE_EXTENSIONS = [
  'py', 'pyi', 'pyx', 'ipynb', 'md', 'markdown', 'rst', 'txt', 'toml', 'yaml', 'yml', 'json', 'jsonc', 'json5',
  'cfg', 'ini', 'conf', 'lock', 'env', 'rs', 'go', 'mod', 'c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'hh', 'java', 'kt', 'kts',
  'scala', 'swift', 'm', 'mm', 'cs', 'fs', 'rb', 'php', 'pl', 'pm', 'lua', 'vim', 'sh', 'bash', 'zsh', 'fish',
  'ps1', 'bat', 'cmd', 'js', 'mjs', 'cjs', 'jsx', 'ts', 'tsx', 'mts', 'cts', 'vue', 'svelte', 'html', 'htm', 'css',
  'scss', 'sass', 'less', 'xml', 'svg', 'sql', 'graphql', 'proto', 'gradle', 'mk', 'cmake', 'tf', 'hcl', 'nix',
  'ex', 'exs', 'erl', 'hrl', 'hs', 'ml', 'mli', 'clj', 'cljs', 'dart', 'r', 'jl', 'zig', 'nim', 'log', 'csv', 'tsv',
  'diff', 'patch', 'dockerfile', 'gitignore', 'editorconfig', 'cfg', 'service', 'pem', 'crt',
];
const EXT = FILE_EXTENSIONS.join('|');
/** Runs of path characters (and a `:line[:col]` suffix): the only places a file name can be. */
const CANDIDATE = /[\w./-]+(?::\d+(?::\d+)?)?/g;
/** A whole candidate that is a file name, optionally with a directory and a `:line` suffix. */
const FILE_NAME = new RegExp(
  `^((?:\\.{1,2}/|/)?(?:[\\w.-]+/)*(?:[\\w-][\\w.-]*\\.(?:${EXT})|Makefile|Dockerfile))(?::(\\d+)(?::\\d+)?)?$`,
  'i',
);
/** Library names that look like files in prose. */
const NOT_FILES = /^(node|next|nuxt|vue|react|express|three|d3|chart|moment|ember|backbone|angular|alpine|solid)\.js$/i;

/** `https:`, `mailto:`… but not `util.py:2` (a colon before a digit is a line number). */
const SCHEME = /^[a-z][a-z0-9+.-]*:(?!\d)/i;

function isRelativePath(url: string): boolean {
  return !SCHEME.test(url) && !url.startsWith('//') && !url.startsWith('#') && url.length > 0;
}

/** The file names (with their line) in `text`, as [start, end, path, line] spans. */
export function findFileRefs(text: string): { start: number; end: number; path: string; line?: number }[] {
  const out: { start: number; end: number; path: string; line?: number }[] = [];
  CANDIDATE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = CANDIDATE.exec(text)) !== null) {
    const before = m.index > 0 ? text[m.index - 1] : '';
    if (before === '@' || before === ':') continue; // an email or the rest of a URL
    // A sentence's full stop (or a dash) after the name is not part of it.
    const word = m[0].replace(/[.-]+$/, '');
    const f = FILE_NAME.exec(word);
    if (!f || NOT_FILES.test(f[1])) continue;
    out.push({ start: m.index, end: m.index + word.length, path: f[1], line: f[2] ? Number(f[2]) : undefined });
  }
  return out;
}

type Token = ReturnType<MarkdownIt['parseInline']>[number];
type TokenCtor = new (type: string, tag: string, nesting: -1 | 0 | 1) => Token;

function fileLinkTokens(Ctor: TokenCtor, inner: Token[], path: string, line?: number): Token[] {
  const open = new Ctor('link_open', 'a', 1);
  open.attrs = [
    ['href', '#'],
    ['class', 'file-link'],
    ['data-path', path],
    ['title', `Open ${path}${line ? `:${line}` : ''} in the editor`],
  ];
  if (line) open.attrs.push(['data-line', String(line)]);
  const close = new Ctor('link_close', 'a', -1);
  return [open, ...inner, close];
}

function textToken(Ctor: TokenCtor, content: string): Token {
  const t = new Ctor('text', '', 0);
  t.content = content;
  return t;
}

/** `src/x.py:42` or `src/x.py#L42` (a relative link's target) as a path and a line. */
function splitLine(target: string): { path: string; line?: number } {
  const m = /^(.*?)(?:#L(\d+)(?:-L?\d+)?|:(\d+)(?::\d+)?)$/.exec(target);
  if (m) return { path: m[1], line: Number(m[2] ?? m[3]) };
  return { path: target };
}

/**
 * Workspace file links: file names in text and in inline code, and relative Markdown links,
 * become `a.file-link` with `data-path` (and `data-line`), which the webview opens in the
 * editor. Links with a scheme (`https://…`, `mailto:`) and `www.` addresses stay web links.
 */
md.core.ruler.after('linkify', 'pygent_file_links', (state) => {
  const Ctor = state.Token as unknown as TokenCtor;
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: Token[] = [];
    const kids = block.children;
    for (let i = 0; i < kids.length; i++) {
      const tok = kids[i];
      if (tok.type === 'link_open') {
        // Find the matching close and the link's own text.
        let j = i + 1;
        while (j < kids.length && kids[j].type !== 'link_close') j++;
        const inner = kids.slice(i + 1, j);
        const href = tok.attrGet('href') ?? '';
        if (tok.markup !== 'linkify' && isRelativePath(href)) {
          let target = href;
          try {
            target = decodeURI(href);
          } catch {
            /* a malformed escape: keep the href as written */
          }
          const { path, line } = splitLine(target);
          out.push(...fileLinkTokens(Ctor, inner, path, line));
          i = j;
          continue;
        }
        out.push(...kids.slice(i, j + 1));
        i = j;
        continue;
      }
      if (tok.type === 'text') {
        const refs = findFileRefs(tok.content);
        if (!refs.length) {
          out.push(tok);
          continue;
        }
        let at = 0;
        for (const ref of refs) {
          if (ref.start > at) out.push(textToken(Ctor, tok.content.slice(at, ref.start)));
          out.push(...fileLinkTokens(Ctor, [textToken(Ctor, tok.content.slice(ref.start, ref.end))], ref.path, ref.line));
          at = ref.end;
        }
        if (at < tok.content.length) out.push(textToken(Ctor, tok.content.slice(at)));
        continue;
      }
      if (tok.type === 'code_inline') {
        const refs = findFileRefs(tok.content);
        if (refs.length === 1 && refs[0].start === 0 && refs[0].end === tok.content.length) {
          out.push(...fileLinkTokens(Ctor, [tok], refs[0].path, refs[0].line));
          continue;
        }
      }
      out.push(tok);
    }
    block.children = out;
  }
});

export function renderMarkdown(text: string): string {
  return md.render(text);
}
