'use strict';

// The kubelet stand-in against the API emulator: pods become processes reachable on their
// mapped ports and report Running/Ready; a container past its memory limit is OOM-killed and
// recorded as the kubelet records it (lastState.terminated OOMKilled, exit code 137,
// restartCount + 1) and restarted; deleting a pod stops its processes. (Deployments, through
// the emulator's controllers, are the cluster test's.)
//   node --test tests/e2e/kubelet_emulator.test.js

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const { KubeClient } = require('./kubelet/kube_client');
const { Processes, waitFor, getJson, httpGet, alive } = require('./harness');

const REPO = path.resolve(__dirname, '..', '..');
const EMULATOR = path.join(REPO, 'tests', 'emulator', 'apiserver.js');
const NS = 'kl';

function pod(name, app, container) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app } }, spec: { containers: [container] } };
}

test('pods become processes; OOM kills are recorded as the kubelet does; deleted pods stop', {
  skip: !fs.existsSync(EMULATOR) && 'no emulator',
  timeout: 120000,
}, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-e2e-'));
  const procs = new Processes(dir);
  let ok = false;
  let kubeletUrl;
  try {
    const emu = await procs.start('apiserver', process.execPath, [EMULATOR, '--port', '0', '--controllers'], { ready: /^listening (\S+)/ });
    const kube = new KubeClient(emu.match[1]);
    const kl = await procs.start('kubelet', process.execPath, [path.join(__dirname, 'kubelet.js'), '--server', emu.match[1],
      '--work-dir', path.join(dir, 'node')], { ready: /^kubelet listening (\S+)/ });
    kubeletUrl = kl.match[1];
    await kube.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    for (const name of ['web-1', 'web-2']) {
      await kube.request('POST', `/api/v1/namespaces/${NS}/pods`, pod(name, 'web', {
        name: 'api',
        image: 'oomscope/leaky-api:1.0.0',
        ports: [{ containerPort: 3000 }],
        env: [{ name: 'PORT', value: '3000' }, { name: 'HOST', value: '0.0.0.0' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }));
    }
    await kube.request('POST', `/api/v1/namespaces/${NS}/pods`, pod('hog', 'hog', {
      name: 'hog',
      image: 'node:20',
      command: ['node', '-e', 'const a=[];setInterval(()=>a.push(Buffer.alloc(2<<20,1)),25)'],
      resources: { limits: { memory: '96Mi' } },
    }));

    // Both web pods serve on their own host port, and the API says Running and Ready.
    const webPods = await waitFor('2 web pods serving', async () => {
      const pods = (await getJson(`${kubeletUrl}/pods`)).pods.filter((p) => p.labels.app === 'web');
      if (pods.length !== 2) return null;
      for (const p of pods) {
        const r = await httpGet(`http://127.0.0.1:${p.ports[3000]}/healthz`);
        if (r.status !== 200) return null;
      }
      return pods;
    }, { timeoutMs: 30000 });
    assert.notEqual(webPods[0].ports[3000], webPods[1].ports[3000]);
    for (const p of webPods) assert.equal(p.containers[0].env.POD, p.name);
    await waitFor('web pods Running and Ready in the API', async () => {
      const list = await kube.get(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`);
      return list.items.length === 2 && list.items.every((p) => p.spec.nodeName === 'e2e-node' && p.status.phase === 'Running' &&
        p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True') && p.status.podIP === '127.0.0.1');
    }, { timeoutMs: 20000 });

    // The hog passes 96Mi: OOMKilled, 137, restarted.
    const hog = await waitFor('the hog OOMKilled and restarted', async () => {
      const list = await kube.get(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dhog`);
      const s = list.items[0] && (list.items[0].status.containerStatuses || [])[0];
      return s && s.restartCount >= 1 && s.lastState.terminated ? s : null;
    }, { timeoutMs: 30000 });
    assert.equal(hog.lastState.terminated.reason, 'OOMKilled');
    assert.equal(hog.lastState.terminated.exitCode, 137);
    const hogPod = (await getJson(`${kubeletUrl}/pods`)).pods.find((p) => p.labels.app === 'hog');
    assert.ok(hogPod.containers[0].peakRssBytes > 96 * 2 ** 20);

    // Deleting the pods (gracefully: the kubelet stops them, then deletes them for good) stops
    // the processes.
    const pids = webPods.map((p) => p.containers[0].pid);
    assert.ok(pids.every(alive));
    for (const name of ['web-1', 'web-2']) await kube.request('DELETE', `/api/v1/namespaces/${NS}/pods/${name}`);
    await waitFor('the web pods gone from the API', async () =>
      (await kube.get(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`)).items.length === 0, { timeoutMs: 20000 });
    await waitFor('the web processes stopped', async () => !pids.some(alive), { timeoutMs: 20000 });
    await waitFor('the web pods gone from the kubelet', async () =>
      !(await getJson(`${kubeletUrl}/pods`)).pods.some((p) => p.labels.app === 'web'), { timeoutMs: 20000 });
    ok = true;
  } finally {
    // Stopping the kubelet stops the processes of the pods it still runs.
    let pids = [];
    try {
      pids = (await getJson(`${kubeletUrl}/pods`)).pods.flatMap((p) => p.containers.map((c) => c.pid)).filter(Boolean);
    } catch {
      // no kubelet
    }
    await procs.stopAll();
    if (!ok) for (const e of procs.list) t.diagnostic(`--- ${e.name}\n${procs.tail(e.logFile)}`);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(pids.filter(alive), []);
  }
});
