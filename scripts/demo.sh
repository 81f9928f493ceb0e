#!/usr/bin/env bash
# The story, on this machine: runs the leaky API from deploy/examples/leaky-api in a real Node
# process under real HTTP load, writes three heap snapshots of it, and lets `oomscope analyze`
# name the leak. Sets itself up first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
out=${OUT:-build/demo}
mkdir -p "$out"
echo "== capturing a series of the leaky API (real HTTP load between snapshots)"
node tests/fixtures/gen_series.js story "$out" >/dev/null
echo "== oomscope analyze"
set +e
build/release/cli/oomscope analyze --html "$out/report.html" --fail-on-leak \
  "$out"/story-1.heapsnapshot "$out"/story-2.heapsnapshot "$out"/story-3.heapsnapshot
code=$?
set -e
if [ $code -eq 3 ]; then
  echo "demo: leak found; HTML report: $out/report.html"
  exit 0
fi
echo "demo: no leak found (exit $code)" >&2
exit 1
