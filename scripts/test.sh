#!/usr/bin/env bash
# Runs every test: the release build's full ctest suite (unit, real V8 snapshots from real Node
# processes, agreement with DevTools, the CLI), the same suite under ASan+UBSan, and the
# libFuzzer targets for a bounded time. Sets itself up first.
# Usage: scripts/test.sh [--quick]   (--quick: release suite only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

scripts/build.sh release
echo "== tests (release)"
ctest --test-dir build/release --output-on-failure -j 2

[ "${1:-}" = "--quick" ] && exit 0

scripts/build.sh asan
echo "== tests (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j 2

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
