#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running demo: installs what is missing, builds,
# then `iotad demo` (a lake in ./demo-lake with a simulated fleet, the pipeline run, results).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOTAD_BUILD_DIR:-$here/build}"
IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh"
exec "$build/src/iotad/iotad" demo "$@"
