#!/usr/bin/env node
// Operator latency and memory with many pods: starts the API emulator, fills it with PODS pods
// (DEPLOYMENTS Deployments, OPTED of them opted in), starts oomscope-operator, then makes one pod
// of each opted-in Deployment OOMKilled, one at a time, and times from the status PATCH to the
// moment a watch on Deployments shows the recipe applied. Reports p50/p99 and the operator's RSS.
//
//   node bench/operator/bench.js --operator build/release/operator/oomscope-operator [--pods 10000]
//        [--deployments 200] [--ooms 50] [--latency-ms 0] [--operator-log FILE]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : def;
};
const operatorBin = opt('operator', 'build/release/operator/oomscope-operator');
const PODS = +opt('pods', 10000), DEPLOYMENTS = +opt('deployments', 200), OOMS = +opt('ooms', 50);
const LATENCY = +opt('latency-ms', 0);
const OPERATOR_LOG = opt('operator-log', '');  // the operator's log (its "reconciled" lines time each step)
const root = path.resolve(__dirname, '../..');
const crd = path.join(root, 'charts/oomscope/crds/heapdiagnoses.oomscope.io.yaml');

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let base;
function call(method, p, body, contentType = 'application/json') {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(base + p, { method, agent, headers: data ? { 'content-type': contentType } : {} }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => (res.statusCode >= 300 ? reject(new Error(`${method} ${p}: ${res.statusCode} ${s}`)) : resolve(s ? JSON.parse(s) : null)));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
function firstLine(child, stream, marker) {
  return new Promise((resolve, reject) => {
    let buf = '';
    child[stream].on('data', (c) => {
      buf += c;
      const at = buf.indexOf(marker);
      if (at >= 0 && buf.indexOf('\n', at) > 0) resolve(buf.slice(at + marker.length, buf.indexOf('\n', at)));
    });
    child.on('exit', (code) => reject(new Error('exited ' + code)));
  });
}
async function pool(n, jobs) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < jobs.length) await jobs[i++](); }));
}
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

(async () => {
  const emuArgs = [path.join(root, 'tests/emulator/apiserver.js'), '--port', '0', '--crd', crd, '--history', '200000'];
  if (LATENCY) emuArgs.push('--latency-ms', String(LATENCY));
  const emu = spawn('node', emuArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  base = (await firstLine(emu, 'stdout', 'listening ')).trim();
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  const perDeployment = Math.ceil(PODS / DEPLOYMENTS);
  const t0 = Date.now();
  const deployments = [];
  await pool(16, Array.from({ length: DEPLOYMENTS }, (_, d) => async () => {
    const name = `app-${d}`;
    const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'api', image: 'node:20',
      resources: { limits: { memory: '256Mi' } }, livenessProbe: { httpGet: { path: '/healthz', port: 8080 } } }] } };
    const dep = await call('POST', '/apis/apps/v1/namespaces/bench/deployments', { apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name, annotations: d < OOMS ? { 'oomscope.io/enabled': 'true' } : {} },
      spec: { replicas: perDeployment, selector: { matchLabels: { app: name } }, template } });
    const rs = await call('POST', '/apis/apps/v1/namespaces/bench/replicasets', { apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name: name + '-rs', labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: dep.metadata.uid, controller: true }] },
      spec: { replicas: perDeployment, selector: { matchLabels: { app: name } }, template } });
    deployments[d] = { name, rsUid: rs.metadata.uid };
  }));
  await pool(32, Array.from({ length: PODS }, (_, i) => async () => {
    const d = deployments[i % DEPLOYMENTS];
    await call('POST', '/api/v1/namespaces/bench/pods', { apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${d.name}-rs-${Math.floor(i / DEPLOYMENTS)}`, labels: { app: d.name },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: d.name + '-rs', uid: d.rsUid, controller: true }] },
      spec: { containers: [{ name: 'api', image: 'node:20' }] } });
  }));
  console.error(`created ${PODS} pods in ${DEPLOYMENTS} Deployments in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-bench-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: e\nclusters: [{name: e, cluster: {server: "${base}"}}]\n` +
    `users: [{name: u, user: {token: t}}]\ncontexts: [{name: e, context: {cluster: e, user: u}}]\n`);
  const op = spawn(operatorBin, ['--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--log-format', 'text',
    '--sidecar-image', 'oomscope:bench', '--cooldown', '0s', '--max-concurrent', '1000', '--native-sidecar', 'true'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  if (OPERATOR_LOG) {
    const log = fs.createWriteStream(OPERATOR_LOG);
    op.stderr.on('data', (c) => log.write(c));
  }
  const opPort = await firstLine(op, 'stderr', 'INFO listening port=');
  const opUrl = `http://127.0.0.1:${parseInt(opPort, 10)}`;
  for (;;) {  // ready once the caches hold every pod
    const ok = await new Promise((r) => http.get(opUrl + '/readyz', (res) => { res.resume(); r(res.statusCode === 200); }).on('error', () => r(false)));
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`operator ready (caches synced) ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // A watch on Deployments tells when each recipe lands.
  const applied = new Map();
  const waiters = new Map();
  const list = await call('GET', '/apis/apps/v1/namespaces/bench/deployments');
  http.get(`${base}/apis/apps/v1/namespaces/bench/deployments?watch=1&resourceVersion=${list.metadata.resourceVersion}`, (res) => {
    let buf = '';
    res.on('data', (c) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        const o = ev.object;
        if (o && o.metadata && o.metadata.annotations && o.metadata.annotations['oomscope.io/original'] && !applied.has(o.metadata.name)) {
          applied.set(o.metadata.name, performance.now());
          const w = waiters.get(o.metadata.name);
          if (w) w();
        }
      }
    });
  });

  const latencies = [], roundTrips = [];
  for (let d = 0; d < OOMS; ++d) {
    const name = deployments[d].name;
    const landed = new Promise((r) => waiters.set(name, r));
    const start = performance.now();
    await call('PATCH', `/api/v1/namespaces/bench/pods/${name}-rs-0/status`, { status: { containerStatuses: [{ name: 'api', image: 'node:20',
      imageID: '', ready: false, started: false, restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-11-26T23:18:18Z', finishedAt: '2099-01-01T00:00:00Z' } } }] } },
      'application/merge-patch+json');
    roundTrips.push(performance.now() - start);
    await landed;
    latencies.push(applied.get(name) - start);
  }
  const status = fs.readFileSync(`/proc/${op.pid}/status`, 'utf8');
  const kb = (k) => +(status.match(new RegExp(k + ':\\s+(\\d+)'))[1]);
  const result = {
    pods: PODS, deployments: DEPLOYMENTS, ooms: OOMS, emulator_latency_ms: LATENCY,
    oom_to_update_ms: { p50: +pct(latencies, 0.5).toFixed(1), p99: +pct(latencies, 0.99).toFixed(1), max: +Math.max(...latencies).toFixed(1) },
    status_patch_round_trip_ms: { p50: +pct(roundTrips, 0.5).toFixed(1), p99: +pct(roundTrips, 0.99).toFixed(1) },
    operator_rss_mb: +(kb('VmRSS') / 1024).toFixed(1), operator_peak_rss_mb: +(kb('VmHWM') / 1024).toFixed(1),
  };
  console.log(JSON.stringify(result, null, 2));
  op.kill('SIGTERM');
  emu.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
