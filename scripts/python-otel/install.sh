#!/usr/bin/env bash
# Installs the OpenTelemetry Python SDK and its OTLP/HTTP exporter (pinned, from PyPI) into a
# virtual environment under .cache/, for the tests that send spans the way a Python service
# without costtrace's SDK does. Retried, since it is a download; cached across runs.
#   scripts/python-otel/install.sh      prints the venv's python path on success
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"
OTEL_VERSION="${COSTTRACE_PYTHON_OTEL_VERSION:-1.45.2}"
VENV="$CACHE/python-otel-venv-$OTEL_VERSION"
PY="$VENV/bin/python"
CHECK='import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter'

log() { printf '[python-otel] %s\n' "$*" >&2; }

if [[ -x "$PY" ]] && "$PY" -c "$CHECK" 2>/dev/null; then
  echo "$PY"
  exit 0
fi
command -v python3 >/dev/null || { log "python3 not found: install Debian's python3 and python3-venv"; exit 1; }
rm -rf "$VENV"
python3 -m venv "$VENV" || { log "python3 -m venv failed: install Debian's python3-venv"; exit 1; }
for attempt in 1 2 3; do
  if "$PY" -m pip install --quiet --disable-pip-version-check --cache-dir "$CACHE/pip" \
    "opentelemetry-sdk==$OTEL_VERSION" "opentelemetry-exporter-otlp-proto-http==$OTEL_VERSION" >&2; then
    "$PY" -c "$CHECK" && { echo "$PY"; exit 0; }
  fi
  log "pip install opentelemetry-sdk==$OTEL_VERSION failed (attempt $attempt of 3)"
  sleep $((attempt * 5))
done
log "could not install opentelemetry-sdk==$OTEL_VERSION"
exit 1
