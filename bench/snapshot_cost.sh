#!/usr/bin/env bash
# Measures what a heap snapshot costs the Node process that writes it: for heaps of ~35 MiB,
# ~300 MiB and ~1 GiB (V8 heap used), one snapshot written by the process itself
# (v8.writeHeapSnapshot) and one taken through its inspector by `oomscope capture` (the sidecar's
# library). Prints one JSON line per run; the figures feed lib/common/.../snapshot_cost.h and
# docs/sidecar.md ("What a snapshot costs").
#   bench/snapshot_cost.sh [OOMSCOPE_CLI] [SIZES...]   (default: build/release/cli/oomscope 35 300 1024)
#   SHAPE=array bench/snapshot_cost.sh ...   the heap as one huge array of references (default: mixed)
# Needs ~8 GB of free memory for the 1 GiB case; each size runs once, in a fresh process.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-build/release/cli/oomscope}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(35 300 1024)
out=$(mktemp -d /tmp/oomscope-snapshot-cost.XXXXXX)
trap 'rm -rf "$out"' EXIT
node_flags=(--expose-gc --max-old-space-size=16384)
echo "# node $(node --version), $(nproc) cores, $(date -u +%FT%TZ)" >&2
for mb in "${sizes[@]}"; do
  node "${node_flags[@]}" bench/snapshot_cost.js --mb "$mb" --out "$out" --shape "${SHAPE:-mixed}"
  node "${node_flags[@]}" --inspect=127.0.0.1:0 bench/snapshot_cost.js --mb "$mb" --out "$out" --shape "${SHAPE:-mixed}" \
    --capture-cmd "$cli capture --inspector" 2> >(grep -v -e '^Debugger' -e '^For help' >&2)
done
