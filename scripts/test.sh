#!/usr/bin/env bash
# Runs every test: the release build's full ctest suite (heap engine on real V8 snapshots and
# against DevTools, CLI, inspector and sidecar with real Node processes, the Kubernetes API
# emulator with real kubectl, lib/kube, the operator, the analyzer over real HTTP and in headless
# Chromium, the Helm chart with real helm and promtool, the demo and the end-to-end cluster test),
# the C++ suites again under ASan+UBSan, and the libFuzzer targets for a bounded time.
# Sets itself up first.
# Usage: scripts/test.sh [--quick]   (--quick: release suite only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

scripts/build.sh release
echo "== tests (release)"
ctest --test-dir build/release --output-on-failure -j 2

[ "${1:-}" = "--quick" ] && exit 0

# The heap engine once more without the profile, as a machine whose PGO training fails builds it
# (scripts/build.sh falls back): inlining differs, and so do GCC's warnings under -Werror.
echo "== heap engine without PGO (compiles)"
BUILD_DIR=build/nopgo OOMSCOPE_PGO=off scripts/build.sh release --target oomscope_heap

scripts/build.sh asan
echo "== tests (ASan+UBSan)"
# Suites with no C++ of their own (the API emulator, the chart, the kubelet stand-in) ran above;
# so did sidecar.large, which measures the sidecar's peak RSS (ASan's would be measured here), and
# e2e.cluster.lagged (the operator's lag tests run here in operator.emulator).
# tests/lsan.supp: leaks inside cpprestsdk itself (see there), for every program the tests run.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
  ctest --test-dir build/asan --output-on-failure -j 2 -LE '^(emulator|chart)$' -E '^(e2e[.]kubelet|e2e[.]cluster[.]lagged|sidecar[.]large)'

scripts/build.sh fuzz --target fuzzers
echo "== fuzz (bounded)"
for fuzzer in build/fuzz/tests/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  corpus=$(mktemp -d)
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name"/. "$corpus"/
  [ "$name" = fuzz_snapshot_parser ] && cp tests/fixtures/tiny.heapsnapshot tests/fixtures/bad/* "$corpus"/
  "$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=65536 -rss_limit_mb=2048 "$corpus" 2>&1 | tail -2
  rm -rf "$corpus"
  echo "fuzz: $name: no crash"
done
