#!/usr/bin/env python3
"""What each thread of a process did over time, from `perf record`: per slice of time, the
samples of the main thread and of the others, and the two functions with the most of them.
Shows where one thread waits for the other (a slice with few samples) and which step runs
where.

  perf record -F 2000 -o /tmp/perf.data build/release/cli/oomscope analyze FILE --json >/dev/null
  perf script -i /tmp/perf.data -F tid,time,ip,sym | python3 bench/timeline.py [SLICE_MS]

SLICE_MS defaults to 20; at 2000 samples a second a busy thread has 40 samples in 20 ms. The
main thread is the one with the lowest id; every other thread's samples are counted together
(oomscope's passes use a second thread at a time).
"""
import collections
import re
import sys


def short(symbol):
    s = symbol.replace("oomscope::heap::", "").replace("(anonymous namespace)::", "")
    lam = re.search(r"lambda\([^)]*\)#(\d+)", s)
    s = re.sub(r"\(.*", "", s)
    if lam:
        s += "#" + lam.group(1)
    return s[:28]


def main():
    slice_ms = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    rows = []
    for line in sys.stdin:
        m = re.match(r"\s*(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s*(.*)", line)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)), m.group(4).strip()))
    if not rows:
        sys.exit("timeline.py: no samples on stdin (perf script -F tid,time,ip,sym)")
    t0 = min(r[1] for r in rows)
    main_tid = min(r[0] for r in rows)
    slices = collections.defaultdict(collections.Counter)
    for tid, t, sym in rows:
        slices[(int((t - t0) * 1000 / slice_ms), tid == main_tid)][short(sym)] += 1
    last = max(k[0] for k in slices)
    for i in range(last + 1):
        cols = []
        for is_main in (True, False):
            c = slices[(i, is_main)]
            top = ", ".join(f"{k}:{v}" for k, v in c.most_common(2))
            cols.append(f"{'main' if is_main else 'other'} {sum(c.values()):3d} {top[:60]:<60}")
        print(f"{i * slice_ms:6.0f} ms  " + " | ".join(cols))


if __name__ == "__main__":
    main()
