#!/usr/bin/env bash
# Sanitizer builds, and the test suite under them (docs/reliability.md). clang 14.
#   bash scripts/sanitize.sh asan   # AddressSanitizer + UndefinedBehaviorSanitizer, everything (console
#                                   # included; not the benchmarks) into build-asan/, then the whole
#                                   # CTest suite there (not the packaging label: it tests files, not
#                                   # code). The libFuzzer targets are built in the same tree.
#   bash scripts/sanitize.sh tsan   # ThreadSanitizer, the threaded parts into build-tsan/, and their tests
#   bash scripts/sanitize.sh asan-tree   # only configure build-asan/ (scripts/fuzz.sh builds its targets there)
# Any finding fails the test that caused it (halt_on_error; no recovery from UB).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-asan}
supp=$PWD/tests/sanitizers

configure() {  # dir, compile flags, link flags, extra cmake arguments...
  local dir=$1 cflags=$2 lflags=$3
  shift 3
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DLV_WERROR=OFF -DCMAKE_CXX_FLAGS="$cflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$lflags" -DCMAKE_SHARED_LINKER_FLAGS="$lflags" -DLV_BENCH=OFF "$@" >/dev/null
}

asan_tree() {
  # fuzzer-no-link: coverage instrumentation for the libFuzzer targets; harmless elsewhere.
  configure build-asan "-fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link -fno-omit-frame-pointer -gline-tables-only" \
    "-fsanitize=address,undefined" -DLV_FUZZ=ON
}

case "$kind" in
asan-tree)
  asan_tree
  ;;
asan)
  asan_tree
  cmake --build build-asan -j"${JOBS:-2}"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  cd build-asan
  QT_QPA_PLATFORM=offscreen ctest -LE 'packaging|bench' --output-on-failure -j2 --timeout 900
  ;;
tsan)
  # The threads of our own that synchronise through our own code: UDP sockets, region hosts
  # (socket and tick threads, bot swarms), the store and the cluster's feeds, the simulated world.
  # Not here: the API server and the console's client library (their threads are gRPC's, whose
  # hand-offs TSan cannot see in Debian's uninstrumented build: every call reports a race inside
  # grpcpp's own templates) and the incident desk (Qt threads and QProcess; clang 14's TSan aborts
  # on QProcess's fork). ASan covers those. docs/reliability.md.
  tests=(tst_udpsocket tst_regionhost tst_store tst_toggles tst_simworld)
  configure build-tsan "-fsanitize=thread -fno-omit-frame-pointer -gline-tables-only" "-fsanitize=thread"
  cmake --build build-tsan -j"${JOBS:-2}" --target "${tests[@]}"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
  cd build-tsan
  regex=$(printf '%s|' "${tests[@]#tst_}")
  QT_QPA_PLATFORM=offscreen ctest -R "^(${regex%|})\$" --output-on-failure -j2 --timeout 900
  ;;
*)
  echo "usage: $0 asan|tsan" >&2
  exit 2
  ;;
esac
