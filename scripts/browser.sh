#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser test, from Debian's packages (never a browser
# download by playwright). Prints the executable's path; installs it when missing.
#
#   scripts/browser.sh            ensure /usr/bin/chromium exists (apt-get install, with retries)
#
# COSTTRACE_CHROMIUM overrides the executable (a Chromium installed some other way).
set -euo pipefail

BIN="${COSTTRACE_CHROMIUM:-/usr/bin/chromium}"
log() { printf '[browser] %s\n' "$*" >&2; }

if [[ -x "$BIN" ]]; then
  printf '%s\n' "$BIN"
  exit 0
fi
if [[ -n "${COSTTRACE_CHROMIUM:-}" ]]; then
  log "COSTTRACE_CHROMIUM=$BIN is not an executable"
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  log "no $BIN and no apt-get: install Chromium and set COSTTRACE_CHROMIUM to its path"
  exit 1
fi
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=(sudo -n); else
    log "installing chromium needs root (apt-get install -y chromium)"
    exit 1
  fi
fi

# retry N cmd...: network-bound steps only, with a growing pause.
retry() {
  local n=$1 i=1
  shift
  until "$@"; do
    if ((i >= n)); then return 1; fi
    log "attempt $i of $n failed: $*; retrying in $((i * 5))s"
    sleep $((i * 5))
    i=$((i + 1))
  done
}

log "installing Debian's chromium (first run only)"
export DEBIAN_FRONTEND=noninteractive
retry 4 "${SUDO[@]}" apt-get update -q >&2
retry 4 "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium >&2
[[ -x "$BIN" ]] || { log "apt-get finished but $BIN is missing"; exit 1; }
printf '%s\n' "$BIN"
