#!/usr/bin/env bash
# Sets up alertd (Debian packages, release build) and runs it on examples/alertd.yml with its
# embedded SQLite database in data/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p data
exec build/alertd --config examples/alertd.yml "$@"
