#!/usr/bin/env bash
# Install Debian's chromium and chromedriver for the dashboard's browser test, once (quiet, idempotent).
# Playwright drives this chromium (never `playwright install`: there is no browser download here).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: no apt-get; install chromium and chromium-driver yourself" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup-browser: need root (or sudo) to apt-get install chromium" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup-browser: installing chromium and chromium-driver" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "setup-browser: ready ($(/usr/bin/chromium --version 2>/dev/null | head -1))" >&2
