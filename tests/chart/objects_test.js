'use strict';
// Every object the chart renders (each ci scenario), the committed manifests and the example
// objects under deploy/, validated strictly: built-in kinds against the v1.32 swagger, the
// HeapDiagnosis CRD as an apiextensions.k8s.io/v1 CRD and its example against the CRD's own
// schema, the Prometheus Operator kinds against tests/chart/schemas/. Then what the pods must be:
// locked down, resourced, probed, and never exposing the inspector.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, CHART, render, parseDocs, ciValuesFiles, loadSwagger, monitoringSchemas, readCrd, podSpecs } = require('./lib/chart');
const { validateCustom, crdSchemaFor, validateStructural } = require('./lib/kube_schema');

const swagger = loadSwagger();
const monitoring = monitoringSchemas();
const crd = readCrd();

function validate(obj) {
  if (obj.apiVersion === 'monitoring.coreos.com/v1') {
    const schema = monitoring[obj.kind];
    if (!schema) return [`no schema for ${obj.kind}`];
    return validateCustom(swagger, schema, obj);
  }
  const crdSchema = crdSchemaFor([crd], obj);
  if (crdSchema) return validateCustom(swagger, crdSchema, obj);
  return swagger.validateObject(obj);
}

function assertValid(objects, where) {
  assert.ok(objects.length > 0, `${where}: nothing rendered`);
  const problems = [];
  for (const o of objects) {
    for (const e of validate(o)) problems.push(`${where}: ${o.kind}/${o.metadata && o.metadata.name}: ${e}`);
  }
  assert.deepEqual(problems, []);
}

const renders = Object.fromEntries(ciValuesFiles().map((f) => [path.basename(f), render(f)]));

test('the validator rejects what a strict API server rejects', () => {
  const dep = structuredClone(renders['defaults-values.yaml'].find((o) => o.kind === 'Deployment'));
  const broken = [
    (d) => { d.spec.template.spec.containers[0].imagePullPolicyy = 'Always'; },
    (d) => { d.spec.replicas = '1'; },
    (d) => { delete d.spec.selector; },
    (d) => { d.spec.template.spec.containers[0].resources.limits.memory = '2 GB'; },
    (d) => { d.spec.template.spec.containers[0].ports[0].containerPort = 8080.5; },
    (d) => { d.metadata.labels['app.kubernetes.io/version'] = 'x'.repeat(64); },
    (d) => { d.spec.template.spec.securityContext.runAsNonRoot = 'true'; },
    (d) => { d.spec.template.spec.nodeSelector = null; },
  ];
  assert.deepEqual(validate(dep), []);
  for (const [i, brk] of broken.entries()) {
    const d = structuredClone(dep);
    brk(d);
    assert.notDeepEqual(validate(d), [], `mutation ${i} passed`);
  }
  const hd = { apiVersion: 'oomscope.io/v1alpha1', kind: 'HeapDiagnosis', metadata: { name: 'x', namespace: 'y' }, spec: { deployment: 'a', container: 'b', extra: 1 } };
  assert.match(validate(hd).join('\n'), /spec\.extra: unknown field/);
  const sm = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: { selector: {}, endpoints: [{ prot: 'http' }] } };
  assert.match(validate(sm).join('\n'), /unknown field/);
});

for (const [name, objects] of Object.entries(renders)) {
  test(`ci/${name}: every rendered object validates strictly`, () => assertValid(objects, name));
}

test('the CRD is a valid apiextensions.k8s.io/v1 CustomResourceDefinition per contracts.md', () => {
  assert.deepEqual(swagger.validateObject(crd), []);
  assert.equal(crd.metadata.name, 'heapdiagnoses.oomscope.io');
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(crd.spec.names.shortNames, ['hd']);
  const v = crd.spec.versions.find((x) => x.name === 'v1alpha1');
  assert.ok(v && v.served && v.storage);
  assert.deepEqual(v.subresources, { status: {} });
  assert.deepEqual(v.additionalPrinterColumns.map((c) => c.name), ['Deployment', 'Phase', 'Snapshots', 'Suspect', 'Age']);
  const props = v.schema.openAPIV3Schema.properties;
  for (const f of ['deployment', 'container', 'triggerPod', 'detectedAt', 'ttlSeconds']) assert.ok(props.spec.properties[f], `spec.${f}`);
  for (const f of ['phase', 'message', 'seriesId', 'snapshots', 'topSuspect', 'reportURL', 'memoryLimit', 'snapshotAffordable', 'restoredAt', 'conditions']) {
    assert.ok(props.status.properties[f], `status.${f}`);
  }
  assert.deepEqual(props.status.properties.phase.enum, ['Detected', 'Applying', 'Capturing', 'Analyzing', 'Restoring', 'Completed', 'Failed']);
  // The chart renders it with --include-crds, unchanged.
  const rendered = renders['defaults-values.yaml'].find((o) => o.kind === 'CustomResourceDefinition');
  assert.deepEqual(rendered, crd);
});

test('the HeapDiagnosis example validates against the CRD schema', () => {
  const file = path.join(ROOT, 'deploy', 'examples', 'heapdiagnosis.yaml');
  const [hd] = parseDocs(fs.readFileSync(file, 'utf8'));
  assert.equal(hd.kind, 'HeapDiagnosis');
  assert.deepEqual(validate(hd), []);
  // and a wrong phase is caught
  const bad = structuredClone(hd);
  bad.status.phase = 'Done';
  assert.notDeepEqual(validate(bad), []);
});

test('deploy/: the committed manifests and the leaky-api example validate strictly', () => {
  const files = [path.join(ROOT, 'deploy', 'manifests', 'oomscope.yaml')];
  const k8s = path.join(ROOT, 'deploy', 'examples', 'leaky-api', 'k8s');
  for (const f of fs.readdirSync(k8s).filter((x) => x.endsWith('.yaml')).sort()) files.push(path.join(k8s, f));
  for (const f of files) assertValid(parseDocs(fs.readFileSync(f, 'utf8')), path.relative(ROOT, f));
});

function allContainers(spec) { return [...(spec.initContainers || []), ...spec.containers]; }

for (const [name, objects] of Object.entries(renders)) {
  test(`ci/${name}: pods are locked down, resourced and probed`, () => {
    const pods = podSpecs(objects);
    assert.ok(pods.length >= 1);
    for (const { owner, spec } of pods) {
      const psc = spec.securityContext || {};
      assert.equal(psc.runAsNonRoot, true, `${owner} runAsNonRoot`);
      assert.equal(psc.seccompProfile && psc.seccompProfile.type, 'RuntimeDefault', `${owner} seccomp`);
      for (const c of allContainers(spec)) {
        const sc = c.securityContext || {};
        const who = `${owner}/${c.name}`;
        assert.equal(sc.allowPrivilegeEscalation, false, `${who} allowPrivilegeEscalation`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${who} readOnlyRootFilesystem`);
        assert.deepEqual(sc.capabilities && sc.capabilities.drop, ['ALL'], `${who} drops ALL`);
        assert.ok(!sc.capabilities.add, `${who} adds no capability`);
        assert.notEqual(sc.privileged, true);
        assert.ok(c.resources && c.resources.requests && c.resources.requests.memory, `${who} memory request`);
        assert.ok(c.resources.limits && c.resources.limits.memory, `${who} memory limit`);
        assert.ok(c.livenessProbe && c.readinessProbe, `${who} probes`);
        const probePorts = [c.livenessProbe, c.readinessProbe].map((p) => p.httpGet.port);
        for (const p of probePorts) assert.ok((c.ports || []).some((cp) => cp.name === p || cp.containerPort === p), `${who} probe port ${p} is a container port`);
        assert.deepEqual([c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path], ['/healthz', '/readyz']);
        // The image's binaries, by absolute path.
        assert.match(c.command[0], /^\/usr\/local\/bin\/oomscope-(operator|analyzer)$/);
        // Every writable path is a volume (the root filesystem is read-only).
        for (const m of c.volumeMounts || []) assert.ok(spec.volumes.some((v) => v.name === m.name), `${who} mount ${m.name}`);
      }
    }
  });

  test(`ci/${name}: nothing exposes the inspector port 9229 or passes --inspect`, () => {
    for (const o of objects) {
      if (o.kind === 'Service') {
        for (const p of o.spec.ports) {
          assert.notEqual(p.port, 9229, `${o.metadata.name} port`);
          assert.notEqual(p.targetPort, 9229, `${o.metadata.name} targetPort`);
        }
      }
    }
    for (const { owner, spec } of podSpecs(objects)) {
      for (const c of allContainers(spec)) {
        for (const p of c.ports || []) assert.notEqual(p.containerPort, 9229, `${owner}/${c.name}`);
        const words = [...(c.command || []), ...(c.args || []), ...(c.env || []).map((e) => `${e.name}=${e.value || ''}`)];
        for (const w of words) assert.doesNotMatch(w, /--inspect|9229/, `${owner}/${c.name}: ${w}`);
      }
    }
  });
}

test('no chart file mentions --inspect or 9229 outside comments', () => {
  const files = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else files.push(p); } };
  walk(CHART);
  for (const f of files) {
    if (f.endsWith('values.schema.json')) continue; // it forbids 9229 by name
    const lines = fs.readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*#/.test(l) && !/^\s*\{\{-?\s*\/\*/.test(l));
    for (const l of lines) assert.doesNotMatch(l, /--inspect|\b9229\b/, `${path.relative(CHART, f)}: ${l}`);
  }
});

test('analyzer storage: a PVC by default, an emptyDir without persistence, none when external', () => {
  const store = (objs) => {
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-analyzer'));
    return d && d.spec.template.spec.volumes.find((v) => v.name === 'store');
  };
  const def = renders['defaults-values.yaml'];
  assert.equal(store(def).persistentVolumeClaim.claimName, def.find((o) => o.kind === 'PersistentVolumeClaim').metadata.name);
  const np = renders['no-persistence-values.yaml'];
  assert.deepEqual(store(np).emptyDir, { sizeLimit: '8Gi' });
  assert.ok(!np.some((o) => o.kind === 'PersistentVolumeClaim'));
  const ext = renders['external-analyzer-values.yaml'];
  assert.equal(store(ext), undefined);
  assert.ok(!ext.some((o) => o.kind === 'Service' && o.metadata.name.endsWith('-analyzer')));
  const op = ext.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator'));
  assert.ok(op.spec.template.spec.containers[0].args.includes('--analyzer-url=https://oomscope-analyzer.example.com'));
  assert.ok(!ext.some((o) => o.kind === 'Secret'), 'the existing Secret is used, none generated');
  assert.equal(op.spec.template.spec.volumes.find((v) => v.name === 'upload-token').secret.secretName, 'oomscope-analyzer-token');
});

test('the upload token: generated (48 characters) without a cluster, mounted into both programs', () => {
  const objs = renders['defaults-values.yaml'];
  const secret = objs.find((o) => o.kind === 'Secret');
  const token = Buffer.from(secret.data.token, 'base64').toString('utf8');
  assert.match(token, /^[A-Za-z0-9]{48}$/);
  const again = render(path.join(CHART, 'ci', 'defaults-values.yaml')).find((o) => o.kind === 'Secret');
  assert.notEqual(again.data.token, secret.data.token, 'helm template has no cluster to look up: a fresh token each time');
  for (const d of objs.filter((o) => o.kind === 'Deployment')) {
    const c = d.spec.template.spec.containers[0];
    const flag = c.args.find((a) => /^--(upload-)?token-file=/.test(a));
    assert.ok(flag, `${d.metadata.name}: token flag`);
    const mount = c.volumeMounts.find((m) => m.name === 'upload-token');
    assert.equal(flag.split('=')[1], `${mount.mountPath}/token`);
    assert.equal(d.spec.template.spec.volumes.find((v) => v.name === 'upload-token').secret.secretName, secret.metadata.name);
  }
});

test('the PodMonitor finds the sidecar the operator injects, on the port the sidecar listens on', () => {
  const pm = renders['namespaced-values.yaml'].find((o) => o.kind === 'PodMonitor');
  const [keep, address] = pm.spec.podMetricsEndpoints[0].relabelings;
  const recipe = fs.readFileSync(path.join(ROOT, 'operator', 'src', 'recipe.h'), 'utf8');
  assert.equal(keep.regex, /kSidecarName\[\] = "([^"]+)"/.exec(recipe)[1]);
  const sidecarDoc = fs.readFileSync(path.join(ROOT, 'docs', 'sidecar.md'), 'utf8');
  const port = /`--listen` \| `OOMSCOPE_LISTEN` \| `[^`]*:(\d+)`/.exec(sidecarDoc)[1];
  assert.equal(address.replacement, `$1:${port}`);
  assert.notEqual(port, '9229');
  assert.deepEqual(pm.spec.namespaceSelector, { matchNames: ['shop'] });
});
