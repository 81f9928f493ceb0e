'use strict';
// The chart's command lines run: each program the chart deploys is started with exactly the
// command and args the rendered Deployment gives it (only the listen address, file paths and,
// for the operator, the cluster swapped for local ones: port 0, temp files, the API emulator),
// and answers the Deployment's own liveness and readiness probes. A flag the program does not
// know fails here, not in someone's cluster.
// Usage (from ctest): node args_test.js PROGRAM=FILE...
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, CHART, render } = require('./lib/chart');
const { allows, rulesFor, describe } = require('./lib/rbac');

const programs = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));

function waitForLine(child, re, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const on = (d) => { buf += d; const m = re.exec(buf); if (m) resolve(m); };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', (code) => reject(new Error(`${what} exited ${code} before it was ready:\n${buf}`)));
  });
}

async function startEmulator(t, dir) {
  const child = spawn(process.execPath, [path.join(ROOT, 'tests', 'emulator', 'apiserver.js'), '--port', '0',
    '--crd', path.join(CHART, 'crds', 'heapdiagnoses.oomscope.io.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGTERM'));
  const [, url] = await waitForLine(child, /^listening (http:\/\/\S+)/m, 'emulator');
  await fetch(`${url}/api/v1/namespaces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'oomscope' } }) });
  await fetch(`${url}/_emulator/requests`, { method: 'DELETE' }); // from here on: the operator's calls
  t.emulatorUrl = url;
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: emu\nclusters: [{name: emu, cluster: {server: "${url}"}}]\ncontexts: [{name: emu, context: {cluster: emu, user: admin, namespace: oomscope}}]\nusers: [{name: admin, user: {}}]\n`);
  return kubeconfig;
}

// The container's command line with local stand-ins for the cluster's paths and addresses.
function localCommand(container, dir) {
  const mounts = Object.fromEntries((container.volumeMounts || []).map((m) => [m.mountPath, path.join(dir, m.name)]));
  for (const [, local] of Object.entries(mounts)) fs.mkdirSync(local, { recursive: true });
  fs.writeFileSync(path.join(dir, 'upload-token', 'token'), 'a-test-token-a-test-token-a-test-token');
  const byLength = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const swap = (arg) => {
    const m = /^(--[^=]+=)(.*)$/.exec(arg);
    if (!m) return arg;
    if (m[1] === '--listen=') return `${m[1]}127.0.0.1:0`;
    const mp = byLength.find((p) => m[2] === p || m[2].startsWith(`${p}/`));
    return mp ? m[1] + mounts[mp] + m[2].slice(mp.length) : arg;
  };
  return [...container.command.slice(1), ...container.args].map(swap);
}

const objects = render(path.join(CHART, 'ci', 'defaults-values.yaml'));
for (const component of ['analyzer', 'operator']) {
  test(`oomscope-${component} runs with the chart's args and passes its probes`, async (t) => {
    const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-${component}`));
    const c = dep.spec.template.spec.containers[0];
    const name = path.basename(c.command[0]);
    assert.ok(programs[name], `${name} is not built in this tree`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oomscope-args-${component}-`));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const args = localCommand(c, dir);
    const env = { ...process.env, POD_NAME: `${dep.metadata.name}-0`, POD_NAMESPACE: 'oomscope' };
    if (component === 'operator') args.push(`--kubeconfig=${await startEmulator(t, dir)}`);
    const child = spawn(programs[name], args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    const m = await waitForLine(child, /listening\D*?(\d{2,5})\b|"port":"?(\d+)/, name);
    const port = Number(m[1] || m[2]);
    for (const probe of [c.livenessProbe, c.readinessProbe]) {
      let status = 0;
      // Readiness may take a moment (the operator's caches sync): poll on the program's own answer.
      // (deadline 60 s: sanitizer builds on a busy machine are slow to start).
      for (const end = Date.now() + 60000; Date.now() < end && status !== 200;) {
        status = (await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, `${name} ${probe.httpGet.path}`);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, new RegExp(`^oomscope_${component === 'analyzer' ? 'analyzer_' : ''}`, 'm'));
    if (component === 'operator') {
      // Every call it made while starting (lists, watches, the Lease) is one the chart's RBAC allows.
      const calls = await (await fetch(`${t.emulatorUrl}/_emulator/requests`)).json();
      assert.ok(calls.length > 0);
      const denied = calls.filter((call) => !allows(rulesFor(objects, call.namespace), call)).map(describe);
      assert.deepEqual([...new Set(denied)], [], 'calls the chart\'s RBAC does not allow');
    }
  });
}
