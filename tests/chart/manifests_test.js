'use strict';
// deploy/: the committed rendered manifests, dashboard copy and example ConfigMap are what the
// chart and the code produce now; the leaky-api example is opted in as docs/install.md says,
// and runs from its ConfigMap laid out exactly as the pod mounts it.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, parseDocs } = require('./lib/chart');
const { stale } = require('./render_manifests');

const K8S = path.join(ROOT, 'deploy', 'examples', 'leaky-api', 'k8s');
const load = (f) => parseDocs(fs.readFileSync(path.join(K8S, f), 'utf8'));

test('deploy/ is fresh (re-rendered with helm and compared byte for byte)', () => {
  assert.deepEqual(stale(), [], 'run: node tests/chart/render_manifests.js');
});

test('the committed manifests hold no upload token and name the Secret to create', () => {
  const text = fs.readFileSync(path.join(ROOT, 'deploy', 'manifests', 'oomscope.yaml'), 'utf8');
  const objs = parseDocs(text);
  assert.ok(!objs.some((o) => o.kind === 'Secret'));
  assert.match(text, /kubectl -n oomscope create secret generic oomscope-analyzer-token/);
  const kinds = objs.map((o) => o.kind).sort();
  for (const k of ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']) {
    assert.ok(kinds.includes(k), k);
  }
  for (const o of objs.filter((x) => x.kind === 'Deployment')) {
    const vol = o.spec.template.spec.volumes.find((v) => v.name === 'upload-token');
    assert.equal(vol.secret.secretName, 'oomscope-analyzer-token');
  }
});

test('leaky-api Deployment: opted in, memory-limited, NODE_OPTIONS unset, probed', () => {
  const [dep] = load('deployment.yaml');
  assert.equal(dep.metadata.annotations['oomscope.io/enabled'], 'true');
  const c = dep.spec.template.spec.containers.find((x) => x.name === dep.metadata.annotations['oomscope.io/container']);
  assert.ok(c, 'the annotated container exists');
  assert.ok(c.resources.limits.memory);
  assert.ok(!(c.env || []).some((e) => e.name === 'NODE_OPTIONS'));
  assert.ok(c.livenessProbe && c.readinessProbe);
  assert.ok(!(c.ports || []).some((p) => p.containerPort === 9229));
  const [svc] = load('service.yaml');
  assert.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels);
  assert.ok(svc.spec.ports.every((p) => p.port !== 9229 && p.targetPort !== 9229));
  const [job] = load('loadgen-job.yaml');
  const url = job.spec.template.spec.containers[0].command.find((a) => a.startsWith('http://'));
  assert.equal(new URL(url).hostname, svc.metadata.name);
});

// Lays the ConfigMap's files out as a pod's configMap volume with those items would.
function materialize(podSpec, volumeName, configMap, dir) {
  const vol = podSpec.volumes.find((v) => v.name === volumeName);
  for (const item of vol.configMap.items) {
    assert.ok(item.key in configMap.data, `ConfigMap key ${item.key}`);
    fs.mkdirSync(path.dirname(path.join(dir, item.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, item.path), configMap.data[item.key]);
  }
}

test('leaky-api runs from its ConfigMap as mounted and serves the Job\'s load generator', async (t) => {
  const [cm] = load('configmap.yaml');
  const [dep] = load('deployment.yaml');
  const [job] = load('loadgen-job.yaml');
  const appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaky-api-'));
  const jobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaky-load-'));
  t.after(() => { fs.rmSync(appDir, { recursive: true, force: true }); fs.rmSync(jobDir, { recursive: true, force: true }); });
  materialize(dep.spec.template.spec, 'code', cm, appDir);
  materialize(job.spec.template.spec, 'code', cm, jobDir);
  const c = dep.spec.template.spec.containers[0];
  const script = c.command.find((a) => a.startsWith('/app/')).replace('/app', appDir);
  const child = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; const m = /listening on http:\/\/[^:]+:(\d+)/.exec(buf); if (m) resolve(Number(m[1])); });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const health = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json());
  assert.equal((await health()).status, 'ok');
  // The Job's own command, pointed at this server, with fewer requests.
  const args = job.spec.template.spec.containers[0].command.slice(1).map((a) => a.replace('/app', jobDir));
  const urlIdx = args.findIndex((a) => a.startsWith('http://'));
  args[urlIdx] = args[urlIdx].replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${port}`);
  args[args.indexOf('--requests') + 1] = '1000';
  const out = await new Promise((resolve, reject) => {
    const lg = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    lg.stdout.on('data', (d) => { s += d; });
    lg.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`loadgen exited ${code}: ${s}`))));
  });
  const summary = JSON.parse(out.trim().split('\n').pop());
  assert.deepEqual([summary.completed, summary.ok, summary.statuses], [1000, 1000, { 200: 1000 }]);
  // The API answers as in the story (validators/name.js found where the volume items put it).
  const r = await (await fetch(`http://127.0.0.1:${port}/validate?field=name&value=Ada`)).json();
  assert.deepEqual(r, { field: 'name', valid: true });
});
