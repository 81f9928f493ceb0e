#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [release|asan|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=${JOBS:-$(nproc)}
case "$kind" in
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DOOMSCOPE_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1) ;;
  fuzz)    args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMSCOPE_FUZZ=ON -DOOMSCOPE_BUILD_TESTS=OFF
                 -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$kind" -G Ninja -DOOMSCOPE_WERROR=ON "${args[@]}" >/dev/null
cmake --build "build/$kind" -j "$jobs"
