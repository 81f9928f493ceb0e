#!/usr/bin/env bash
# Configures and builds one build tree.
# Usage: scripts/build.sh [release|asan|fuzz] [cmake --build args, e.g. --target oomscope-analyzer]
# BUILD_DIR overrides the tree's folder (default build/<kind>); ccache is used when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
jobs=${JOBS:-$(nproc)}
ccache=()
command -v ccache >/dev/null && ccache=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# The heap engine's profile for the release tree (cmake/Pgo.cmake): an instrumented `oomscope` in
# build/pgo-gen, trained by scripts/pgo-train.sh (real Node snapshots, kept in build/pgo-train).
# Trained again only when the engine's sources, the training or the compiler change.
pgo_gen=build/pgo-gen
pgo_dir=$PWD/$pgo_gen/profile
pgo_profile() {
  local gen=$pgo_gen profile=$pgo_dir sum
  sum=$( (c++ --version; find CMakeLists.txt cmake lib/common lib/heap cli scripts/pgo-train.sh \
           bench/gen_series.js tests/fixtures/tiny.heapsnapshot -type f | LC_ALL=C sort | xargs cat) |
        sha256sum | cut -d' ' -f1)
  [ "$(cat "$profile/profile.stamp" 2>/dev/null)" = "$sum" ] && return 0
  echo "build: training the heap engine's profile (PGO)"
  rm -rf "$profile"
  cmake -S . -B "$gen" -G Ninja -DOOMSCOPE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOOMSCOPE_PGO=generate -DOOMSCOPE_PGO_DIR="$profile" -DOOMSCOPE_BUILD_TESTS=OFF \
    -DOOMSCOPE_BUILD_BENCH=OFF "${ccache[@]}" >/dev/null || exit 1
  # A compile error here stops the build (this is a -Werror tree at -O2, as the release one is
  # not; see cmake/Pgo.cmake). `|| exit`: set -e does not act inside an `if` condition.
  cmake --build "$gen" -j "$jobs" --target oomscope || exit 1
  # The training needs ~600 MB for Node to write its 100 MB snapshots: a machine that cannot
  # run it still gets a release build, without the profile.
  if ! scripts/pgo-train.sh "$gen/cli/oomscope" build/pgo-train; then
    echo "build: the PGO training failed (above); building the release tree without it" >&2
    rm -rf "$profile"
    return 1
  fi
  echo "$sum" > "$profile/profile.stamp"
}

case "$kind" in
  release)
    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    # OOMSCOPE_PGO=off (environment) builds without the profile; so does a machine without node.
    if [ "${OOMSCOPE_PGO:-on}" != off ] && command -v node >/dev/null && pgo_profile; then
      args+=(-DOOMSCOPE_PGO=use -DOOMSCOPE_PGO_DIR="$pgo_dir")
    else
      echo "build: release without PGO"
      args+=(-DOOMSCOPE_PGO=)
    fi
    ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DOOMSCOPE_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMSCOPE_FUZZ=ON -DOOMSCOPE_BUILD_TESTS=OFF
                 -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
dir=${BUILD_DIR:-build/$kind}
cmake -S . -B "$dir" -G Ninja -DOOMSCOPE_WERROR=ON "${args[@]}" "${ccache[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" "$@"
