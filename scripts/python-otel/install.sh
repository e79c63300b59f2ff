#!/usr/bin/env bash
# Installs the OpenTelemetry Python SDK and its OTLP/HTTP exporter (pinned, from PyPI) into a
# virtual environment under .cache/, for the tests that send spans the way a Python service
# without costtrace's SDK does. Retried, since it is a download; cached across runs.
#   scripts/python-otel/install.sh      prints the venv's python path on success
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OTEL_VERSION="${COSTTRACE_PYTHON_OTEL_VERSION:-1.45.2}"
exec bash "$ROOT/scripts/python-venv.sh" "python-otel-venv-$OTEL_VERSION" \
  'import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter' \
  "opentelemetry-sdk==$OTEL_VERSION" "opentelemetry-exporter-otlp-proto-http==$OTEL_VERSION"
