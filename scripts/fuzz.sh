#!/usr/bin/env bash
# Fuzzing with libFuzzer: runs every fuzz target of the clang build, one at a time, on a working
# copy of its seed corpus (the seeds in the repository are only read), and prints executions,
# time and crashes per target.
#   scripts/fuzz.sh                           every target, 600 s each
#   FUZZ_RUNS=10000000 scripts/fuzz.sh        every target until 10 million executions
#   FUZZ_TIME=15 scripts/fuzz.sh matcher_fuzz only the targets named, 15 s each
# Environment:
#   BUILD_DIR  the ALERTD_FUZZ=ON build (default build-clang; built here if missing)
#   FUZZ_TIME  seconds per target (default 600; with FUZZ_RUNS set, a cap, default none)
#   FUZZ_RUNS  executions per target (default: no limit, FUZZ_TIME decides)
#   FUZZ_OUT   working corpora, logs and findings, one folder per target (default fuzz-out)
#   FUZZ_NICE  nice level (default 19: the campaign yields to everything else)
#   FUZZ_NO_BUILD=1  use the build as it is (scripts/test.sh has just built it)
# A finding (crash-*, leak-*, timeout-*, oom-* file) is left in FUZZ_OUT/<target>/ and makes
# the script exit 1; reproduce it with build-clang/<target> <file>.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-clang}
FUZZ_OUT=${FUZZ_OUT:-fuzz-out}
FUZZ_NICE=${FUZZ_NICE:-19}
if [ -n "${FUZZ_RUNS:-}" ]; then
  FUZZ_TIME=${FUZZ_TIME:-0}
else
  FUZZ_TIME=${FUZZ_TIME:-600}
fi

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  if [ ! -f "$BUILD_DIR/fuzz_targets.txt" ]; then
    LAUNCHER=()
    command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DALERTD_FUZZ=ON \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${LAUNCHER[@]}"
  fi
  cmake --build "$BUILD_DIR" --target fuzz
fi

declare -a wanted=("$@")
failed=0
summary=()
while read -r target seeds; do
  [ -z "$target" ] && continue
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $target "* ]]; then continue; fi
  dir="$FUZZ_OUT/$target"
  mkdir -p "$dir/corpus"
  log="$dir/fuzz.log"
  args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/")
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  [ "$FUZZ_TIME" != 0 ] && args+=(-max_total_time="$FUZZ_TIME")
  start=$(date +%s)
  set +e
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    nice -n "$FUZZ_NICE" "$BUILD_DIR/$target" "${args[@]}" "$dir/corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -z "$execs" ] && execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
  crashes=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    echo "== $target: FAILED (exit $rc), see $log"
    grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM' "$log" || tail -20 "$log"
  fi
  line=$(printf '%-20s %14s execs %7ss %9s exec/s %3s crashes' "$target" "${execs:-0}" "$secs" \
    "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "$crashes")
  echo "$line"
  summary+=("$line")
done <"$BUILD_DIR/fuzz_targets.txt"

echo
echo "fuzz campaign $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
printf '%s\n' "${summary[@]}"
exit $failed
