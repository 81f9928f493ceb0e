#!/usr/bin/env bash
# The story, on this machine (`oomscope demo`): the leaky API from deploy/examples/leaky-api runs
# under `node --inspect=127.0.0.1:0` with real HTTP load; oomscope-sidecar takes a series of heap
# snapshots and uploads it to oomscope-analyzer; the verdict (what leaks, the retainer path, its
# growth) is printed and the HTML report written. Sets itself up and builds first.
# Usage: scripts/demo.sh [oomscope demo options, e.g. --serve]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release --target oomscope oomscope-sidecar oomscope-analyzer
exec build/release/cli/oomscope demo --out "${OUT:-build/demo}" "$@"
