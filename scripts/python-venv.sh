#!/usr/bin/env bash
# Creates (once) a virtual environment under .cache/ with pinned PyPI packages and prints its
# python path. Retried, since it is a download; pip's cache is kept under .cache/pip.
#   scripts/python-venv.sh NAME 'python import check' package==version...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
NAME="$1"
CHECK="$2"
shift 2
VENV="$CACHE/$NAME"
PY="$VENV/bin/python"

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }

if [[ -x "$PY" ]] && "$PY" -c "$CHECK" 2>/dev/null; then
  echo "$PY"
  exit 0
fi
command -v python3 >/dev/null || { log "python3 not found: install Debian's python3 and python3-venv"; exit 1; }
rm -rf "$VENV"
python3 -m venv "$VENV" || { log "python3 -m venv failed: install Debian's python3-venv"; exit 1; }
for attempt in 1 2 3; do
  if "$PY" -m pip install --quiet --disable-pip-version-check --cache-dir "$CACHE/pip" "$@" >&2; then
    "$PY" -c "$CHECK" && { echo "$PY"; exit 0; }
  fi
  log "pip install $* failed (attempt $attempt of 3)"
  sleep $((attempt * 5))
done
log "could not install $*"
exit 1
