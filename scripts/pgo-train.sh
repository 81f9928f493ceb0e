#!/usr/bin/env bash
# Trains the heap engine's profile for PGO (cmake/Pgo.cmake; scripts/build.sh release runs this):
# runs an instrumented `oomscope analyze` the ways people run it, on snapshot series written by a
# real Node process. bench/gen_series.js writes them with a seed of their own, so the profile is
# not taken on the files the bench measures: a 30 MB series of 3 (one file, the series, JSON,
# text and HTML reports) and a 100 MB pair (above kLargeGraphEdges: the large-graph paths), plus
# the tests' tiny snapshot (read by one thread). The snapshots are kept in DATA_DIR for the next
# training.
# Usage: scripts/pgo-train.sh OOMSCOPE_BINARY DATA_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
bin=$1
data=$2
mkdir -p "$data"

# DIR MB COUNT: a series of COUNT snapshots of about MB each, unless one is there.
series() {
  [ -s "$1/s$3.heapsnapshot" ] && return 0
  echo "pgo-train: writing $3 snapshots of ~$2 MB in $1"
  node --max-old-space-size=4096 bench/gen_series.js "$1" --mb "$2" --snapshots "$3" --seed 7 --force >/dev/null
}
series "$data/s30" 30 3
series "$data/s100" 100 2

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  "$bin" analyze "$@" >"$out/stdout" 2>"$out/stderr" || {
    echo "pgo-train: oomscope analyze $* failed:" >&2
    cat "$out/stderr" >&2
    exit 1
  }
}
echo "pgo-train: analyzing"
run tests/fixtures/tiny.heapsnapshot
run --json --quiet "$data/s30/s2.heapsnapshot"
run --top 20 "$data/s30/s2.heapsnapshot"
run --json --quiet "$data/s30/s1.heapsnapshot" "$data/s30/s2.heapsnapshot" "$data/s30/s3.heapsnapshot"
run --html "$out/report.html" --quiet "$data/s30/s1.heapsnapshot" "$data/s30/s2.heapsnapshot" "$data/s30/s3.heapsnapshot"
run --json --quiet "$data/s100/s2.heapsnapshot"
run --json --quiet "$data/s100/s1.heapsnapshot" "$data/s100/s2.heapsnapshot"
