#!/usr/bin/env bash
# Times oomscope builds on a "cold" run (right after the host has taken back the machine's free
# memory) and the "warm" run that follows it, in turn, so that builds can be compared in both
# states. On this kind of VM (free pages reported to the host) the first run after a pause, or
# after a peer freed gigabytes, spends up to half a second more in the kernel backing its pages.
#
# usage: bash bench/coldwarm.sh SNAPSHOT ROUNDS OOMSCOPE_BINARY...
# prints, per round and binary: cold wall s, cold system s, warm wall s, warm system s
set -euo pipefail
file="$1" rounds="$2"
shift 2
for ((r = 1; r <= rounds; r++)); do
  for bin in "$@"; do
    # Touch and free 3 GiB, then give the host time to take it back (reports come after ~2 s).
    node -e 'Buffer.alloc(3 * 2 ** 30, 1)'
    sleep 4
    cold=$(/usr/bin/time -f '%e %S' "$bin" analyze "$file" --top 5 2>&1 >/dev/null | tail -1)
    warm=$(/usr/bin/time -f '%e %S' "$bin" analyze "$file" --top 5 2>&1 >/dev/null | tail -1)
    echo "$bin cold $cold warm $warm"
  done
done
