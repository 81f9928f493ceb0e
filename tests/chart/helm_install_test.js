'use strict';
// helm install, upgrade and uninstall of the chart into the API emulator (tests/emulator: a
// v1.32 API server stand-in that validates what it stores, strictly): every object is accepted
// without a warning, the upload token generated at install is kept by the upgrade (helm's
// `lookup` finds the Secret), an upgrade's changes arrive, and uninstall removes the release but
// leaves the CRD (Helm never deletes crds/).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, CHART, helm } = require('./lib/chart');

async function startEmulator(t) {
  const child = spawn(process.execPath, [path.join(ROOT, 'tests', 'emulator', 'apiserver.js'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGTERM'));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; const m = /^listening (http:\/\/\S+)/m.exec(buf); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-helm-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: emu\nclusters: [{name: emu, cluster: {server: "${url}"}}]\ncontexts: [{name: emu, context: {cluster: emu, user: admin}}]\nusers: [{name: admin, user: {}}]\n`);
  fs.chmodSync(kubeconfig, 0o600);
  // Helm's own cache and config stay in the temp dir.
  const env = { ...process.env, HELM_CACHE_HOME: path.join(dir, 'cache'), HELM_CONFIG_HOME: path.join(dir, 'config'), HELM_DATA_HOME: path.join(dir, 'data') };
  return { url, kubeconfig, env };
}

const get = async (url, p) => { const r = await fetch(url + p); return { status: r.status, body: await r.json() }; };

test('install, upgrade (the token is kept), uninstall (the CRD stays) against the API emulator', async (t) => {
  const { url, kubeconfig, env } = await startEmulator(t);
  const run = (...args) => helm([...args, '--kubeconfig', kubeconfig], { env });
  const tokenPath = '/api/v1/namespaces/oomscope/secrets/oomscope-analyzer-token';
  const opPath = '/apis/apps/v1/namespaces/oomscope/deployments/oomscope-operator';

  assert.match(run('install', 'oomscope', CHART, '--namespace', 'oomscope', '--create-namespace'), /STATUS: deployed/);
  const installed = (await get(url, tokenPath)).body.data.token;
  assert.match(Buffer.from(installed, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
  assert.equal((await get(url, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/heapdiagnoses.oomscope.io')).status, 200);
  assert.ok((await get(url, opPath)).body.spec.template.spec.containers[0].args.includes('--ttl=30m'));

  assert.match(run('upgrade', 'oomscope', CHART, '--namespace', 'oomscope', '--set', 'operator.ttl=1h'), /has been upgraded/);
  assert.equal((await get(url, tokenPath)).body.data.token, installed, 'the upgrade kept the token');
  assert.ok((await get(url, opPath)).body.spec.template.spec.containers[0].args.includes('--ttl=1h'));

  // The server took every object as it is: no unknown-field or other warnings, no rejected write.
  const calls = await (await fetch(`${url}/_emulator/requests`)).json();
  const writes = calls.filter((c) => ['create', 'update', 'patch'].includes(c.verb));
  assert.ok(writes.length >= 12, `${writes.length} writes`);
  assert.deepEqual(calls.filter((c) => c.warnings && c.warnings.length).map((c) => `${c.verb} ${c.resource} ${c.name}: ${c.warnings}`), []);
  assert.deepEqual(writes.filter((c) => c.status >= 400).map((c) => `${c.verb} ${c.resource} ${c.name}: ${c.status}`), []);

  // --keep-history: purging the release record sends protobuf DeleteOptions, which the emulator
  // does not decode yet (a real server does); the release's objects are deleted either way.
  run('uninstall', 'oomscope', '--namespace', 'oomscope', '--keep-history');
  assert.equal((await get(url, opPath)).status, 404);
  assert.equal((await get(url, tokenPath)).status, 404);
  assert.equal((await get(url, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/heapdiagnoses.oomscope.io')).status, 200, 'Helm keeps CRDs');
});
