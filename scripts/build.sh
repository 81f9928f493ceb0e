#!/usr/bin/env bash
# Configures and builds one build tree.
# Usage: scripts/build.sh [release|asan|fuzz] [cmake --build args, e.g. --target oomscope-analyzer]
# BUILD_DIR overrides the tree's folder (default build/<kind>); ccache is used when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
jobs=${JOBS:-$(nproc)}
case "$kind" in
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DOOMSCOPE_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMSCOPE_FUZZ=ON -DOOMSCOPE_BUILD_TESTS=OFF
                 -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
dir=${BUILD_DIR:-build/$kind}
command -v ccache >/dev/null && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$dir" -G Ninja -DOOMSCOPE_WERROR=ON "${args[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" "$@"
