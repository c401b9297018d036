#!/usr/bin/env bash
# Sets up everything (Debian packages, ASan+UBSan build) and runs the whole test suite:
# unit tests and integration tests against real Prometheus, Alertmanager, amtool and SMTP.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd build-asan
ctest --output-on-failure --timeout 1200 "$@"
