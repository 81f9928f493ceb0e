'use strict';
// Real kubectl (/usr/bin/kubectl, or $KUBECTL) against the emulator: get
// (table, json), get -w, apply (client- and server-side), patch (merge, json,
// strategic), scale, describe, create -f, delete, custom resources with their
// printer columns, bearer tokens and TLS with a CA.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile, spawn } = require('child_process');
const { startEmulator, request, waitFor } = require('./harness');

const KUBECTL = process.env.KUBECTL || '/usr/bin/kubectl';
const REPO = path.resolve(__dirname, '..', '..', '..');
const CHART_CRD = path.join(REPO, 'charts', 'oomscope', 'crds', 'heapdiagnoses.oomscope.io.yaml');
const CRD = fs.existsSync(CHART_CRD) ? CHART_CRD : path.join(__dirname, 'fixtures', 'heapdiagnoses-crd.yaml');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-kubectl-'));
let kubeconfig;

function writeKubeconfig(file, server, { token = 'any', ca } = {}) {
  const cluster = ca ? `{server: "${server}", certificate-authority: "${ca}"}` : `{server: "${server}"}`;
  fs.writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{name: emu, cluster: ${cluster}}]
users: [{name: emu, user: {token: "${token}"}}]
contexts: [{name: emu, context: {cluster: emu, user: emu, namespace: shop}}]
current-context: emu
`);
  return file;
}

function kubectl(args, { input, config = kubeconfig, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(KUBECTL, ['--kubeconfig', config, ...args], { timeout: 30000, env: { ...process.env, HOME: tmp, KUBECACHEDIR: path.join(tmp, 'cache') } }, (err, stdout, stderr) => {
      if (err && !allowFail) return reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || err.message}`));
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    if (input !== undefined) { child.stdin.write(input); child.stdin.end(); }
  });
}

const deployment = (replicas, image = 'node:20') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  annotations: {oomscope.io/enabled: "true"}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        env: [{name: NODE_ENV, value: production}]
        resources: {limits: {memory: 256Mi}}
`;

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
let emu, base;
const api = (method, p, body, headers) => request(base, method, p, { body, headers });
const getDep = async () => (await api('GET', '/apis/apps/v1/namespaces/shop/deployments/web')).json;

test('create namespace and deployment with apply -f (client-side apply)', async () => {
  await kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' });
  const r = await kubectl(['apply', '-f', '-'], { input: deployment(2) });
  assert.match(r.stdout, /deployment.apps\/web created/);
  const d = await getDep();
  assert.strictEqual(d.spec.replicas, 2);
  assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], 'last-applied annotation stored');
});

test('apply -f again updates (strategic merge patch)', async () => {
  const r = await kubectl(['apply', '-f', '-'], { input: deployment(3, 'node:22') });
  assert.match(r.stdout, /deployment.apps\/web configured/);
  const d = await getDep();
  assert.strictEqual(d.spec.replicas, 3);
  assert.strictEqual(d.spec.template.spec.containers[0].image, 'node:22');
  assert.strictEqual(d.metadata.generation, 2);
  const r2 = await kubectl(['apply', '-f', '-'], { input: deployment(3, 'node:22') });
  assert.match(r2.stdout, /unchanged/);
});

test('get prints the server-side table', async () => {
  const r = await kubectl(['get', 'deployments']);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
  assert.match(lines[1], /^web\s+0\/3\s+0\s+0\s+\d+s$/);
  const wide = await kubectl(['get', 'deploy', '-o', 'wide']);
  assert.match(wide.stdout, /SELECTOR[\s\S]*node:22\s+app=web/);
});

test('get -o json returns the object', async () => {
  const r = await kubectl(['get', 'deploy', 'web', '-o', 'json']);
  const d = JSON.parse(r.stdout);
  assert.strictEqual(d.kind, 'Deployment');
  assert.strictEqual(d.spec.template.spec.containers[0].terminationMessagePolicy, 'File', 'server defaults filled in');
  const list = JSON.parse((await kubectl(['get', 'ns', '-o', 'json'])).stdout);
  assert.deepStrictEqual(list.items.map(n => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop']);
});

test('get -w sees a change made meanwhile', async () => {
  const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'deploy', 'web', '-w'], { env: { ...process.env, HOME: tmp } });
  let out = '';
  child.stdout.on('data', d => { out += d; });
  try {
    await waitFor(() => /web\s+0\/3/.test(out), 15000, 'initial row');
    await api('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web', { spec: { replicas: 5 } }, { 'Content-Type': 'application/merge-patch+json' });
    await waitFor(() => /web\s+0\/5/.test(out), 15000, 'row after the change');
  } finally { child.kill('SIGTERM'); }
});

test('patch: merge, json and strategic', async () => {
  await kubectl(['patch', 'deploy', 'web', '--type', 'merge', '-p', '{"metadata":{"annotations":{"oomscope.io/enabled":null,"team":"a"}}}']);
  let d = await getDep();
  assert.strictEqual(d.metadata.annotations.team, 'a');
  assert.ok(!('oomscope.io/enabled' in d.metadata.annotations));
  await kubectl(['patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"512Mi"}]']);
  d = await getDep();
  assert.strictEqual(d.spec.template.spec.containers[0].resources.limits.memory, '512Mi');
  await kubectl(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"NODE_OPTIONS","value":"--inspect"}]}]}}}}']);
  d = await getDep();
  assert.deepStrictEqual(d.spec.template.spec.containers[0].env.map(e => e.name), ['NODE_ENV', 'NODE_OPTIONS']);
  const bad = await kubectl(['patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":99},{"op":"replace","path":"/spec/replicas","value":1}]'], { allowFail: true });
  assert.notStrictEqual(bad.code, 0);
  assert.match(bad.stderr, /the server rejected our request due to an error in our request/);
});

test('scale', async () => {
  const r = await kubectl(['scale', 'deploy', 'web', '--replicas=1']);
  assert.match(r.stdout, /scaled/);
  assert.strictEqual((await getDep()).spec.replicas, 1);
});

test('describe deployment', async () => {
  const r = await kubectl(['describe', 'deployment', 'web']);
  assert.match(r.stdout, /^Name:\s+web$/m);
  assert.match(r.stdout, /Replicas:\s+1 desired/);
  assert.match(r.stdout, /NODE_OPTIONS:\s+--inspect/);
  assert.match(r.stdout, /Limits:\s+memory:\s+512Mi/);
});

test('create -f and delete', async () => {
  const r = await kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: {a: b}\n' });
  assert.match(r.stdout, /configmap\/cm1 created/);
  const again = await kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\n', allowFail: true });
  assert.match(again.stderr, /AlreadyExists|already exists/);
  const del = await kubectl(['delete', 'configmap', 'cm1']);
  assert.match(del.stdout, /configmap "cm1" deleted/);
  assert.strictEqual((await api('GET', '/api/v1/namespaces/shop/configmaps/cm1')).status, 404);
});

test('typed create generators (protobuf bodies): namespace, configmap, secret, deployment, serviceaccount', async () => {
  await kubectl(['create', 'namespace', 'gen']);
  await kubectl(['-n', 'gen', 'create', 'configmap', 'c', '--from-literal=k=v']);
  await kubectl(['-n', 'gen', 'create', 'secret', 'generic', 's', '--from-literal=token=abc']);
  await kubectl(['-n', 'gen', 'create', 'deployment', 'd', '--image=node:20', '--replicas=2', '--port=8080']);
  await kubectl(['-n', 'gen', 'create', 'serviceaccount', 'sa']);
  assert.deepStrictEqual((await api('GET', '/api/v1/namespaces/gen/configmaps/c')).json.data, { k: 'v' });
  assert.deepStrictEqual((await api('GET', '/api/v1/namespaces/gen/secrets/s')).json.data, { token: 'YWJj' });
  const d = (await api('GET', '/apis/apps/v1/namespaces/gen/deployments/d')).json;
  assert.strictEqual(d.spec.replicas, 2);
  assert.deepStrictEqual(d.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  assert.strictEqual((await api('GET', '/api/v1/namespaces/gen/serviceaccounts/sa')).status, 200);
});

test('strict validation: kubectl refuses unknown fields and wrong types', async () => {
  const unknown = await kubectl(['apply', '-f', '-'], { input: deployment(1).replace('replicas: 1', 'replicas: 1\n  paused2: true'), allowFail: true });
  assert.notStrictEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown field "spec.paused2"/);
  const wrong = await kubectl(['create', '-f', '-'], { input: deployment('"two"').replace('name: web', 'name: web2'), allowFail: true });
  assert.notStrictEqual(wrong.code, 0);
  assert.match(wrong.stderr, /cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32/);
});

test('custom resources: get with printer columns, status patch, short name', async () => {
  await kubectl(['apply', '-f', '-'], { input: 'apiVersion: oomscope.io/v1alpha1\nkind: HeapDiagnosis\nmetadata: {name: web-1}\nspec: {deployment: web, container: web, triggerPod: web-abc, detectedAt: "2026-11-27T00:00:00Z"}\n' });
  await kubectl(['patch', 'hd', 'web-1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Capturing","snapshots":2,"topSuspect":{"name":"supportedExtensions"}}}']);
  const r = await kubectl(['get', 'heapdiagnoses']);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^NAME\s+DEPLOYMENT\s+PHASE\s+SNAPSHOTS\s+SUSPECT\s+AGE$/);
  assert.match(lines[1], /^web-1\s+web\s+Capturing\s+2\s+supportedExtensions\s+\d+s$/);
});

test('delete deployment', async () => {
  const r = await kubectl(['delete', 'deployment', 'web']);
  assert.match(r.stdout, /deployment.apps "web" deleted/);
  assert.strictEqual((await api('GET', '/apis/apps/v1/namespaces/shop/deployments/web')).status, 404);
});

test('server-side apply creates and updates', async () => {
  let r = await kubectl(['apply', '--server-side', '-f', '-'], { input: deployment(2) });
  assert.match(r.stdout, /serverside-applied/);
  r = await kubectl(['apply', '--server-side', '-f', '-'], { input: deployment(4) });
  assert.strictEqual((await getDep()).spec.replicas, 4);
});

test('TLS with a CA-signed certificate', async () => {
  const run = (args) => new Promise((res, rej) => execFile('openssl', args, { cwd: tmp }, (e, so, se) => (e ? rej(new Error(se)) : res())));
  await run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=emulator-ca']);
  await run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(tmp, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '1', '-extfile', 'ext.cnf']);
  const secure = await startEmulator(['--tls-cert', path.join(tmp, 'tls.crt'), '--tls-key', path.join(tmp, 'tls.key')]);
  try {
    assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const cfg = writeKubeconfig(path.join(tmp, 'tls.yaml'), secure.url, { ca: path.join(tmp, 'ca.crt') });
    const r = await kubectl(['get', 'ns', 'default', '-o', 'name'], { config: cfg });
    assert.strictEqual(r.stdout.trim(), 'namespace/default');
  } finally { await secure.stop(); }
});

test('bearer tokens (over TLS: kubectl sends no token over http): the right one works, another gets 401', async () => {
  const secured = await startEmulator(['--token', 's3cret', '--tls-cert', path.join(tmp, 'tls.crt'), '--tls-key', path.join(tmp, 'tls.key')]);
  try {
    const good = writeKubeconfig(path.join(tmp, 'good.yaml'), secured.url, { token: 's3cret', ca: path.join(tmp, 'ca.crt') });
    const bad = writeKubeconfig(path.join(tmp, 'bad.yaml'), secured.url, { token: 'wrong', ca: path.join(tmp, 'ca.crt') });
    const ok = await kubectl(['get', 'ns', '-o', 'name'], { config: good });
    assert.match(ok.stdout, /namespace\/default/);
    const no = await kubectl(['get', 'ns'], { config: bad, allowFail: true });
    assert.notStrictEqual(no.code, 0);
    assert.match(no.stderr, /Unauthorized/);
  } finally { await secured.stop(); }
});

async function main() {
  emu = await startEmulator(['--crd', CRD]);
  base = emu.url;
  kubeconfig = writeKubeconfig(path.join(tmp, 'config'), base);
  let failures = 0;
  for (const t of tests) {
    try { await t.fn(); console.log(`ok ${t.name}`); } catch (e) { failures++; console.log(`not ok ${t.name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`); }
  }
  await emu.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(failures ? `${failures} failure(s)` : `all ${tests.length} kubectl tests passed`);
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.error(e); process.exit(1); });
