#!/usr/bin/env bash
# Generates the benchmark snapshot series under bench/data/:
#   data/s30/s{1,2,3}.heapsnapshot     ~27/30/33 MiB
#   data/s300/s{1,2,3}.heapsnapshot    ~270/300/330 MiB
#   data/s1000/s{1,2,3}.heapsnapshot   ~0.9/1.0/1.1 GiB
#   data/s2000/s1.heapsnapshot         ~2 GiB (only with --with-2g)
# Series whose files all exist are skipped (delete the directory to redo one).
#
# usage: bash bench/gen.sh [--sizes 30,300,1000] [--with-2g]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node_bin="${NODE:-node}"
sizes="30,300,1000"
with2g=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --sizes=*) sizes="${1#*=}"; shift ;;
    --with-2g) with2g=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "gen.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

gen() { # gen MB SNAPSHOTS
  local mb="$1" n="$2" dir="$here/data/s$1" missing=0 i
  for i in $(seq 1 "$n"); do
    [ -s "$dir/s$i.heapsnapshot" ] || missing=1
  done
  if [ "$missing" = 0 ]; then
    echo "== s$mb: $n file(s) exist, skipped"
    ls -l "$dir"/*.heapsnapshot
    return
  fi
  # The generating process holds the heap (~0.6x the file size) while V8
  # serialises it; give it ample old space.
  local heap=$(( mb * 4 ))
  [ "$heap" -lt 4096 ] && heap=4096
  echo "== s$mb: generating $n snapshot(s) in $dir (--max-old-space-size=$heap)"
  "$node_bin" --max-old-space-size="$heap" "$here/gen_series.js" "$dir" --mb "$mb" --snapshots "$n" --force
}

IFS=',' read -r -a list <<< "$sizes"
for mb in "${list[@]}"; do
  gen "$mb" 3
done
if [ "$with2g" = 1 ]; then
  gen 2000 1
fi
