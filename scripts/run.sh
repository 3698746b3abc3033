#!/usr/bin/env bash
# The main job: set up, build, then run the seeded scenarios and print their table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${BUILD_DIR:-build}/tests/bench/syncbench" --scenarios resources/scenarios "$@"
