#!/usr/bin/env bash
# Makes DevTools' reference analysis of real snapshots in DIR, for tests/heap/reference_test.cc:
# story-3 and map-cache-3 node by node, and a large snapshot (gen_big.js) by class.
# Needs the series from gen_series.js in DIR already. Usage: make_reference.sh DIR [--big-mb M]
set -euo pipefail
dir=$1
mb=${3:-40}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -d "$here/node_modules/heap-snapshot-toolkit" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
for s in story-3 map-cache-3; do
  node "$here/devtools_dump.mjs" "$dir/$s.heapsnapshot" "$dir/$s.devtools-raw.json" --nodes --raw-sizes
done
if [ ! -s "$dir/big.heapsnapshot" ]; then
  node "$root/tests/fixtures/gen_big.js" "$dir/big.heapsnapshot" --mb "$mb" >/dev/null
fi
node "$here/devtools_dump.mjs" "$dir/big.heapsnapshot" "$dir/big.devtools-raw.json" --raw-sizes
ls -la "$dir"/*.devtools-raw.json
