#!/usr/bin/env bash
# Every test: set up, build, run the whole CTest suite (ends with CTest's summary line).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd "${BUILD_DIR:-build}"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2 --timeout 600
