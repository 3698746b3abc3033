#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer)
# in build-asan/ (the tree scripts/sanitize.sh asan tests in) and runs each for a bounded time. A crash stops the run and leaves the input in
# tests/fuzz/crashers/<target>/ (commit it: it becomes a regression test).
#   bash scripts/fuzz.sh [SECONDS per target, default 20] [TARGET...]
#   FUZZ_RUNS=10000000 bash scripts/fuzz.sh 0 messages   # a run of a fixed number of executions
#   FUZZ_MERGE=1 ...   afterwards, merge what the run found into the committed corpus (minimised)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(datagram link messages token handshake config api)

bash scripts/sanitize.sh asan-tree
cmake --build build-asan -j"${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  work=build-asan/corpus/$t
  mkdir -p "$work" "tests/fuzz/crashers/$t"
  limit=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  log=build-asan/fuzz_$t.log
  if build-asan/tests/fuzz/fuzz_$t "${limit[@]}" -print_final_stats=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="tests/fuzz/crashers/$t/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    printf '%-9s ok    %12s executions  %8s exec/s  corpus %s\n' "$t" "$execs" "$rate" "$(ls "$work" | wc -l)"
  else
    printf '%-9s CRASH (see %s and tests/fuzz/crashers/%s/)\n' "$t" "$log" "$t"
    tail -30 "$log"
    status=1
  fi
  if [ -n "${FUZZ_MERGE:-}" ]; then
    build-asan/tests/fuzz/fuzz_$t -merge=1 -max_len=4096 "tests/fuzz/corpus/$t" "$work" >/dev/null 2>&1
  fi
done
exit $status
