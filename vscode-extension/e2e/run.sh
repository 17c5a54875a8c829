#!/usr/bin/env bash
# End-to-end test of the extension in a real VS Code (code-server) driven through headless Chromium.
#   SESSIONLENS_PYTHON     interpreter with sessionlens installed (default: <repo>/.venv/bin/python)
#   SESSIONLENS_CORPUS     session-log corpus (default: <repo>/../shared/corpus)
#   SESSIONLENS_ARTIFACTS  screenshots and logs go to $SESSIONLENS_ARTIFACTS/e2e (default: <repo>/artifacts)
#   SESSIONLENS_CACHE      tool cache of setup.sh (default: ~/.cache/sessionlens-ci)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(dirname "$HERE")"
REPO="$(dirname "$EXT")"
CACHE="${SESSIONLENS_CACHE:-$HOME/.cache/sessionlens-ci}"

bash "$HERE/setup.sh"
# shellcheck disable=SC1091
source "$CACHE/env.sh"

cd "$EXT"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent package >/dev/null
export SESSIONLENS_VSIX="$EXT/sessionlens-0.1.0.vsix"
export SESSIONLENS_PYTHON="${SESSIONLENS_PYTHON:-$REPO/.venv/bin/python}"
export SESSIONLENS_CORPUS="${SESSIONLENS_CORPUS:-$REPO/../shared/corpus}"
export SESSIONLENS_ARTIFACTS="${SESSIONLENS_ARTIFACTS:-$REPO/artifacts}"

exec node --test --test-concurrency=1 "$HERE/e2e.test.mjs"
