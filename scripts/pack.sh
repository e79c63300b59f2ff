#!/usr/bin/env bash
# Builds the workspace and packs every package users install, in lock-step (one version for all,
# their dependencies on each other pinned to it), into one tarball each:
#   bash scripts/pack.sh [OUT_DIR]      default .cache/packages/; prints the tarball paths
# `npm publish <tarball>` of each, in the order printed (dependencies first), publishes a release.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/.cache/packages}"
cd "$ROOT"
# Dependencies before their dependents.
PACKAGES=(packages/core packages/client packages/catalog packages/proto packages/store packages/otel packages/service-kit services/pricing-cache
  services/aggregator services/demo-inference packages/cli services/embedded)
VERSION="$(node -p 'require("./package.json").version')"
for ws in "${PACKAGES[@]}"; do
  node -e '
    const [file, version] = process.argv.slice(1);
    const pkg = require(file);
    const bad = [];
    if (pkg.version !== version) bad.push(`version ${pkg.version}, not ${version}`);
    for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
      if (name.startsWith("@costtrace/") && range !== version) bad.push(`${name}@${range}, not ${version}`);
    }
    if (pkg.private) bad.push("private");
    if (bad.length) { console.error(`${pkg.name}: ${bad.join("; ")} (packages are released in lock-step)`); process.exit(1); }
  ' "$ROOT/$ws/package.json" "$VERSION"
done
npm run build >/dev/null
mkdir -p "$OUT"
cleanup() { for ws in "${PACKAGES[@]}"; do rm -f "$ROOT/$ws/LICENSE"; done; }
trap cleanup EXIT
for ws in "${PACKAGES[@]}"; do
  cp "$ROOT/LICENSE" "$ROOT/$ws/LICENSE"
  name="$(npm pack --workspace "$ws" --pack-destination "$OUT" --silent | tail -1)"
  echo "$OUT/$name"
done
