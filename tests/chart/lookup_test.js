'use strict';
// The upload token is generated once and kept across upgrades: with a cluster to look in (the
// API emulator, tests/emulator), helm's `lookup` finds the Secret a previous install created and
// the chart renders that same token; without one it generates a fresh token each time.
// (`helm template --dry-run=server` renders with lookup against the cluster, as an upgrade does.)
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, CHART, helm, parseDocs } = require('./lib/chart');

async function startEmulator(t) {
  const child = spawn(process.execPath, [path.join(ROOT, 'tests', 'emulator', 'apiserver.js'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGTERM'));
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; const m = /^listening (http:\/\/\S+)/m.exec(buf); if (m) resolve(m[1]); });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-lookup-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: emu',
    'clusters: [{name: emu, cluster: {server: "' + url + '"}}]',
    'contexts: [{name: emu, context: {cluster: emu, user: admin}}]',
    'users: [{name: admin, user: {}}]', ''].join('\n'));
  fs.chmodSync(kubeconfig, 0o600);
  return { url, kubeconfig };
}

async function post(url, p, body) {
  const res = await fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, `${p}: ${await res.text()}`);
}

const tokenOf = (text) => {
  const secret = parseDocs(text).find((o) => o.kind === 'Secret' && o.metadata.name === 'oomscope-analyzer-token');
  return Buffer.from(secret.data.token, 'base64').toString('utf8');
};

test('an upgrade keeps the token the first install generated', async (t) => {
  const { url, kubeconfig } = await startEmulator(t);
  const render = () => helm(['template', 'oomscope', CHART, '--namespace', 'oomscope', '--dry-run=server', '--kubeconfig', kubeconfig]);
  await post(url, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'oomscope' } });
  // Nothing installed yet: a fresh token (objects_test shows it differs on every render).
  const a = tokenOf(render());
  assert.match(a, /^[A-Za-z0-9]{48}$/);
  // Installed: the Secret as helm created it (ownership metadata included).
  const installed = parseDocs(helm(['template', 'oomscope', CHART, '--namespace', 'oomscope', '--show-only', 'templates/upload-token-secret.yaml']))[0];
  installed.metadata.labels['app.kubernetes.io/managed-by'] = 'Helm';
  installed.metadata.annotations = { 'meta.helm.sh/release-name': 'oomscope', 'meta.helm.sh/release-namespace': 'oomscope' };
  const kept = tokenOf(YAMLish(installed));
  await post(url, '/api/v1/namespaces/oomscope/secrets', installed);
  assert.notEqual(kept, a);
  assert.equal(tokenOf(render()), kept);
});

// One object as a YAML document (JSON is YAML).
function YAMLish(o) { return JSON.stringify(o); }
