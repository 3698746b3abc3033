#!/usr/bin/env bash
# Every test: set up, build, run the whole CTest suite (ends with CTest's summary line), then a
# short bounded run of every fuzz target under ASan and UBSan (FUZZ_SECONDS each, default 10;
# 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd "${BUILD_DIR:-build}" && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2 --timeout 600)
if [ "${FUZZ_SECONDS:-10}" != "0" ]; then
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi
