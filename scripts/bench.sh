#!/usr/bin/env bash
# The engine's scenario benchmarks (docs/benchmarks.md): set up, build, run syncbench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${BUILD_DIR:-build}/tests/bench/syncbench" --scenarios resources/scenarios "$@"
