#!/usr/bin/env bash
# Runs oomscope and its peers, in one go and on the same files, each under
# /usr/bin/time -v, and prints one markdown table per size (also written to
# bench/results/heap-<date>.md; raw logs go to bench/results/logs/<stamp>/).
#
# usage: bash bench/run.sh [--sizes 30,300,1000] [--with-2g] [--tools LIST]
#                          [--timeout SECONDS] [--repeat N] [--warmup N]
#
#   --sizes     series under bench/data/s<MB>/ to measure (make them with gen.sh)
#   --with-2g   also run the single-file tools on data/s2000/s1.heapsnapshot
#   --tools     comma list, default all: oomscope,oomscope-series,json,vscode,
#               toolkit,memlab-api,toolkit-series,memlab-unbound,memlab-find-leaks
#   --timeout   per-command limit in seconds (default 1800)
#   --repeat    run each command N times and report the run with the median
#               wall time (default 1; a failed run ends the repeats)
#   --warmup    run each command N times first, unmeasured (default 0): on a VM
#               that hands freed memory back to its host, the first run after a
#               peer freed gigabytes pays for the host backing its memory again
#
# Environment: OOMSCOPE=path to the oomscope binary (default
# build/release/cli/oomscope at the repo root; skipped if missing),
# PEER_HEAP_MB=--max-old-space-size given to every Node peer (default 85% of RAM).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
sizes="30,300,1000"
with2g=0
tools="oomscope,oomscope-series,json,vscode,toolkit,memlab-api,toolkit-series,memlab-unbound,memlab-find-leaks"
tmo=1800
repeat=1
warmup=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --sizes=*) sizes="${1#*=}"; shift ;;
    --with-2g) with2g=1; shift ;;
    --tools) tools="$2"; shift 2 ;;
    --tools=*) tools="${1#*=}"; shift ;;
    --timeout) tmo="$2"; shift 2 ;;
    --timeout=*) tmo="${1#*=}"; shift ;;
    --repeat) repeat="$2"; shift 2 ;;
    --repeat=*) repeat="${1#*=}"; shift ;;
    --warmup) warmup="$2"; shift 2 ;;
    --warmup=*) warmup="${1#*=}"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
  echo "run.sh: $TIME missing; installing Debian's 'time' package" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } \
    || { echo "run.sh: could not install 'time'" >&2; exit 1; }
fi
if [ ! -d "$here/node_modules/memlab" ]; then
  echo "run.sh: peers not installed; run: (cd bench && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts)" >&2
  exit 1
fi

OOMSCOPE="${OOMSCOPE:-$root/build/release/cli/oomscope}"
have_oomscope=1
if [ ! -x "$OOMSCOPE" ]; then
  have_oomscope=0
  echo "run.sh: oomscope binary not found at $OOMSCOPE (set OOMSCOPE=...); skipping its rows" >&2
fi

mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
PEER_HEAP_MB="${PEER_HEAP_MB:-$(( mem_kb * 85 / 100 / 1024 ))}"
NODE="${NODE:-node}"
MEMLAB=("$NODE" --expose-gc --max-old-space-size="$PEER_HEAP_MB" "$here/node_modules/memlab/bin/memlab")
NODEP=("$NODE" --max-old-space-size="$PEER_HEAP_MB")

stamp="$(date +%Y%m%d-%H%M%S)"
logdir="$here/results/logs/$stamp"
mkdir -p "$logdir"
out="$here/results/heap-$(date +%F-%H%M).md"  # the run's start, as its header says

want() { [[ ",$tools," == *",$1,"* ]]; }

mb_of() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# Result of the last measure(): wall seconds, peak RSS MB, status text; with --repeat, every
# run's wall seconds in run order (R_RUNS, comma-separated, '*' after a run the host's page
# reporting ran in) and the fastest (R_MIN). R_HOST: the host's reporting passes during the
# last run ("" where the kernel does not count them).
R_WALL="" R_CPU="" R_RSS="" R_STATUS="" R_RUNS="" R_MIN="" R_HOST=""

# The count of the host's free page reporting passes so far (a VM whose balloon takes back free
# memory; this kernel counts them in /sys/module/page_reporting/parameters/passes), or nothing.
# A run during which one ran, or just before which one ran (it reports what the run before
# freed), may have had memory the host had to back afresh (bench/README.md). PASSES_SEEN: the
# count at the end of the last run.
host_passes() { cat /sys/module/page_reporting/parameters/passes 2>/dev/null || true; }
PASSES_SEEN=""
marked() { if [ "${R_HOST:-0}" -gt 0 ]; then echo "$R_WALL*"; else echo "$R_WALL"; fi; }

# measure NAME CMD... : runs CMD `repeat` times (see --repeat) and fills R_* with the run of
# median wall time, or with the first failed run.
measure() {
  local name="$1"; shift
  echo "  -> $name" >&2
  local w
  for ((w = 1; w <= warmup; w++)); do
    "$TIME" -v -o "$logdir/$name.warmup$w.time" timeout -k 30 "$tmo" "$@" > /dev/null 2> "$logdir/$name.warmup$w.err"
  done
  PASSES_SEEN=$(host_passes)  # the first run's count starts here, not at the warmups' start
  if [ "$repeat" -le 1 ]; then
    measure_once "$name" "$@"
    R_RUNS=$(marked) R_MIN=$R_WALL
    return
  fi
  local i runs=() walls=() shown=()
  for ((i = 1; i <= repeat; i++)); do
    measure_once "$name.$i" "$@"
    walls+=("$R_WALL")
    shown+=("$(marked)")
    R_RUNS=$(IFS=,; echo "${shown[*]}")
    R_MIN=$(printf '%s\n' "${walls[@]}" | sort -n | head -1)
    [ "$R_STATUS" = ok ] || return
    runs+=("$R_WALL $R_CPU $R_RSS")
  done
  read -r R_WALL R_CPU R_RSS < <(printf '%s\n' "${runs[@]}" | sort -n -k1,1 | sed -n "$(( (repeat + 1) / 2 ))p")
  echo "     median of $repeat: wall ${R_WALL}s cpu ${R_CPU}s rss ${R_RSS}MiB" >&2
}

# The harness's own wall time in seconds: time -v and timeout around /bin/true, the median of
# 21 runs (2.5-2.7 ms here: 4% of a 30 MB analysis). measure_once takes it off every run.
HARNESS_S=0
calibrate_harness() {
  local i start end walls=()
  for ((i = 0; i < 21; i++)); do
    start=$EPOCHREALTIME
    "$TIME" -v -o "$logdir/harness.time" timeout -k 30 "$tmo" true > /dev/null 2>&1
    end=$EPOCHREALTIME
    walls+=("$(awk -v a="${start/,/.}" -v b="${end/,/.}" 'BEGIN { printf "%.6f", b - a }')")
  done
  HARNESS_S=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 11p)
}

# measure_once NAME CMD... : runs CMD once under time -v and timeout, fills R_*.
measure_once() {
  local name="$1"; shift
  local base="$logdir/$name"
  printf '%s\n' "$*" > "$base.cmd"
  # Wall time to the millisecond from bash's clock around the command: time -v gives hundredths,
  # a tenth of a 30 MB analysis. Less the harness's own time (HARNESS_S: starting time and
  # timeout, the same for every tool), as hyperfine takes off its shell's.
  local start=$EPOCHREALTIME
  "$TIME" -v -o "$base.time" timeout -k 30 "$tmo" "$@" > "$base.out" 2> "$base.err"
  local rc=$? end=$EPOCHREALTIME
  # Passes counted from the end of the run before, or from the warmups' end (measure): a pass
  # in the gap reports what the run before freed, which this run then takes.
  local passes_after
  passes_after=$(host_passes)
  R_HOST=""
  [ -n "$PASSES_SEEN" ] && [ -n "$passes_after" ] && R_HOST=$((passes_after - PASSES_SEEN))
  PASSES_SEEN=$passes_after
  local rss
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$base.time")
  R_WALL=$(awk -v a="${start/,/.}" -v b="${end/,/.}" -v h="$HARNESS_S" 'BEGIN { w = b - a - h; printf "%.3f", (w > 0 ? w : 0) }')
  R_CPU=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$base.time")
  R_RSS=$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
  R_STATUS=ok
  if [ "$rc" -ne 0 ] || grep -qE 'Invalid string length|heap out of memory|Reached heap limit|RangeError' "$base.err"; then
    R_STATUS=$(classify "$rc" "$base")
  fi
  echo "     wall ${R_WALL}s cpu ${R_CPU}s rss ${R_RSS}MiB $R_STATUS${R_HOST:+ (host reporting passes: $R_HOST)}" >&2
}

classify() { # classify RC BASE -> short failure text
  local rc="$1" base="$2" f="$2.err"
  if [ "$rc" = 124 ]; then echo "timeout (>${tmo} s)"; return; fi
  if grep -q 'Invalid string length' "$f"; then echo "fails: RangeError: Invalid string length"; return; fi
  if grep -qE 'heap out of memory|Reached heap limit' "$f"; then echo "fails: JS heap out of memory"; return; fi
  if grep -q 'Cannot create a string longer than' "$f"; then
    echo "fails: Cannot create a string longer than 0x1fffffe8 characters (V8's 512 MiB string limit)"; return
  fi
  if grep -q 'decode_bytes failed with wasm linear memory' "$f"; then
    local mem why
    mem=$(grep -m1 -oE 'wasm linear memory at [0-9]+ MiB' "$f" | grep -oE '[0-9]+')
    why=$(grep -m1 -A1 'panicked at' "$f" | tail -n1 | cut -c1-60)
    echo "fails: wasm RuntimeError in decode_bytes${why:+ (panic: $why)}, wasm32 memory at ${mem} of 4096 MiB"; return
  fi
  if grep -q 'RuntimeError: unreachable' "$f"; then
    # A Rust panic/abort inside wasm; the panic hook (if set) printed why.
    local why
    why=$(grep -m1 -A1 'panicked at' "$f" | tail -n1 | cut -c1-90)
    [ -z "$why" ] && why=$(grep -m1 'memory allocation of' "$f" | cut -c1-90)
    echo "fails: wasm RuntimeError: unreachable${why:+ ($why)}"; return
  fi
  if grep -q 'panicked at' "$f"; then
    echo "fails: Rust panic in wasm: $(grep -m1 -A1 'panicked at' "$f" | tail -n1 | cut -c1-90)"; return
  fi
  if grep -qiE 'WebAssembly|memory access out of bounds' "$f"; then
    echo "fails: $(grep -m1 -E 'Error' "$f" | cut -c1-110)"; return
  fi
  if grep -q 'Array buffer allocation failed' "$f"; then echo "fails: Array buffer allocation failed"; return; fi
  if [ "$rc" = 137 ] || grep -q 'signal 9' "$base.time"; then echo "killed (SIGKILL, likely the kernel OOM killer)"; return; fi
  local line
  line=$(grep -m1 -E 'Error|error|fail' "$f" | cut -c1-110)
  [ -z "$line" ] && line=$(tail -n1 "$f" | cut -c1-110)
  if [ "$rc" = 0 ]; then echo "error printed (exit 0): $line"; else echo "exit $rc: $line"; fi
}

# Rows are collected per size as lines "kind|tool|input|bytes|wall|cpu|rss|status".
declare -a ROWS

# oomscope's rows per size, measured before any peer runs (main), for run_size's peers part:
# its single-file row and its series row.
declare -A OOM_SINGLE OOM_SERIES

run_size() { # run_size MB oomscope|peers -> oomscope: OOM_SINGLE/OOM_SERIES[MB]; peers: fills ROWS
  local mb="$1" part="$2" dir="$here/data/s$1"
  ROWS=()
  local files=() f
  for f in "$dir"/s1.heapsnapshot "$dir"/s2.heapsnapshot "$dir"/s3.heapsnapshot; do
    [ -s "$f" ] && files+=("$f")
  done
  if [ "${#files[@]}" = 0 ]; then
    echo "run.sh: no snapshots in $dir (run gen.sh first)" >&2
    return 1
  fi
  # Single-file analysis uses the middle file (~MB MiB); series uses all.
  local single="${files[$(( (${#files[@]} - 1) / 2 ))]}"
  local sbytes maxbytes=0 b
  sbytes=$(stat -c %s "$single")
  for f in "${files[@]}"; do b=$(stat -c %s "$f"); [ "$b" -gt "$maxbytes" ] && maxbytes=$b; done
  local sname tag="s$mb"
  sname="$(basename "$single")"
  local series_ok=0
  [ "${#files[@]}" -ge 3 ] && series_ok=1

  echo "== size $mb ($part): single=$sname ($(mb_of "$sbytes") MiB), series=${#files[@]} file(s), largest $(mb_of "$maxbytes") MiB" >&2
  # Warm the page cache so every tool reads the files from memory.
  cat "${files[@]}" > /dev/null

  local names="s1-s${#files[@]}"
  if [ "$part" = peers ]; then
    run_peers
    return
  fi
  if want oomscope; then
    if [ "$have_oomscope" = 1 ]; then
      measure "$tag-oomscope" "$OOMSCOPE" analyze "$single" --json
      OOM_SINGLE[$mb]="single|oomscope analyze|$sname|$sbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN"
    else
      OOM_SINGLE[$mb]="single|oomscope analyze|$sname|$sbytes||||skipped: no binary at ${OOMSCOPE#"$root"/}"
    fi
  fi
  # oomscope's series runs right after its single file: the "series per file vs single file"
  # ratio compares the two, so they are measured in the same state of the host.
  if [ "$series_ok" = 1 ] && want oomscope-series; then
    if [ "$have_oomscope" = 1 ]; then
      measure "$tag-oomscope-series" "$OOMSCOPE" analyze "${files[@]}" --json
      OOM_SERIES[$mb]="series|oomscope analyze (series)|$names|$maxbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN"
    else
      OOM_SERIES[$mb]="series|oomscope analyze (series)|$names|$maxbytes||||skipped: no binary at ${OOMSCOPE#"$root"/}"
    fi
  fi
}

# The peers' part of run_size (its locals in scope): oomscope's single-file row first, then the
# peers', single-file then series, oomscope's series row first among those.
run_peers() {
  [ -n "${OOM_SINGLE[$mb]:-}" ] && ROWS+=("${OOM_SINGLE[$mb]}")
  if want json; then
    measure "$tag-json" "${NODEP[@]}" "$here/peers/json_parse.js" "$single"
    ROWS+=("single|JSON.parse only (floor)|$sname|$sbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
  fi
  if want vscode; then
    measure "$tag-vscode" "${NODEP[@]}" "$here/peers/vscode_parser.mjs" "$single"
    ROWS+=("single|@vscode/v8-heap-parser|$sname|$sbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
  fi
  if want toolkit; then
    measure "$tag-toolkit" "${NODEP[@]}" "$here/peers/toolkit.mjs" "$single"
    ROWS+=("single|heap-snapshot-toolkit|$sname|$sbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
  fi
  if want memlab-api; then
    measure "$tag-memlab-api" "${NODEP[@]}" --expose-gc "$here/peers/memlab_api.js" "$single"
    ROWS+=("single|memlab API (getFullHeapFromFile)|$sname|$sbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
  fi

  if [ "$series_ok" = 1 ]; then
    [ -n "${OOM_SERIES[$mb]:-}" ] && ROWS+=("${OOM_SERIES[$mb]}")  # measured beside the single file
    if want toolkit-series; then
      measure "$tag-toolkit-series" "${NODEP[@]}" "$here/peers/toolkit.mjs" --series "${files[@]}"
      ROWS+=("series|heap-snapshot-toolkit (parse each + diff)|$names|$maxbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
    fi
    if want memlab-unbound; then
      local wd; wd=$(mktemp -d /tmp/memlab-work.XXXXXX)
      measure "$tag-memlab-unbound" "${MEMLAB[@]}" analyze unbound-object --snapshot-dir "$dir" --work-dir "$wd"
      rm -rf "$wd"
      ROWS+=("series|memlab analyze unbound-object|$names|$maxbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
    fi
    if want memlab-find-leaks; then
      local wd; wd=$(mktemp -d /tmp/memlab-work.XXXXXX)
      measure "$tag-memlab-find-leaks" "${MEMLAB[@]}" find-leaks --baseline "${files[0]}" --target "${files[1]}" --final "${files[2]}" --work-dir "$wd"
      rm -rf "$wd"
      ROWS+=("series|memlab find-leaks|$names|$maxbytes|$R_WALL|$R_CPU|$R_RSS|$R_STATUS|$R_RUNS|$R_MIN")
    fi
  fi
}

# Prints the markdown table for the current ROWS.
table() { # table MB
  local mb="$1" ref_single_wall="" ref_single_rss="" ref_series_wall="" ref_series_rss="" row
  local ref_single_min="" ref_series_min=""
  local kind tool input bytes wall cpu rss status runs min
  for row in "${ROWS[@]}"; do
    IFS='|' read -r kind tool input bytes wall cpu rss status runs min <<< "$row"
    if [ "$tool" = "oomscope analyze" ] && [ "$status" = ok ]; then ref_single_wall=$wall; ref_single_rss=$rss; ref_single_min=$min; fi
    if [ "$tool" = "oomscope analyze (series)" ] && [ "$status" = ok ]; then ref_series_wall=$wall; ref_series_rss=$rss; ref_series_min=$min; fi
  done
  echo "### s$mb"
  echo
  echo "| kind | tool | input | input MiB | wall s | CPU s | peak RSS MiB | RSS / input | time vs oomscope | RSS vs oomscope | status | wall s, each run | fastest vs fastest |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r kind tool input bytes wall cpu rss status runs min <<< "$row"
    local mib ratio tv rv bv refw refr refm
    mib=$(mb_of "$bytes")
    if [ "$kind" = single ]; then refw=$ref_single_wall; refr=$ref_single_rss; refm=$ref_single_min
    else refw=$ref_series_wall; refr=$ref_series_rss; refm=$ref_series_min; fi
    if [ "$status" = ok ]; then
      ratio=$(awk -v r="$rss" -v b="$bytes" 'BEGIN { printf "%.2f", r * 1048576 / 1e6 / (b / 1e6) }')
      tv="-"; rv="-"; bv="-"
      if [ -n "$refw" ]; then
        tv=$(awk -v a="$wall" -v b="$refw" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
        rv=$(awk -v a="$rss" -v b="$refr" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
        bv=$(awk -v a="$min" -v b="$refm" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
      fi
      echo "| $kind | $tool | $input | $mib | $wall | $cpu | $rss | $ratio | $tv | $rv | ok | ${runs//,/, } | $bv |"
    else
      # Failed or skipped: keep what was measured before the failure, but as text.
      local w="${wall:--}" r="${rss:--}"
      [ "$w" != "-" ] && w="($w)"
      [ "$r" != "-" ] && r="($r)"
      echo "| $kind | $tool | $input | $mib | $w | ${cpu:--} | $r | - | - | - | $status | ${runs:--} | - |"
    fi
  done
  echo
  # Series cost per file against the same tool's single-file run.
  local sw="" tw="" mw="" n=3
  for row in "${ROWS[@]}"; do
    IFS='|' read -r kind tool input bytes wall cpu rss status runs min <<< "$row"
    [ "$status" = ok ] || continue
    case "$tool" in
      "heap-snapshot-toolkit") tw=$wall ;;
      "memlab API (getFullHeapFromFile)") mw=$wall ;;
    esac
  done
  local printed=0
  for row in "${ROWS[@]}"; do
    IFS='|' read -r kind tool input bytes wall cpu rss status runs min <<< "$row"
    if [ "$kind" != series ] || [ "$status" != ok ]; then continue; fi
    case "$tool" in
      "oomscope analyze (series)") sw=$ref_single_wall ;;
      "heap-snapshot-toolkit (parse each + diff)") sw=$tw ;;
      "memlab analyze unbound-object"|"memlab find-leaks") sw=$mw ;;
      *) sw="" ;;
    esac
    [ -n "$sw" ] || continue
    if [ "$printed" = 0 ]; then
      echo "Series per file vs single file (same tool; single = the middle file; memlab CLI compared with memlab API):"
      echo
      echo "| tool | series wall s | per file s | single-file s | per file / single |"
      echo "| --- | ---: | ---: | ---: | ---: |"
      printed=1
    fi
    awk -v t="$tool" -v w="$wall" -v s="$sw" -v n="$n" \
      'BEGIN { printf "| %s | %.3f | %.3f | %.3f | %.2fx |\n", t, w, w / n, s, (s > 0 ? (w / n) / s : 0) }'
  done
  [ "$printed" = 1 ] && echo
}

# The whole run is one function, parsed before it starts, so editing this
# file while a run is going does not disturb it.
main() {
  calibrate_harness
  {
    echo "# Heap engine benchmark, $(date '+%F %T %Z')"
    echo
    echo "- machine: $(nproc) cores, $(( mem_kb / 1024 / 1024 )) GiB RAM, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    echo "- node $("$NODE" --version); peers: memlab $(node -p "require('$here/node_modules/memlab/package.json').version"), @vscode/v8-heap-parser $(node -p "require('$here/node_modules/@vscode/v8-heap-parser/package.json').version"), heap-snapshot-toolkit $(node -p "require('$here/node_modules/heap-snapshot-toolkit/package.json').version"); Node peers run with --max-old-space-size=$PEER_HEAP_MB"
    if [ "$have_oomscope" = 1 ]; then
      echo "- oomscope: ${OOMSCOPE#"$root"/} ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'no commit'))"
    else
      echo "- oomscope: not built (${OOMSCOPE#"$root"/} missing), rows skipped"
    fi
    # The pages oomscope takes (allocator.h, ChooseHugePages): huge ones unless the VM's virtio
    # balloon reports free pages to its host (feature bit 5), or as OOMSCOPE_HUGE_PAGES says.
    local reporting=no d
    for d in /sys/bus/virtio/devices/*; do
      [ "$(cat "$d/device" 2>/dev/null)" = 0x0005 ] && [ "$(cut -c6 "$d/features" 2>/dev/null)" = 1 ] && reporting=yes
    done
    echo "- oomscope's pages: OOMSCOPE_HUGE_PAGES=${OOMSCOPE_HUGE_PAGES:-unset}; the VM's balloon reports free pages to its host: $reporting (huge pages unless it does or the variable says off: bench/README.md)"
    echo "- the harness's own time (time -v and timeout around /bin/true, median of 21): $(awk -v h="$HARNESS_S" 'BEGIN { printf "%.1f", h * 1000 }') ms, taken off every wall time below (as hyperfine takes off its shell's)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine inflate wall time; CPU s = user + sys is steadier)"
    [ -n "$(host_passes)" ] && echo "- '*' after a run in 'wall s, each run': the host's free page reporting ran during it or since the command before ended (the count in /sys/module/page_reporting/parameters/passes went up), so memory the run took may have had to be backed afresh by the host (the run after one as well): a short tool's slow runs are among these or right after them (bench/README.md)"
    echo "- wall time from the shell's clock around each command (ms), CPU and peak RSS from /usr/bin/time -v$([ "$repeat" -gt 1 ] && echo ", the run of median wall time of $repeat ('wall s, each run' lists them in order; 'fastest vs fastest' = the tool's fastest run / oomscope's)"); per-command timeout ${tmo} s;$([ "$warmup" -gt 0 ] && echo " each command run $warmup time(s) unmeasured first;") page cache warmed before each size; raw logs in results/logs/$stamp/"
    echo "- single = full analysis of one file (the middle one of the series); series = the 3 files of one process. 'RSS / input' = peak RSS / largest input file; 'x vs oomscope' = peer / oomscope (higher is worse for the peer)"
    echo
  } > "$out"

  IFS=',' read -r -a size_list <<< "$sizes"
  if [ "$with2g" = 1 ]; then
    if [ -s "$here/data/s2000/s1.heapsnapshot" ]; then
      size_list+=(2000)  # one file only: the single-file tools run on it, the series tools are skipped
    else
      echo "run.sh: data/s2000/s1.heapsnapshot missing (bash bench/gen.sh --with-2g)" >&2
    fi
  fi
  # oomscope at every size first, then the peers at every size. A run of a third of a second
  # that needs 300 MB of fresh memory is slowed by a third or more when the host has just taken
  # free memory back (its free page reporting, after each GiB or so freed: bench/README.md);
  # after the peers' runs, which free gigabytes, the first few oomscope runs were such runs.
  # So oomscope is measured in the state its own runs leave, as each peer is in the state the
  # runs before it leave (all of memlab's runs at 300 MB are marked '*' either way).
  local ok=()
  for mb in "${size_list[@]}"; do
    run_size "$mb" oomscope && ok+=("$mb")
  done
  for mb in "${ok[@]}"; do
    if run_size "$mb" peers; then
      table "$mb" | tee -a "$out"
    fi
  done
  echo "results written to ${out#"$root"/}" >&2
}

main
exit $?
