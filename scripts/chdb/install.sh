#!/usr/bin/env bash
# Installs chDB (a current ClickHouse engine, in-process, from PyPI) into a virtual environment
# under .cache/ for the schema compatibility test. Pinned; retried, since it is a download.
#   scripts/chdb/install.sh      prints the venv's python path on success
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHDB_VERSION="${COSTTRACE_CHDB_VERSION:-4.4.0}"
exec bash "$ROOT/scripts/python-venv.sh" "chdb-venv-$CHDB_VERSION" 'import chdb' "chdb==$CHDB_VERSION"
