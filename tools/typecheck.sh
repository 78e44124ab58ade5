#!/usr/bin/env bash
# mypy over the three packages under their installed names (pagi.protocol, ...).
# The folders are mapped to pagi.* by pyproject; mypy cannot follow that mapping,
# so we give it a temporary tree of symlinks named the way the code is imported.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
mypy=${MYPY:-$repo/.venv/bin/mypy}
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/pagi"
for pkg in protocol frontend worker; do ln -s "$repo/$pkg" "$tree/pagi/$pkg"; done
cd "$tree"
"$mypy" --config-file "$repo/pyproject.toml" -p pagi.protocol -p pagi.frontend -p pagi.worker
