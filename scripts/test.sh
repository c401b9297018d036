#!/usr/bin/env bash
# Sets up everything (Debian packages, ASan+UBSan build) and runs the whole test suite:
# unit tests and integration tests against real Prometheus, Alertmanager, amtool and SMTP;
# then the clang build and a short run of every fuzz target (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd build-asan && ctest --output-on-failure --timeout 1200 "$@")
# Then the clang build of the fuzz targets and every library they link, plus router/ and
# cluster/ for their -Wthread-safety lock annotations (ASan+UBSan, libFuzzer instrumentation),
# and every fuzz target for a short time on its seed corpus, so that a regression a seed or a
# short run finds fails here; scripts/fuzz.sh runs the long campaigns.
SKIP_APT=1 BUILD_TARGET=fuzz scripts/setup.sh --clang
fuzz_out=$(mktemp -d)
FUZZ_NO_BUILD=1 FUZZ_TIME=${CI_FUZZ_TIME:-8} FUZZ_NICE=0 FUZZ_OUT="$fuzz_out" scripts/fuzz.sh
rm -rf "$fuzz_out"
