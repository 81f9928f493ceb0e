#!/usr/bin/env python3
"""Times each step of `oomscope analyze` from its progress lines, for several builds in turn.

Each step is timed from its "started" line to the next step's (the last one to the exit), so
the time between steps (a split parse's join, the report, giving memory back) counts with the
step before. Runs the binaries one after another, round after round (as bench/ab.sh), and
prints each step's median per binary: for a change to one step, where the whole run's noise
hides it.

  python3 bench/phases.py ROUNDS SNAPSHOT BINARY...

e.g. python3 bench/phases.py 15 bench/data/s300/s2.heapsnapshot /tmp/oomscope-a build/release/cli/oomscope
"""
import collections
import re
import statistics
import subprocess
import sys
import time


def run_once(binary, snapshot):
    """The steps' times of one run (ms), and its whole time, from the moment it was started."""
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "analyze", snapshot, "--json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    starts = []
    for line in proc.stderr:
        m = re.match(r"(.+?)\s+started$", line.decode(errors="replace").strip())
        if m:
            starts.append((m.group(1).strip(), time.monotonic() - t0))
    proc.wait()
    end = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"phases.py: {binary} exited with {proc.returncode}")
    steps = {}
    for i, (name, at) in enumerate(starts):
        steps[name] = ((starts[i + 1][1] if i + 1 < len(starts) else end) - at) * 1000
    steps["whole run"] = end * 1000
    return steps


def main():
    if len(sys.argv) < 4 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds, snapshot, binaries = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    times = {b: collections.defaultdict(list) for b in binaries}
    for _ in range(rounds):
        for b in binaries:
            time.sleep(0.3)
            for step, ms in run_once(b, snapshot).items():
                times[b][step].append(ms)
    steps = list(times[binaries[0]].keys())
    width = max(len(s) for s in steps) + 2
    print("median ms".ljust(width) + "".join(b[-24:].rjust(26) for b in binaries))
    for step in steps:
        print(step.ljust(width) + "".join(f"{statistics.median(times[b][step]):26.1f}" for b in binaries))


if __name__ == "__main__":
    main()
