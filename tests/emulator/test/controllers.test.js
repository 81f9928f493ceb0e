'use strict';
// --controllers: Deployment -> ReplicaSet -> Pods, rolling update, status,
// and garbage collection (background, orphan, foreground).
const assert = require('assert');
const path = require('path');
const { startEmulator, request, stream, waitFor, parseTranscript } = require('./harness');

const GOLDEN = path.join(__dirname, '..', 'golden');
const golden = (f) => parseTranscript(path.join(GOLDEN, f));

let base;
const api = (method, p, body, headers) => request(base, method, p, { body, headers });
const merge = (p, body) => api('PATCH', p, body, { 'Content-Type': 'application/merge-patch+json' });
const NS = '/api/v1/namespaces/shop';
const list = async (p) => (await api('GET', p)).json.items;
const pods = () => list(`${NS}/pods`);
const rses = () => list('/apis/apps/v1/namespaces/shop/replicasets');
const dep = async (name = 'web') => (await api('GET', `/apis/apps/v1/namespaces/shop/deployments/${name}`)).json;

function deployment(name, replicas, env = 'a') {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'node:20', env: [{ name: 'V', value: env }] }] } },
    },
  };
}

// A stand-in kubelet: binds new pods and reports them Ready.
function readyMaker() {
  const seen = new Set();
  const s = stream(base, `${NS}/pods?watch=1`, {
    onEvent: (ev) => {
      const p = ev.object;
      if (ev.type === 'DELETED' || seen.has(p.metadata.uid) || p.metadata.deletionTimestamp) return;
      seen.add(p.metadata.uid);
      merge(`${NS}/pods/${p.metadata.name}/status`, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    },
  });
  return s;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// What the real controller-manager made of transcript 08's Deployment (09, 10, 11), with the
// hash and pod names mapped to the recorded ones and volatile values masked.
test('the controllers make what the real kube-controller-manager made (golden 09, 10, 11)', async () => {
  const t08 = golden('08-create-deployment.http');
  const ns = '/api/v1/namespaces';
  await api('POST', ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gold' } });
  const body = JSON.parse(t08.reqBody);
  body.metadata.namespace = 'gold';
  assert.strictEqual((await api('POST', '/apis/apps/v1/namespaces/gold/deployments', body)).status, 201);
  await waitFor(async () => { const d = (await api('GET', '/apis/apps/v1/namespaces/gold/deployments/leaky-api')).json; return d.status.replicas === 3 && d.status.unavailableReplicas === 3; }, 10000, 'status');
  const rs = (await api('GET', '/apis/apps/v1/namespaces/gold/replicasets?labelSelector=app%3Dleaky-api')).body;
  const hash = JSON.parse(rs).items[0].metadata.labels['pod-template-hash'];
  const mask = (text, podNames = []) => {
    let t = text;
    podNames.forEach((n, i) => { t = t.split(n).join(`POD${i}`); });
    t = t.split(hash).join('d59884475').replace(/"gold"/g, '"shop"');
    return JSON.parse(t, (k, v) => {
      if (k === 'managedFields' || k === 'uid' || k === 'resourceVersion' || k === 'creationTimestamp' || k === 'lastUpdateTime' || k === 'lastTransitionTime') return undefined;
      return v;
    });
  };
  const check = (name, expected, actual) => assert.deepStrictEqual(actual, expected, name);
  check('deployment (09)', mask(golden('09-get-deployment.http').body), mask((await api('GET', '/apis/apps/v1/namespaces/gold/deployments/leaky-api')).body));
  check('replicasets (10)', mask(golden('10-list-replicasets.http').body), mask(rs));
  const recPods = JSON.parse(golden('11-list-pods-labelselector.http').body).items.map(p => p.metadata.name);
  const ourPods = JSON.parse((await api('GET', '/api/v1/namespaces/gold/pods?labelSelector=app%3Dleaky-api')).body).items.map(p => p.metadata.name);
  check('pods (11)', mask(golden('11-list-pods-labelselector.http').body, recPods), mask((await api('GET', '/api/v1/namespaces/gold/pods?labelSelector=app%3Dleaky-api')).body, ourPods));
  // 13 then 15: the OOMKilled pod, then replicas 1 and a new template. As in 18/19: the old
  // ReplicaSet goes down to 1 (the restarted pod goes first), the new one gets 1 pod, and the
  // rollout waits there (no pod is ready without a kubelet).
  const oomed = ourPods[0];
  const t13 = golden('13-patch-pod-status-oomkilled.http');
  assert.strictEqual((await merge(`/api/v1/namespaces/gold/pods/${oomed}/status`, JSON.parse(t13.reqBody.split('leaky-api-d59884475-4ph2r').join(oomed)))).status, 200);
  const cur = (await api('GET', '/apis/apps/v1/namespaces/gold/deployments/leaky-api')).json;
  const put = JSON.parse(golden('15-put-deployment-reconfigure-200.http').reqBody);
  Object.assign(put.metadata, { namespace: 'gold', resourceVersion: cur.metadata.resourceVersion, uid: cur.metadata.uid });
  assert.strictEqual((await api('PUT', '/apis/apps/v1/namespaces/gold/deployments/leaky-api', put)).status, 200);
  const live = async () => (await api('GET', '/api/v1/namespaces/gold/pods?labelSelector=app%3Dleaky-api')).json.items.filter(p => !p.metadata.deletionTimestamp);
  await waitFor(async () => (await live()).length === 2 && (await live()).some(p => !p.metadata.name.includes(hash)), 10000, 'old 1 + new 1');
  const names = (await live()).map(p => p.metadata.name);
  assert.ok(!names.includes(oomed), 'the restarted pod was scaled down first');
  const sets = (await api('GET', '/apis/apps/v1/namespaces/gold/replicasets')).json.items.map(r => r.spec.replicas).sort();
  assert.deepStrictEqual(sets, [1, 1]);
  const d = (await api('GET', '/apis/apps/v1/namespaces/gold/deployments/leaky-api')).json;
  assert.strictEqual(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
});

test('a Deployment gets a ReplicaSet NAME-<hash> and its Pods, with ownerReferences and status', async () => {
  assert.strictEqual((await api('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment('web', 3))).status, 201);
  await waitFor(async () => (await pods()).length === 3, 10000, '3 pods');
  const d = await dep();
  const [rs] = await rses();
  const hash = rs.metadata.labels['pod-template-hash'];
  assert.strictEqual(rs.metadata.name, `web-${hash}`);
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.deepStrictEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.deepStrictEqual(rs.spec.selector.matchLabels, { app: 'web', 'pod-template-hash': hash });
  assert.strictEqual(rs.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  for (const p of await pods()) {
    assert.ok(p.metadata.name.startsWith(`web-${hash}-`));
    assert.strictEqual(p.metadata.ownerReferences[0].uid, rs.metadata.uid);
    assert.strictEqual(p.status.phase, 'Pending');
    assert.ok(!p.spec.nodeName);
  }
  await waitFor(async () => { const x = await dep(); return x.status.replicas === 3 && x.status.unavailableReplicas === 3 && x.status.observedGeneration === 1; }, 5000, 'deployment status');
  const st = (await dep()).status;
  assert.strictEqual(st.conditions.find(c => c.type === 'Available').status, 'False');
  assert.strictEqual((await dep()).metadata.annotations['deployment.kubernetes.io/revision'], '1');
});

test('ready pods make the Deployment Available', async () => {
  const k = readyMaker();
  try {
    await waitFor(async () => (await dep()).status.availableReplicas === 3, 10000, 'available');
    const d = await dep();
    assert.strictEqual(d.status.conditions.find(c => c.type === 'Available').status, 'True');
    assert.strictEqual(d.status.readyReplicas, 3);
  } finally { k.close(); }
});

test('a template change rolls out: new ReplicaSet up, old one down to 0, revision 2', async () => {
  const k = readyMaker();
  try {
    const old = (await rses())[0];
    assert.strictEqual((await merge('/apis/apps/v1/namespaces/shop/deployments/web', { spec: { template: { spec: { containers: [{ name: 'app', image: 'node:20', env: [{ name: 'V', value: 'b' }] }] } } } })).status, 200);
    await waitFor(async () => {
      const rs = await rses();
      const n = rs.find(r => r.metadata.name !== old.metadata.name);
      const o = rs.find(r => r.metadata.name === old.metadata.name);
      const ps = (await pods()).filter(p => !p.metadata.deletionTimestamp);
      return n && n.spec.replicas === 3 && o.spec.replicas === 0 && ps.length === 3 && ps.every(p => p.metadata.ownerReferences[0].uid === n.metadata.uid);
    }, 15000, 'rollout');
    const d = await dep();
    assert.strictEqual(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    await waitFor(async () => (await dep()).status.updatedReplicas === 3 && (await dep()).status.availableReplicas === 3, 10000, 'status after rollout');
  } finally { k.close(); }
});

test('without ready pods a rollout stalls within maxSurge (3 replicas: 1 new pod, 3 old)', async () => {
  await api('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment('slow', 3));
  await waitFor(async () => (await list(`${NS}/pods?labelSelector=app%3Dslow`)).length === 3, 10000, 'slow pods');
  await merge('/apis/apps/v1/namespaces/shop/deployments/slow', { spec: { template: { spec: { containers: [{ name: 'app', image: 'node:20', env: [{ name: 'V', value: 'z' }] }] } } } });
  await waitFor(async () => (await list(`${NS}/pods?labelSelector=app%3Dslow`)).length === 4, 10000, '4 pods (surge 1)');
  const rs = await list('/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dslow');
  assert.deepStrictEqual(rs.map(r => r.spec.replicas).sort(), [1, 3]);
});

test('deleting a Deployment (background) garbage-collects its ReplicaSets and Pods', async () => {
  const r = await api('DELETE', '/apis/apps/v1/namespaces/shop/deployments/slow');
  assert.strictEqual(r.json.status, 'Success');
  await waitFor(async () => (await list(`${NS}/pods?labelSelector=app%3Dslow`)).length === 0 && (await list('/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dslow')).length === 0, 10000, 'GC');
});

test('orphan deletion keeps the ReplicaSet, without its ownerReference', async () => {
  await api('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment('orph', 1));
  await waitFor(async () => (await list(`${NS}/pods?labelSelector=app%3Dorph`)).length === 1, 10000, 'orph pod');
  await api('DELETE', '/apis/apps/v1/namespaces/shop/deployments/orph', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
  await new Promise(r => setTimeout(r, 200));
  const rs = await list('/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dorph');
  assert.strictEqual(rs.length, 1);
  assert.ok(!rs[0].metadata.ownerReferences);
  assert.strictEqual((await list(`${NS}/pods?labelSelector=app%3Dorph`)).length, 1);
});

test('foreground deletion: the owner waits (deletionTimestamp, finalizer) until its dependents are gone', async () => {
  await api('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment('fg', 2));
  await waitFor(async () => (await list(`${NS}/pods?labelSelector=app%3Dfg`)).length === 2, 10000, 'fg pods');
  const r = await api('DELETE', '/apis/apps/v1/namespaces/shop/deployments/fg?propagationPolicy=Foreground');
  assert.strictEqual(r.status, 202);
  assert.ok(r.json.metadata.deletionTimestamp);
  assert.deepStrictEqual(r.json.metadata.finalizers, ['foregroundDeletion']);
  await waitFor(async () => (await api('GET', '/apis/apps/v1/namespaces/shop/deployments/fg')).status === 404, 10000, 'owner gone');
  assert.strictEqual((await list(`${NS}/pods?labelSelector=app%3Dfg`)).length, 0);
});

test('scaling a Deployment scales its ReplicaSet', async () => {
  await api('PUT', '/apis/apps/v1/namespaces/shop/deployments/web/scale', { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 1 } });
  await waitFor(async () => (await pods()).filter(p => p.metadata.labels.app === 'web' && !p.metadata.deletionTimestamp).length === 1, 10000, 'scaled down');
});

async function main() {
  const emu = await startEmulator(['--controllers']);
  base = emu.url;
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  let failures = 0;
  for (const t of tests) {
    try { await t.fn(); console.log(`ok ${t.name}`); } catch (e) { failures++; console.log(`not ok ${t.name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`); }
  }
  await emu.stop();
  const err = emu.stderr();
  if (/internal error/.test(err)) { failures++; console.log(`not ok emulator stderr:\n${err}`); }
  console.log(failures ? `${failures} failure(s)` : `all ${tests.length} controller tests passed`);
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.error(e); process.exit(1); });
