'use strict';
// helm lint --strict of the chart with every ci/*-values.yaml scenario, with the real helm.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { helm, CHART, ciValuesFiles, render } = require('./lib/chart');

test('the four ci scenarios exist', () => {
  const names = ciValuesFiles().map((f) => path.basename(f)).sort();
  assert.deepEqual(names, ['defaults-values.yaml', 'external-analyzer-values.yaml', 'namespaced-values.yaml', 'no-persistence-values.yaml']);
});

for (const file of ciValuesFiles()) {
  test(`helm lint --strict -f ci/${path.basename(file)}`, () => {
    const out = helm(['lint', '--strict', CHART, '-f', file]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/);
  });
}

test('values.schema.json rejects what must not install', () => {
  const bad = [
    ['--set', 'analyzer.enabled=false'], // an external analyzer needs its URL
    ['--set', 'operator.port=9229'], // the inspector port is never exposed
    ['--set', 'analyzer.port=9229'],
    ['--set', 'operator.ttl=soon'],
    ['--set', 'image.pullPolicy=Sometimes'],
    ['--set', 'operator.typo=1'], // unknown keys are errors
  ];
  for (const args of bad) {
    assert.throws(() => render(null, args), /schema|required/, `accepted: ${args.join(' ')}`);
  }
});

test('NOTES.txt tells how to opt in and where to look, with the names the chart renders', () => {
  const out = helm(['install', 'rel', CHART, '--namespace', 'oomscope', '--dry-run=client'], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
  const notes = out.slice(out.indexOf('NOTES:'));
  assert.match(notes, /kubectl annotate deployment <name> oomscope\.io\/enabled=true/);
  assert.match(notes, /kubectl get heapdiagnoses -A/);
  const svc = render(null).find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-analyzer'));
  assert.match(notes, new RegExp(`kubectl -n oomscope port-forward svc/${svc.metadata.name} 8080:${svc.spec.ports[0].port}`));
  const cm = render(null).find((o) => o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard === '1');
  assert.match(notes, new RegExp(`ConfigMap ${cm.metadata.name} in namespace\\s+oomscope`));
  assert.match(notes, /metrics\.serviceMonitor\.enabled=true/);
});
