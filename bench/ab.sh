#!/usr/bin/env bash
# Compares builds of `oomscope analyze` on one input, run in turn: round 1 runs each binary once,
# then round 2, and so on, so that the host's drift (10% and more within a minute on a shared VM)
# falls on every binary alike. Prints each binary's median, quartiles and fastest wall time.
#
#   bash bench/ab.sh ROUNDS SNAPSHOT[,SNAPSHOT...] BINARY...
#
# e.g. cp build/release/cli/oomscope /tmp/oomscope-a; (change, rebuild); then
#   bash bench/ab.sh 100 bench/data/s30/s2.heapsnapshot /tmp/oomscope-a build/release/cli/oomscope
# Several snapshots, comma-separated, are analyzed as one series.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
rounds="$1"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2; }
IFS=, read -r -a inputs <<< "$2"
shift 2
bins=("$@")
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "ab.sh: not an executable: $b" >&2; exit 2; }
done
for f in "${inputs[@]}"; do
  [ -r "$f" ] || { echo "ab.sh: cannot read $f" >&2; exit 2; }
  cat "$f" > /dev/null  # into the page cache: the disk is not what is compared
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for i in "${!bins[@]}"; do
    start=$EPOCHREALTIME
    if ! "${bins[$i]}" analyze "${inputs[@]}" --json --quiet > /dev/null 2> "$tmp/err"; then
      echo "ab.sh: ${bins[$i]} failed:" >&2
      cat "$tmp/err" >&2
      exit 1
    fi
    end=$EPOCHREALTIME
    awk -v a="${start/,/.}" -v b="${end/,/.}" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >> "$tmp/$i"
  done
done

printf '%-40s %10s %10s %10s %10s\n' binary "median ms" "q1" "q3" "fastest"
for i in "${!bins[@]}"; do
  sort -n "$tmp/$i" | awk -v name="${bins[$i]}" '
    { v[NR] = $1 }
    END {
      printf "%-40s %10.1f %10.1f %10.1f %10.1f\n", name, v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 1) / 4)], v[1]
    }'
done
