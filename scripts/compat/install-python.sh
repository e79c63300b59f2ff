#!/usr/bin/env bash
# Installs a Python environment of the compatibility suite with scripts/python-venv.sh (a venv
# under .cache/, pip's cache under .cache/pip, retried), keyed by the hash of its requirements
# file, so a changed pin makes a new venv. A no-op when it is already installed.
#   scripts/compat/install-python.sh [main|openai-v2|openlit]    prints the venv's python path
# main:      scripts/compat/python/requirements.txt (every drive.py setup but otel-openai-v2 and
#            openlit-*; dump-otlp.py runs on it, it needs opentelemetry-proto)
# openai-v2: scripts/compat/python/requirements-openai-v2.txt (otel-openai-v2)
# openlit:   scripts/compat/python/requirements-openlit.txt (openlit needs openai < 3, anthropic < 1)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHICH="${1:-main}"
case "$WHICH" in
  main) REQ="$ROOT/scripts/compat/python/requirements.txt"
        CHECK='import openai, anthropic, opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter, opentelemetry.proto.collector.trace.v1.trace_service_pb2, opentelemetry.instrumentation.genai.openai, opentelemetry.instrumentation.genai.anthropic, opentelemetry.instrumentation.openai, opentelemetry.instrumentation.anthropic, openinference.instrumentation.openai, openinference.instrumentation.anthropic' ;;
  openai-v2) REQ="$ROOT/scripts/compat/python/requirements-openai-v2.txt"
        CHECK='import openai, opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter, opentelemetry.instrumentation.openai_v2' ;;
  openlit) REQ="$ROOT/scripts/compat/python/requirements-openlit.txt"
        CHECK='import openlit, openai, anthropic, opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter' ;;
  *) echo "usage: $0 [main|openai-v2|openlit]" >&2; exit 2 ;;
esac
HASH="$(sha256sum "$REQ" | cut -c1-12)"
exec bash "$ROOT/scripts/python-venv.sh" "compat-py-$WHICH-$HASH" "$CHECK" --no-deps -r "$REQ"
