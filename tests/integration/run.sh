#!/usr/bin/env bash
# Runs the integration tests against an otlpgate binary: installs the pinned npm packages when they
# are missing or older than package-lock.json, then runs every *.test.mjs with node's test runner.
set -euo pipefail
bin=${1:?usage: tests/integration/run.sh <path to the otlpgate binary>}
[ -x "$bin" ] || { echo "run.sh: $bin is not an executable otlpgate binary" >&2; exit 1; }
OTLPGATE_BIN=$(realpath "$bin")
export OTLPGATE_BIN
cd "$(dirname "$0")"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (./script/bootstrap installs it)" >&2; exit 1; }
done
# npm ci writes node_modules/.package-lock.json; a lockfile newer than it means a stale install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# One file at a time: each starts its own gateway and backends; a hung test fails after 2 minutes.
exec node --test --test-concurrency=1 --test-timeout=120000 ./*.test.mjs
