'use strict';
// Writes the generated files under deploy/ (or, with --check, says which are stale):
//  - deploy/manifests/oomscope.yaml: `helm template` of the chart with its default values;
//  - deploy/dashboards/oomscope.json: the chart's Grafana dashboard, for Grafana without Helm;
//  - deploy/examples/leaky-api/k8s/configmap.yaml: the example app's code as a ConfigMap.
// Usage: node tests/chart/render_manifests.js [--check]
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const { ROOT, CHART, renderManifest } = require('./lib/chart');

const APP = path.join(ROOT, 'deploy', 'examples', 'leaky-api');
// ConfigMap keys cannot hold "/": validators/name.js is stored as validators-name.js and put back
// in place by the pod's volume items.
const APP_FILES = { 'server.js': 'server.js', 'validate.js': 'validate.js', 'validators-name.js': 'validators/name.js', 'loadgen.js': 'loadgen.js' };

function appConfigMap() {
  const data = {};
  for (const [key, rel] of Object.entries(APP_FILES)) data[key] = fs.readFileSync(path.join(APP, rel), 'utf8');
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'leaky-api-code', labels: { 'app.kubernetes.io/name': 'leaky-api', 'app.kubernetes.io/part-of': 'oomscope-example' } },
    data,
  };
  return '# Generated from deploy/examples/leaky-api/*.js by node tests/chart/render_manifests.js\n' +
    '# (a test keeps it equal to the code). The stock node image runs it from this ConfigMap.\n' +
    YAML.stringify(cm, { lineWidth: 0, blockQuote: 'literal' });
}

function outputs() {
  return {
    [path.join(ROOT, 'deploy', 'manifests', 'oomscope.yaml')]: renderManifest(),
    [path.join(ROOT, 'deploy', 'dashboards', 'oomscope.json')]: fs.readFileSync(path.join(CHART, 'dashboards', 'oomscope.json'), 'utf8'),
    [path.join(APP, 'k8s', 'configmap.yaml')]: appConfigMap(),
  };
}

function stale() {
  return Object.entries(outputs()).filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text).map(([f]) => path.relative(ROOT, f));
}

module.exports = { outputs, stale, appConfigMap, APP_FILES };

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const s = stale();
    if (s.length) { console.error(`stale: ${s.join(', ')} (run node tests/chart/render_manifests.js)`); process.exit(1); }
    console.log('deploy/ is fresh');
  } else {
    for (const [file, text] of Object.entries(outputs())) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(ROOT, file)}`);
    }
  }
}
