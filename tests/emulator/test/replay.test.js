'use strict';
// Replays every golden transcript (golden/NN-*.http, recorded from a real
// kube-apiserver v1.32) against the emulator, in the recorder's order,
// building the state each one needs, and compares status code, Content-Type,
// Warning headers and the body structurally (volatile values masked).
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startEmulator, request, stream, parseTranscript } = require('./harness');

const GOLDEN = path.join(__dirname, '..', 'golden');
const files = fs.readdirSync(GOLDEN).filter(f => /^\d\d-.*\.http$/.test(f)).sort();
const T = (n) => parseTranscript(path.join(GOLDEN, files.find(f => f.startsWith(String(n).padStart(2, '0') + '-'))));

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function normalize(v, key) {
  if (Array.isArray(v)) return v.map(x => normalize(x));
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      if (k === 'managedFields' || k === 'storageVersionHash') continue;
      o[k] = normalize(v[k], k);
    }
    return o;
  }
  if (typeof v === 'string') {
    if (key === 'resourceVersion') return '<rv>';
    if (key === 'continue') return '<continue>';
    if (key === 'serverAddress') return '<addr>';
    if (TIME.test(v)) return '<time>';
    if (UID.test(v)) return '<uid>';
    if (/^\d+s$/.test(v)) return '<age>';
  }
  return v;
}

function rawAll(r, name) {
  const out = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) if (r.rawHeaders[i].toLowerCase() === name) out.push(r.rawHeaders[i + 1]);
  return out;
}

function dropPaths(o, paths) {
  for (const p of paths || []) {
    const parts = p.split('.');
    let cur = o;
    for (let i = 0; cur && i < parts.length - 1; i++) cur = cur[parts[i]];
    if (cur && typeof cur === 'object') delete cur[parts[parts.length - 1]];
  }
  return o;
}

function diff(a, b, p = '', out = []) {
  if (out.length > 8) return out;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) { out.push(`${p}: expected ${JSON.stringify(a)?.slice(0, 200)} got ${JSON.stringify(b)?.slice(0, 200)}`); return out; }
  if (a && typeof a === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in b)) out.push(`${p}.${k}: missing (expected ${JSON.stringify(a[k]).slice(0, 120)})`);
      else if (!(k in a)) out.push(`${p}.${k}: unexpected ${JSON.stringify(b[k]).slice(0, 120)}`);
      else diff(a[k], b[k], `${p}.${k}`, out);
    }
    return out;
  }
  if (a !== b) out.push(`${p}: expected ${JSON.stringify(a)} got ${JSON.stringify(b)}`);
  return out;
}

function compareBodies(name, expected, actual, ignore) {
  const e = dropPaths(normalize(expected), ignore);
  const a = dropPaths(normalize(actual), ignore);
  const d = diff(e, a);
  assert.deepStrictEqual(d, [], `${name}: body differs:\n  ${d.join('\n  ')}`);
}

const stripServerFields = (o) => {
  const c = JSON.parse(JSON.stringify(o));
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) delete c.metadata[k];
  return c;
};

async function main() {
  const emu = await startEmulator(['--bookmark-interval-ms', '300']);
  const base = emu.url;
  const ran = new Set();
  let failures = 0;
  const UA = 'oomscope-recorder/1.0 (linux/amd64)';
  const api = (method, p, body, headers = {}) => request(base, method, p, { body, headers: { 'User-Agent': UA, ...headers } });
  const must = async (promise, code) => { const r = await promise; assert.strictEqual(r.status, code, `setup: ${r.status} ${r.body}`); return r.json; };
  const rvOf = async (p) => (await must(api('GET', p), 200)).metadata.resourceVersion;

  // Sends transcript n's request (optionally rewritten) and compares the answer.
  async function replay(n, o = {}) {
    const t = T(n);
    ran.add(n);
    const target = o.target || t.target;
    let body = t.reqBody;
    if (o.body) body = typeof o.body === 'function' ? JSON.stringify(o.body(JSON.parse(t.reqBody))) : o.body;
    const headers = { 'User-Agent': t.reqHeaders['user-agent'] };
    for (const h of ['accept', 'content-type']) if (t.reqHeaders[h]) headers[h] = t.reqHeaders[h];
    const r = await request(o.base || base, t.method, target, { body, headers: { ...headers, ...(o.headers || {}) } });
    const name = files.find(f => f.startsWith(String(n).padStart(2, '0')));
    try {
      assert.strictEqual(r.status, t.status, `${name}: status ${r.status} (expected ${t.status}): ${r.body.slice(0, 400)}`);
      assert.strictEqual(r.headers['content-type'], t.headers['content-type'], `${name}: content-type`);
      assert.deepStrictEqual(rawAll(r, 'warning'), [].concat(t.headers.warning || []), `${name}: Warning headers`);
      if (t.headers['x-content-type-options']) assert.strictEqual(r.headers['x-content-type-options'], t.headers['x-content-type-options'], `${name}: X-Content-Type-Options`);
      if (!o.skipBody) {
        const exp = o.expected ? o.expected(JSON.parse(t.body)) : JSON.parse(t.body);
        compareBodies(name, exp, JSON.parse(r.body), o.ignore);
      }
      if (o.check) o.check(r, t);
      console.log(`ok ${name}`);
    } catch (e) {
      failures++;
      console.log(`not ok ${name}\n  ${e.message.split('\n').join('\n  ')}`);
    }
    return r;
  }

  // Watch transcripts: start the watch, run `during`, compare the event lines.
  async function replayWatch(n, o) {
    const t = T(n);
    ran.add(n);
    const name = files.find(f => f.startsWith(String(n).padStart(2, '0')));
    const s = stream(base, o.target, { headers: { 'User-Agent': UA } });
    if (o.during) { await new Promise(r => setTimeout(r, 100)); await o.during(); }
    const res = await s.done;
    const expected = t.body.split('\n').filter(Boolean).map(l => JSON.parse(l));
    try {
      assert.strictEqual(res.status, t.status, `${name}: status`);
      assert.strictEqual(res.headers['content-type'], t.headers['content-type'], `${name}: content-type`);
      assert.strictEqual(res.headers['transfer-encoding'], 'chunked', `${name}: chunked`);
      const got = res.events;
      if (o.firstOnly) {
        assert.ok(got.length >= 1, `${name}: no events`);
        compareBodies(name, expected[0], got[0], o.ignore);
      } else {
        // Non-bookmark events must match one to one; bookmarks have the recorded shape.
        const ne = expected.filter(e => e.type !== 'BOOKMARK');
        const ng = got.filter(e => e.type !== 'BOOKMARK');
        compareBodies(name, ne, ng, o.ignore);
        const eb = expected.filter(e => e.type === 'BOOKMARK');
        const gb = got.filter(e => e.type === 'BOOKMARK');
        assert.strictEqual(gb.length > 0, eb.length > 0, `${name}: bookmarks expected ${eb.length}, got ${gb.length}`);
        if (eb.length) compareBodies(name, eb[0], gb[0]);
        if (gb.length && ng.length) assert.strictEqual(gb[gb.length - 1].object.metadata.resourceVersion, ng[ng.length - 1].object.metadata.resourceVersion, `${name}: bookmark rv`);
      }
      console.log(`ok ${name}`);
    } catch (e) {
      failures++;
      console.log(`not ok ${name}\n  ${e.message.split('\n').join('\n  ')}`);
    }
  }

  const D = '/apis/apps/v1/namespaces/shop/deployments/leaky-api';
  // Controller-owned state (no controller-manager here): copy it from the recording.
  async function seedDeploymentState(recorded) {
    const cur = await must(api('GET', D), 200);
    const want = recorded.metadata.annotations['deployment.kubernetes.io/revision'];
    if (want && cur.metadata.annotations['deployment.kubernetes.io/revision'] !== want) {
      await must(api('PATCH', D, { metadata: { annotations: { 'deployment.kubernetes.io/revision': want } } }, { 'Content-Type': 'application/merge-patch+json' }), 200);
    }
    await must(api('PATCH', D + '/status', { status: recorded.status }, { 'Content-Type': 'application/merge-patch+json' }), 200);
  }

  for (const n of [1, 2, 3, 4, 5]) await replay(n, { ignore: n === 4 ? [] : [] });
  await replay(6, { check: (r, t) => assert.strictEqual(r.body, t.body, 'version body is byte-identical') });
  await replay(7);
  await replay(8);
  // 09: the deployment controller's status and revision annotation.
  const rec09 = JSON.parse(T(9).body);
  await seedDeploymentState(rec09);
  await replay(9);
  // 10/11: the ReplicaSet and Pods the controllers made, created from the recording.
  const dep = await must(api('GET', D), 200);
  const rs = JSON.parse(T(10).body).items[0];
  const rsBody = stripServerFields({ apiVersion: 'apps/v1', kind: 'ReplicaSet', ...rs });
  rsBody.metadata.ownerReferences[0].uid = dep.metadata.uid;
  const rsNew = await must(api('POST', '/apis/apps/v1/namespaces/shop/replicasets', rsBody), 201);
  await must(api('PUT', `/apis/apps/v1/namespaces/shop/replicasets/${rs.metadata.name}/status`, { ...rsNew, status: rs.status }), 200);
  await replay(10);
  for (const pod of JSON.parse(T(11).body).items) {
    const b = stripServerFields({ apiVersion: 'v1', kind: 'Pod', ...pod });
    b.metadata.ownerReferences[0].uid = rsNew.metadata.uid;
    await must(api('POST', '/api/v1/namespaces/shop/pods', b), 201);
  }
  const rvBefore13 = await rvOf('/api/v1/namespaces/shop/pods');
  await replay(11);
  // 12 + 13: a watch from the list's rv sees the status patch, then bookmarks.
  await replayWatch(12, {
    target: `/api/v1/namespaces/shop/pods?watch=1&resourceVersion=${rvBefore13}&allowWatchBookmarks=true&timeoutSeconds=2`,
    during: () => replay(13),
  });
  await replay(14, { body: (b) => { b.metadata.resourceVersion = '1'; return b; } });
  const depNow = await must(api('GET', D), 200);
  await replay(15, { body: (b) => { b.metadata.resourceVersion = depNow.metadata.resourceVersion; b.metadata.uid = depNow.metadata.uid; return b; } });
  await replay(16, { target: `/api/v1/namespaces/shop/pods?labelSelector=app%3Dleaky-api&resourceVersion=${rvBefore13}&resourceVersionMatch=Exact` });
  await must(api('POST', '/_emulator/compact', { etcdOnly: true }), 200);
  await replay(17, { target: `/api/v1/namespaces/shop/pods?labelSelector=app%3Dleaky-api&resourceVersion=${rvBefore13}&resourceVersionMatch=Exact` });
  // 18: served from the watch cache despite etcd compaction. The recording goes on with
  // the rollout of 15 by the controllers (not running here): compare its first event.
  await replayWatch(18, { target: `/api/v1/namespaces/shop/pods?watch=1&resourceVersion=${rvBefore13}&allowWatchBookmarks=true&timeoutSeconds=1`, firstOnly: true });
  // 19: NotOlderThan an old rv: the current list (items differ: no rollout here).
  await replay(19, { target: `/api/v1/namespaces/shop/pods?labelSelector=app%3Dleaky-api&resourceVersion=${rvBefore13}`, ignore: ['items'] });
  // 20: once the watch window moved past the rv: 200 + one ERROR event.
  await must(api('POST', '/_emulator/compact', {}), 200);
  {
    ran.add(20);
    const t = T(20);
    const s = stream(base, `/api/v1/namespaces/shop/pods?watch=1&resourceVersion=${rvBefore13}&allowWatchBookmarks=true&timeoutSeconds=20`);
    const res = await s.done;
    const exp = JSON.parse(t.body.trim());
    const norm = (e) => { const c = JSON.parse(JSON.stringify(e)); c.object.message = c.object.message.replace(/\d+/g, 'N'); return c; };
    try {
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.events.length, 1, 'one ERROR event, then the stream ends');
      compareBodies('20', norm(exp), norm(res.events[0]));
      assert.match(res.events[0].object.message, new RegExp(`^too old resource version: ${rvBefore13} \\(\\d+\\)$`));
      console.log('ok 20-watch-too-old-rv-410-error-event.http');
    } catch (e) { failures++; console.log(`not ok 20\n  ${e.message}`); }
  }
  for (const n of [21, 22, 23, 24, 25, 26]) await replay(n);
  // 27/31: a ServiceAccount without RBAC grants; 28/29: anonymous and a bad token.
  const secured = await startEmulator(['--token', 'good-token', '--user-token', 'sa-token=system:serviceaccount:shop:nobody']);
  await must(request(secured.url, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, headers: { Authorization: 'Bearer good-token' } }), 201);
  await replay(27, { base: secured.url, headers: { Authorization: 'Bearer sa-token' } });
  await replay(31, { base: secured.url, headers: { Authorization: 'Bearer sa-token' } });
  await replay(28, { base: secured.url });
  await replay(29, { base: secured.url, headers: { Authorization: 'Bearer not-a-valid-token' } });
  await secured.stop();
  // The same 403s injected as faults (for a server without RBAC users).
  await must(api('POST', '/_emulator/faults', { verb: 'get', resource: 'deployments', status: 403, user: 'system:serviceaccount:shop:nobody' }), 201);
  await replay(27);
  await must(api('POST', '/_emulator/faults', { verb: 'list', resource: 'deployments', status: 403, user: 'system:serviceaccount:shop:nobody' }), 201);
  await replay(31);
  await replay(30);
  // 32-36: the recording's controller kept rolling out between the patches; copy its state first.
  for (const n of [32, 33, 34, 35, 36]) {
    const rec = n === 34 ? null : JSON.parse(T(n).body);
    if (rec) await seedDeploymentState(rec);
    const cur = await must(api('GET', D), 200);
    await replay(n, {
      ignore: ['metadata.generation'],
      body: n === 35 ? (ops) => { ops[0].value = cur.metadata.resourceVersion; return ops; } : undefined,
    });
  }
  {
    const rec37 = JSON.parse(T(37).body);
    await must(api('PATCH', D + '/status', { status: { replicas: rec37.status.replicas } }, { 'Content-Type': 'application/merge-patch+json' }), 200);
    await replay(37);
    const cur = await must(api('GET', D + '/scale'), 200);
    await replay(38, { body: (b) => { b.metadata.resourceVersion = cur.metadata.resourceVersion; b.metadata.uid = cur.metadata.uid; return b; } });
  }
  const depUid = (await must(api('GET', D), 200)).metadata.uid;
  await replay(39, { body: (b) => { b.regarding.uid = depUid; return b; } });
  await replay(40, { body: (b) => { b.involvedObject.uid = depUid; return b; } });
  await replay(41);
  const L = '/apis/coordination.k8s.io/v1/namespaces/shop/leases/oomscope-operator-leader';
  { const l = await must(api('GET', L), 200); await replay(42, { body: (b) => { b.metadata.resourceVersion = l.metadata.resourceVersion; b.metadata.uid = l.metadata.uid; return b; } }); }
  { const l = await must(api('GET', L), 200); await replay(43, { body: (b) => { b.metadata.resourceVersion = String(+l.metadata.resourceVersion - 1); b.metadata.uid = l.metadata.uid; return b; } }); }
  await replay(44);
  await replay(45);
  await replay(46);
  await replay(47);
  const HD = '/apis/oomscope.io/v1alpha1/namespaces/shop/heapdiagnoses/leaky-api-oom-1';
  { const h = await must(api('GET', HD), 200); await replay(48, { body: (b) => { b.metadata.resourceVersion = h.metadata.resourceVersion; b.metadata.uid = h.metadata.uid; return b; } }); }
  await replay(49);
  await replay(50);
  await replay(51);
  await replay(52);
  {
    const rec = JSON.parse(T(53).body);
    const H = '/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/leaky-api';
    await must(api('PATCH', H + '/status', { status: rec.status }, { 'Content-Type': 'application/merge-patch+json' }), 200);
    await replay(53);
    const h = await must(api('GET', H), 200);
    await replay(54, { body: (b) => { b.metadata.resourceVersion = h.metadata.resourceVersion; b.metadata.uid = h.metadata.uid; return b; } });
  }
  const p55 = await replay(55);
  const p56 = await replay(56, { target: `/api/v1/namespaces?limit=2&continue=${p55.json.metadata.continue}` });
  await replay(57, { target: `/api/v1/namespaces?limit=2&continue=${p56.json.metadata.continue}` });
  await replay(58, {
    skipBody: true,
    check: (r) => {
      const doc = JSON.parse(r.body);
      assert.strictEqual(doc.swagger, '2.0');
      assert.ok(doc.definitions['io.k8s.api.apps.v1.Deployment']);
      assert.ok(r.headers.etag && r.headers['accept-ranges'] === 'bytes');
      assert.strictEqual(+r.headers['content-length'], Buffer.byteLength(r.body));
    },
  });
  await replay(59, { check: (r, t) => assert.strictEqual(r.body.replace(/127\.0\.0\.1:\d+/, 'ADDR'), t.body.replace(/127\.0\.0\.1:\d+/, 'ADDR'), 'pretty-printed like the real server') });
  {
    const rv = await rvOf('/apis/oomscope.io/v1alpha1/namespaces/shop/heapdiagnoses');
    await replayWatch(60, {
      target: `/apis/oomscope.io/v1alpha1/namespaces/shop/heapdiagnoses?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=2`,
      during: () => replay(61),
    });
  }
  {
    const rv = await rvOf('/api/v1/namespaces');
    await replayWatch(62, { target: `/apis/apps/v1/namespaces/shop/deployments?fieldSelector=metadata.name%3Dleaky-api&watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1` });
  }
  await emu.stop();
  const missing = files.map(f => parseInt(f, 10)).filter(n => !ran.has(n));
  if (missing.length) { console.log(`not ok: transcripts never replayed: ${missing.join(', ')}`); failures++; }
  console.log(failures ? `${failures} failure(s)` : `all ${ran.size} transcripts replayed`);
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.error(e); process.exit(1); });
