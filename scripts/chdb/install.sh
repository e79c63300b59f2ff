#!/usr/bin/env bash
# Installs chDB (a current ClickHouse engine, in-process, from PyPI) into a virtual environment
# under .cache/ for the schema compatibility test. Pinned; retried, since it is a download.
#   scripts/chdb/install.sh      prints the venv's python path on success
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
CHDB_VERSION="${COSTTRACE_CHDB_VERSION:-4.4.0}"
VENV="$CACHE/chdb-venv-$CHDB_VERSION"
PY="$VENV/bin/python"

log() { printf '[chdb] %s\n' "$*" >&2; }

if [[ -x "$PY" ]] && "$PY" -c 'import chdb' 2>/dev/null; then
  echo "$PY"
  exit 0
fi
command -v python3 >/dev/null || { log "python3 not found: install Debian's python3 and python3-venv"; exit 1; }
rm -rf "$VENV"
python3 -m venv "$VENV" || { log "python3 -m venv failed: install Debian's python3-venv"; exit 1; }
for attempt in 1 2 3; do
  if "$PY" -m pip install --quiet --disable-pip-version-check "chdb==$CHDB_VERSION" >&2; then
    "$PY" -c 'import chdb' && { echo "$PY"; exit 0; }
  fi
  log "pip install chdb==$CHDB_VERSION failed (attempt $attempt of 3)"
  sleep $((attempt * 5))
done
log "could not install chdb==$CHDB_VERSION"
exit 1
