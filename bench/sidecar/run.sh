#!/usr/bin/env bash
# Capture benchmark: for heaps of ~300 MiB and ~1 GiB, in ONE Node process per size, takes heap
# snapshots alternately (the order rotates each round) with
#   (a) the process itself: v8.writeHeapSnapshot() (time measured around the call, in-process),
#   (b) chrome-remote-interface (npm) from another process (cri_capture.js),
#   (c) `oomscope capture` (lib/cdp, the sidecar's library) in its default mode: here, on one
#       machine as one user, the process writes the snapshot itself into --out (app-writes),
#   (d) `oomscope capture --mode stream`: the snapshot over the inspector protocol,
# and reports wall time and, for (b) and (c), the capturing client's peak RSS (/usr/bin/time -v);
# also the target's own peak RSS growth while its snapshot was written (VmHWM, reset before each).
#   bench/sidecar/run.sh [OOMSCOPE_CLI] [ROUNDS] [SIZES_MIB...]
#   (defaults: build/release/cli/oomscope, 3, 300 1024); `npm ci` in bench/sidecar first.
#   TOOLS="a c" bench/sidecar/run.sh ...   only these tools (default: a b c d)
# Prints a markdown report on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")"
cli=$(realpath "${1:-../../build/release/cli/oomscope}")
rounds=${2:-3}
shift 2 || shift $# || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(300 1024)
work=$(mktemp -d /tmp/oomscope-bench-sidecar.XXXXXX)
target_pid=
cleanup() { [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# /usr/bin/time -v output -> "seconds peak_kib"
time_of() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
              /Maximum resident set size/ { r = $2 } END { printf "%.2f %d\n", s, r }' "$1"
}

echo "# Capture benchmark, $(date -u +%FT%TZ)"
echo
echo "node $(node --version), chrome-remote-interface $(node -p "require('./node_modules/chrome-remote-interface/package.json').version"), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start."
echo
echo "| heap | round | tool | wall s | client peak RSS MiB | snapshot MiB | target peak RSS growth MiB |"
echo "|---|---|---|---|---|---|---|"
declare -A sum
for mb in "${sizes[@]}"; do
  node --max-old-space-size=16384 --inspect=127.0.0.1:0 target.js --mb "$mb" --out "$work" \
    >"$work/target.out" 2>"$work/target.err" &
  target_pid=$!
  for _ in $(seq 600); do grep -q '^control ' "$work/target.out" 2>/dev/null && break; sleep 0.5; done
  control=$(awk '/^control /{print $2}' "$work/target.out")
  inspector=$(grep -o '127.0.0.1:[0-9]*' "$work/target.err" | head -1)
  heap=$(curl -s "127.0.0.1:$control/memory" | node -p 'Math.round(JSON.parse(require("fs").readFileSync(0)).heapUsed/1048576)')
  echo "heap ${heap} MiB used, inspector $inspector" >&2
  for round in $(seq "$rounds"); do
    case $((round % 4)) in 1) order="a b c d" ;; 2) order="b c d a" ;; 3) order="c d a b" ;; 0) order="d a b c" ;; esac
    if [ -n "${TOOLS:-}" ]; then
      # The chosen tools, still taking turns: rotate their list by the round.
      read -r -a chosen <<<"$TOOLS"; k=$(( (round - 1) % ${#chosen[@]} ))
      order="${chosen[*]:$k} ${chosen[*]:0:$k}"
    fi
    for tool in $order; do
      rm -rf "$work/snap"; mkdir -p "$work/snap"
      case $tool in
        a) r=$(curl -s -XPOST "127.0.0.1:$control/write")
           secs=$(node -p "JSON.parse(process.argv[1]).seconds.toFixed(2)" "$r")
           bytes=$(node -p "JSON.parse(process.argv[1]).bytes" "$r")
           growth=$(node -p "JSON.parse(process.argv[1]).peak_growth" "$r")
           rm -f "$work"/self-*.heapsnapshot
           rss="-"; name="(a) v8.writeHeapSnapshot() in-process" ;;
        b) curl -s -XPOST "127.0.0.1:$control/hwm-reset" >/dev/null
           /usr/bin/time -v -o "$work/time" node cri_capture.js "${inspector#*:}" "$work/snap/cri.heapsnapshot"
           read -r secs kib < <(time_of "$work/time"); rss=$((kib / 1024))
           bytes=$(stat -c %s "$work/snap/cri.heapsnapshot"); name="(b) chrome-remote-interface" ;;
        c|d) curl -s -XPOST "127.0.0.1:$control/hwm-reset" >/dev/null
           mode=auto; [ "$tool" = d ] && mode=stream
           /usr/bin/time -v -o "$work/time" "$cli" capture --inspector "$inspector" --out "$work/snap" \
             --count 1 --interval 0 --mode "$mode" 2>"$work/capture.err" >/dev/null
           read -r secs kib < <(time_of "$work/time"); rss=$((kib / 1024))
           used=$(sed -n 's/^capture mode: \([a-z-]*\).*/\1/p' "$work/capture.err"); used=${used:-stream}
           bytes=$(stat -c %s "$work"/snap/*.heapsnapshot); name="($tool) oomscope capture ($used)" ;;
      esac
      [ "$tool" = a ] || growth=$(curl -s "127.0.0.1:$control/hwm" | node -p 'JSON.parse(require("fs").readFileSync(0)).peak_growth')
      echo "| ${heap} MiB | $round | $name | $secs | $rss | $((bytes / 1048576)) | $((growth / 1048576)) |"
      echo "$mb $tool $round: ${secs}s rss=$rss" >&2
      sum[$mb,$tool]=$(echo "${sum[$mb,$tool]:-0} + $secs" | bc)
      [ "$rss" = "-" ] || { [ "${sum[$mb,$tool,rss]:-0}" -ge "$rss" ] || sum[$mb,$tool,rss]=$rss; }
    done
  done
  kill "$target_pid"; wait "$target_pid" 2>/dev/null || true; target_pid=
done
echo
echo "| heap | (b)/(a) wall | (c)/(a) wall | (d)/(a) wall | (c)/(b) wall | (b) max client RSS MiB | (c) max client RSS MiB | (d) max client RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for mb in "${sizes[@]}"; do
  ratio() { [ -n "${sum[$mb,$1]:-}" ] && [ -n "${sum[$mb,$2]:-}" ] && echo "scale=2; ${sum[$mb,$1]} / ${sum[$mb,$2]}" | bc || echo "-"; }
  echo "| ~$mb MiB | $(ratio b a) | $(ratio c a) | $(ratio d a) | $(ratio c b) | ${sum[$mb,b,rss]:--} | ${sum[$mb,c,rss]:--} | ${sum[$mb,d,rss]:--} |"
done
echo
echo "Ratios are of the sums over the rounds. Load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
