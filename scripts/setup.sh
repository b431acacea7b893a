#!/usr/bin/env bash
# Create .venv with a Python >= 3.12 (mesa >= 3.4 needs it) and install the project with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

works() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c
  for c in "${PYTHON:-}" python3.12 python3.13; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && works "$c" && { command -v "$c"; return; }
  done
  if command -v pyenv >/dev/null 2>&1; then
    for c in $(ls -d "$(pyenv root)"/versions/3.1[2-9]* 2>/dev/null | sort -V); do  # oldest supported first: 3.12
      works "$c/bin/python" && { echo "$c/bin/python"; return; }
    done
  fi
  works python3 && { command -v python3; return; }
  return 1
}

if [ -x .venv/bin/python ] && works .venv/bin/python; then
  py=.venv/bin/python
else
  base=$(find_python) || { echo "setup: no Python >= 3.12 found (tried \$PYTHON, python3.12, python3.13, pyenv versions, python3); install one, e.g. 'pyenv install 3.12'" >&2; exit 1; }
  echo "setup: creating .venv with $base" >&2
  rm -rf .venv
  "$base" -m venv .venv
  py=.venv/bin/python
fi
"$py" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$py" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
echo "setup: ready ($("$py" --version))" >&2
