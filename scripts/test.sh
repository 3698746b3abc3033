#!/usr/bin/env bash
# Every test: set up, build, run the whole CTest suite (ends with CTest's summary line); then the
# same suite built with AddressSanitizer + UndefinedBehaviorSanitizer, a short bounded run of every
# fuzz target in that build (FUZZ_SECONDS each, default 10), and the threaded parts under
# ThreadSanitizer (scripts/sanitize.sh). SANITIZE=0 skips the sanitizer builds, FUZZ_SECONDS=0
# the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
(cd "${BUILD_DIR:-build}" && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j2 --timeout 600)
if [ "${SANITIZE:-1}" != "0" ]; then
  bash scripts/sanitize.sh asan
  if [ "${FUZZ_SECONDS:-10}" != "0" ]; then
    bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
  fi
  bash scripts/sanitize.sh tsan
fi
