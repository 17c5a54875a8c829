#!/usr/bin/env bash
# Debian packages the tests need (the language server's Neovim test; ripgrep for the benchmarks; zsh and fish
# to check the generated shell completion scripts).  `make demo` does not need any of them.
# Installs only what is missing; runs `apt-get update` at most once.
set -euo pipefail
need=()
command -v nvim >/dev/null 2>&1 || need+=(neovim)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v git >/dev/null 2>&1 || need+=(git)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # the web UI's browser tests (tests/web/test_browser.py)
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "[setup] installing Debian packages: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
