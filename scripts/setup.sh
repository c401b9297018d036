#!/usr/bin/env bash
# Installs every dependency of alertd from Debian's packages, then configures and builds.
#   scripts/setup.sh            release build in build/
#   scripts/setup.sh --asan     ASan+UBSan build in build-asan/ (what the tests use)
#   scripts/setup.sh --clang    clang build of everything plus the fuzz targets in build-clang/
#                               (ALERTD_FUZZ: ASan+UBSan, libFuzzer instrumentation)
#   SKIP_APT=1 scripts/setup.sh skip the package step (packages already there)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libyaml-cpp-dev nlohmann-json3-dev libboost-dev libcurl4-openssl-dev libsqlite3-dev
  libfmt-dev libspdlog-dev libre2-dev libhowardhinnant-date-dev libcli11-dev doctest-dev
  libssl-dev libsimdjson-dev libpq-dev libsnappy-dev
  # the clang build and libFuzzer (scripts/fuzz.sh)
  clang-14 clang libclang-rt-14-dev
  # reference peers and test tools
  prometheus prometheus-alertmanager victoria-metrics python3 python3-aiosmtpd python3-yaml curl openssl
  postgresql
  # reads alertd's iCalendar feed back (tests/oncall/)
  python3-icalendar
  # the web page's tests: headless Chromium driven by Selenium
  chromium chromium-driver python3-selenium
)

if [ -z "${SKIP_APT:-}" ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update
    # The Debian prometheus packages start their services on install; alertd's tests start
    # their own instances on free ports, so keep the packaged services from starting.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

MODE=release
[ "${1:-}" = "--asan" ] && MODE=asan
[ "${1:-}" = "--clang" ] && MODE=clang
if [ "$MODE" = asan ]; then
  BUILD_DIR=${BUILD_DIR:-build-asan}
  EXTRA=(-DCMAKE_BUILD_TYPE=Debug -DALERTD_SANITIZE=ON)
elif [ "$MODE" = clang ]; then
  BUILD_DIR=${BUILD_DIR:-build-clang}
  EXTRA=(-DCMAKE_BUILD_TYPE=Debug -DALERTD_FUZZ=ON -DCMAKE_C_COMPILER=clang-14
         -DCMAKE_CXX_COMPILER=clang++-14)
else
  BUILD_DIR=${BUILD_DIR:-build}
  EXTRA=(-DCMAKE_BUILD_TYPE=Release)
fi
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD_DIR" -G Ninja "${EXTRA[@]}" "${LAUNCHER[@]}"
# BUILD_TARGET: build only that target (scripts/test.sh builds just the fuzz targets and the
# libraries they link in the clang build).
cmake --build "$BUILD_DIR" -j "$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
