'use strict';
// API semantics beyond the transcripts: fault injection, dropped watches,
// compaction, the audit log, selectors, pagination, watch transitions,
// status subresource, no-op updates, generateName, CRD lifecycle, strict
// validation, and robustness against bad requests.
const assert = require('assert');
const net = require('net');
const { startEmulator, request, stream, waitFor } = require('./harness');

let base;
const api = (method, p, body, headers) => request(base, method, p, { body, headers });
const merge = (p, body) => api('PATCH', p, body, { 'Content-Type': 'application/merge-patch+json' });
const D = '/apis/apps/v1/namespaces/shop/deployments';
const P = '/api/v1/namespaces/shop/pods';

function deployment(name, extra = {}) {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, labels: { app: name } },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'node:20' }] } }, ...extra },
  };
}
const pod = (name, labels = {}, spec = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'node:20' }], ...spec } });
const fault = (f) => api('POST', '/_emulator/faults', f);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('faults: 409 on the next matching update only, with the real Conflict Status', async () => {
  await api('POST', D, deployment('f1'));
  const cur = (await api('GET', `${D}/f1`)).json;
  assert.strictEqual((await fault({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'f1', status: 409, count: 1 })).status, 201);
  const r = await api('PUT', `${D}/f1`, cur);
  assert.strictEqual(r.status, 409);
  assert.deepStrictEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Operation cannot be fulfilled on deployments.apps "f1": the object has been modified; please apply your changes to the latest version and try again', reason: 'Conflict', details: { name: 'f1', group: 'apps', kind: 'deployments' }, code: 409 });
  assert.strictEqual((await api('PUT', `${D}/f1`, cur)).status, 200, 'count exhausted');
});

test('faults: 500, 503, 429 (Retry-After), 403, 422 and 410 on list; others unaffected', async () => {
  await fault({ verb: 'get', resource: 'deployments', status: 500, count: 2 });
  await fault({ verb: 'list', resource: 'pods', status: 503 });
  await fault({ verb: 'create', resource: 'configmaps', status: 429 });
  await fault({ verb: 'delete', resource: 'deployments', status: 403 });
  await fault({ verb: 'patch', resource: 'deployments', status: 422 });
  await fault({ verb: 'list', resource: 'replicasets', status: 410 });
  assert.strictEqual((await api('GET', '/api/v1/namespaces/shop/configmaps')).status, 200);
  for (let i = 0; i < 2; i++) {
    const r = await api('GET', `${D}/f1`);
    assert.strictEqual(r.status, 500);
    assert.strictEqual(r.json.reason, 'InternalError');
  }
  assert.strictEqual((await api('GET', `${D}/f1`)).status, 200);
  const u = await api('GET', P);
  assert.strictEqual(u.status, 503);
  assert.strictEqual(u.json.reason, 'ServiceUnavailable');
  const t = await api('POST', '/api/v1/namespaces/shop/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
  assert.strictEqual(t.status, 429);
  assert.strictEqual(t.headers['retry-after'], '1');
  const f = await api('DELETE', `${D}/f1`);
  assert.strictEqual(f.status, 403);
  assert.match(f.json.message, /^deployments.apps "f1" is forbidden: User ".*" cannot delete resource "deployments" in API group "apps" in the namespace "shop"$/);
  const i = await merge(`${D}/f1`, { metadata: { labels: { a: 'b' } } });
  assert.strictEqual(i.status, 422);
  assert.strictEqual(i.json.reason, 'Invalid');
  const g = await api('GET', '/apis/apps/v1/namespaces/shop/replicasets');
  assert.strictEqual(g.status, 410);
  assert.strictEqual(g.json.reason, 'Expired');
});

test('faults: latencyMs delays matching requests; a fault on watch with 410 sends an ERROR event', async () => {
  await fault({ verb: 'get', resource: 'deployments', name: 'f1', latencyMs: 300 });
  const t0 = Date.now();
  assert.strictEqual((await api('GET', `${D}/f1`)).status, 200);
  assert.ok(Date.now() - t0 >= 300, 'delayed');
  await fault({ verb: 'watch', resource: 'pods', status: 410 });
  const s = stream(base, `${P}?watch=1&resourceVersion=5`);
  const res = await s.done;
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.events.length, 1);
  assert.strictEqual(res.events[0].type, 'ERROR');
  assert.strictEqual(res.events[0].object.code, 410);
});

test('faults: bad requests to /_emulator/faults are refused', async () => {
  assert.strictEqual((await fault({ status: 418 })).status, 400);
  assert.strictEqual((await api('POST', '/_emulator/faults', 'not json', { 'Content-Type': 'application/json' })).status, 400);
});

test('drop-watches closes open watch streams (all, or one resource)', async () => {
  const a = stream(base, `${P}?watch=1`);
  const b = stream(base, `${D}?watch=1`);
  await waitFor(async () => (await api('GET', '/_emulator/requests')).json.filter(r => r.verb === 'watch').length >= 2, 5000, 'watches open');
  const r = await api('POST', '/_emulator/drop-watches', { resource: 'pods' });
  assert.ok(r.json.dropped >= 1);
  await a.done;
  let bEnded = false;
  b.done.then(() => { bEnded = true; });
  await new Promise(res => setTimeout(res, 100));
  assert.strictEqual(bEnded, false, 'deployments watch still open');
  await api('POST', '/_emulator/drop-watches', {});
  await b.done;
});

test('watch-delays: a matching event arrives late, later events wait behind it, a GET is not delayed', async () => {
  await api('POST', P, pod('lag1'));
  await api('POST', P, pod('lag2'));
  const rv = (await api('GET', '/_emulator/resourceversion')).json.resourceVersion;
  const seen = [];
  const s = stream(base, `${P}?watch=1&resourceVersion=${rv}`, { onEvent: (e) => seen.push({ at: Date.now(), e }) });
  await waitFor(async () => (await api('GET', '/_emulator/requests')).json.filter(r => r.verb === 'watch').length >= 1, 5000, 'watch open');
  assert.strictEqual((await api('POST', '/_emulator/watch-delays', { resource: 'pods', name: 'lag1', type: 'MODIFIED', ms: 600 })).status, 201);
  assert.strictEqual((await api('POST', '/_emulator/watch-delays', { resource: 'pods', ms: 0 })).status, 400);
  const start = Date.now();
  await merge(`${P}/lag1`, { metadata: { labels: { step: '1' } } });  // delayed
  await merge(`${P}/lag2`, { metadata: { labels: { step: '2' } } });  // queued behind it
  assert.strictEqual((await api('GET', `${P}/lag1`)).json.metadata.labels.step, '1', 'reads are current at once');
  await new Promise(res => setTimeout(res, 300));
  assert.deepStrictEqual(seen, [], 'nothing before the delay');
  await waitFor(() => seen.length === 2, 5000, 'both events');
  assert.deepStrictEqual(seen.map(x => x.e.object.metadata.name), ['lag1', 'lag2'], 'resourceVersion order kept');
  assert.ok(seen[0].at - start >= 550, `late by ${seen[0].at - start} ms`);
  assert.deepStrictEqual((await api('GET', '/_emulator/watch-delays')).json, [], 'count used up');
  await merge(`${P}/lag1`, { metadata: { labels: { step: '3' } } });
  await waitFor(() => seen.length === 3, 300, 'no delay once used');
  s.close();
});

test('compact: lists and watches from older resourceVersions get 410', async () => {
  const rv = (await api('GET', P)).json.metadata.resourceVersion;
  await api('POST', P, pod('c1'));
  assert.strictEqual((await api('GET', `${P}?resourceVersion=${rv}&resourceVersionMatch=Exact`)).status, 200);
  await api('POST', '/_emulator/compact');
  const l = await api('GET', `${P}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
  assert.strictEqual(l.status, 410);
  assert.strictEqual(l.json.message, 'The resourceVersion for the provided list is too old.');
  const w = await stream(base, `${P}?watch=1&resourceVersion=${rv}`).done;
  assert.strictEqual(w.status, 200);
  assert.strictEqual(w.events[0].type, 'ERROR');
  assert.match(w.events[0].object.message, new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`));
  // A list without resourceVersion (or NotOlderThan) is still fine.
  assert.strictEqual((await api('GET', `${P}?resourceVersion=${rv}`)).status, 200);
});

test('the audit log records verbs, resources, status and user agent; DELETE clears it', async () => {
  await api('DELETE', '/_emulator/requests');
  await request(base, 'GET', `${D}/f1/scale`, { headers: { 'User-Agent': 'oomscope-operator/0.1' } });
  await api('GET', `${D}/nope`);
  const log = (await api('GET', '/_emulator/requests')).json;
  assert.deepStrictEqual(log[0], { verb: 'get', group: 'apps', version: 'v1', resource: 'deployments', subresource: 'scale', namespace: 'shop', name: 'f1', status: 200, userAgent: 'oomscope-operator/0.1' });
  assert.strictEqual(log[1].status, 404);
});

test('label selectors (equality and set-based) and field selectors', async () => {
  await api('POST', P, pod('s1', { tier: 'web', env: 'prod' }, { nodeName: 'n1' }));
  await api('POST', P, pod('s2', { tier: 'db', env: 'prod' }));
  await api('POST', P, pod('s3', { tier: 'web' }));
  const names = async (q) => (await api('GET', `${P}?${q}`)).json.items.map(p => p.metadata.name).sort();
  assert.deepStrictEqual(await names('labelSelector=tier%3Dweb'), ['s1', 's3']);
  assert.deepStrictEqual(await names('labelSelector=tier%20in%20(web,db),env'), ['s1', 's2']);
  assert.deepStrictEqual(await names('labelSelector=env!%3Dprod,tier'), ['s3']);
  assert.deepStrictEqual(await names('labelSelector=!env,tier'), ['s3']);
  assert.deepStrictEqual(await names('fieldSelector=spec.nodeName%3Dn1'), ['s1']);
  assert.deepStrictEqual(await names('fieldSelector=metadata.name%3Ds2'), ['s2']);
  assert.deepStrictEqual(await names('fieldSelector=status.phase%3DPending,metadata.name!%3Ds1&labelSelector=tier'), ['s2', 's3']);
  const bad = await api('GET', `${P}?fieldSelector=spec.bogus%3Dx`);
  assert.strictEqual(bad.status, 400);
  assert.strictEqual(bad.json.message, 'field label not supported: spec.bogus');
  // all namespaces
  assert.ok((await api('GET', '/api/v1/pods')).json.items.length >= 3);
});

test('pagination: limit/continue is a consistent snapshot', async () => {
  for (let i = 0; i < 5; i++) await api('POST', '/api/v1/namespaces/shop/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}` } });
  const p1 = (await api('GET', '/api/v1/namespaces/shop/configmaps?limit=2')).json;
  assert.strictEqual(p1.items.length, 2);
  assert.strictEqual(p1.metadata.remainingItemCount, 3);
  await api('DELETE', '/api/v1/namespaces/shop/configmaps/page-4');
  const p2 = (await api('GET', `/api/v1/namespaces/shop/configmaps?limit=2&continue=${p1.metadata.continue}`)).json;
  const p3 = (await api('GET', `/api/v1/namespaces/shop/configmaps?limit=2&continue=${p2.metadata.continue}`)).json;
  assert.deepStrictEqual([...p1.items, ...p2.items, ...p3.items].map(c => c.metadata.name), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  assert.ok(!p3.metadata.continue);
  assert.strictEqual(p1.metadata.resourceVersion, p3.metadata.resourceVersion);
  await api('POST', '/_emulator/compact');
  const gone = await api('GET', `/api/v1/namespaces/shop/configmaps?limit=2&continue=${p1.metadata.continue}`);
  assert.strictEqual(gone.status, 410);
});

test('watch: from "0" starts with ADDED; label transitions become ADDED/DELETED; bookmarks only when allowed', async () => {
  await api('POST', P, pod('w1', { watch: 'yes' }));
  const events = [];
  const s = stream(base, `${P}?watch=1&labelSelector=watch%3Dyes&resourceVersion=0&allowWatchBookmarks=true&timeoutSeconds=2`, { onEvent: (e) => events.push(e) });
  await waitFor(() => events.length === 1, 5000, 'initial ADDED');
  assert.strictEqual(events[0].type, 'ADDED');
  await merge(`${P}/w1`, { metadata: { labels: { watch: 'no' } } });
  await merge(`${P}/w1`, { metadata: { labels: { watch: 'yes' } } });
  await merge(`${P}/w1`, { metadata: { annotations: { a: 'b' } } });
  await api('DELETE', `${P}/w1`);
  const res = await s.done;
  const types = res.events.map(e => e.type).filter(t => t !== 'BOOKMARK');
  assert.deepStrictEqual(types, ['ADDED', 'DELETED', 'ADDED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  const bm = res.events.filter(e => e.type === 'BOOKMARK');
  assert.ok(bm.length >= 1, 'bookmark before the timeout');
  assert.deepStrictEqual(Object.keys(bm[0].object.metadata).sort(), ['creationTimestamp', 'resourceVersion']);
  const noBm = await stream(base, `${P}?watch=1&resourceVersion=0&timeoutSeconds=1&labelSelector=none`).done;
  assert.deepStrictEqual(noBm.events, []);
});

test('status subresource: the main resource ignores status, /status ignores spec', async () => {
  const d = (await api('POST', D, deployment('st1'))).json;
  assert.deepStrictEqual(d.status, {});
  const u = await api('PUT', `${D}/st1`, { ...d, status: { replicas: 9 } });
  assert.deepStrictEqual(u.json.status, {});
  const s = await api('PUT', `${D}/st1/status`, { ...u.json, spec: { ...u.json.spec, replicas: 7 }, status: { replicas: 9 } });
  assert.strictEqual(s.status, 200);
  assert.strictEqual(s.json.status.replicas, 9);
  assert.strictEqual(s.json.spec.replicas, 1);
  assert.strictEqual(s.json.metadata.generation, 1, 'status writes keep the generation');
});

test('no-op update keeps the resourceVersion; a spec change bumps generation; metadata change does not', async () => {
  const d = (await api('GET', `${D}/st1`)).json;
  const same = await api('PUT', `${D}/st1`, d);
  assert.strictEqual(same.json.metadata.resourceVersion, d.metadata.resourceVersion);
  const m = await merge(`${D}/st1`, { metadata: { labels: { x: 'y' } } });
  assert.notStrictEqual(m.json.metadata.resourceVersion, d.metadata.resourceVersion);
  assert.strictEqual(m.json.metadata.generation, 1);
  const s = await merge(`${D}/st1`, { spec: { replicas: 3 } });
  assert.strictEqual(s.json.metadata.generation, 2);
  const unconditional = { ...s.json, metadata: { ...s.json.metadata } };
  delete unconditional.metadata.resourceVersion;
  assert.strictEqual((await api('PUT', `${D}/st1`, unconditional)).status, 200, 'PUT without resourceVersion is unconditional');
});

test('generateName, missing namespace (404), AlreadyExists (409), name mismatch (400)', async () => {
  const g = await api('POST', P, { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'gen-' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
  assert.strictEqual(g.status, 201);
  assert.match(g.json.metadata.name, /^gen-[a-z0-9]{5}$/);
  const n = await api('POST', '/api/v1/namespaces/nope/pods', pod('p'));
  assert.strictEqual(n.status, 404);
  assert.deepStrictEqual(n.json.details, { name: 'nope', kind: 'namespaces' });
  assert.strictEqual(n.json.message, 'namespaces "nope" not found');
  const e = await api('POST', P, pod(g.json.metadata.name));
  assert.strictEqual(e.status, 409);
  assert.strictEqual(e.json.reason, 'AlreadyExists');
  const mm = await api('PUT', `${P}/other`, g.json);
  assert.strictEqual(mm.status, 400);
});

test('pods/binding sets spec.nodeName once; graceful deletion of a bound pod waits for gracePeriodSeconds=0', async () => {
  await api('POST', P, pod('b1'));
  const b = await api('POST', `${P}/b1/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b1' }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } });
  assert.strictEqual(b.status, 201);
  assert.strictEqual((await api('GET', `${P}/b1`)).json.spec.nodeName, 'n1');
  const again = await api('POST', `${P}/b1/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b1' }, target: { kind: 'Node', name: 'n2' } });
  assert.strictEqual(again.status, 409);
  const d = await api('DELETE', `${P}/b1`);
  assert.strictEqual(d.status, 200);
  assert.ok(d.json.metadata.deletionTimestamp);
  assert.strictEqual(d.json.metadata.deletionGracePeriodSeconds, 30);
  assert.strictEqual((await api('GET', `${P}/b1`)).status, 200);
  assert.strictEqual((await api('DELETE', `${P}/b1?gracePeriodSeconds=0`)).status, 200);
  assert.strictEqual((await api('GET', `${P}/b1`)).status, 404);
});

test('finalizers hold a deletion until removed', async () => {
  await api('POST', '/api/v1/namespaces/shop/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
  const d = await api('DELETE', '/api/v1/namespaces/shop/configmaps/fin');
  assert.strictEqual(d.status, 202);
  assert.ok(d.json.metadata.deletionTimestamp);
  await merge('/api/v1/namespaces/shop/configmaps/fin', { metadata: { finalizers: null } });
  assert.strictEqual((await api('GET', '/api/v1/namespaces/shop/configmaps/fin')).status, 404);
});

test('validation: strict unknown fields, types, 422 rules on what the operator writes', async () => {
  const strict = await api('POST', `${D}?fieldValidation=Strict`, { ...deployment('v1'), spec: { ...deployment('v1').spec, bogus: 1 } });
  assert.strictEqual(strict.status, 400);
  assert.match(strict.json.message, /strict decoding error: unknown field "spec.bogus"/);
  const ignore = await api('POST', `${D}?fieldValidation=Ignore`, { ...deployment('v1'), spec: { ...deployment('v1').spec, bogus: 1 } });
  assert.strictEqual(ignore.status, 201);
  assert.ok(!ignore.headers.warning);
  const typ = await api('POST', D, { ...deployment('v2'), metadata: { name: 'v2', labels: 'x' } });
  assert.strictEqual(typ.status, 400);
  assert.match(typ.json.message, /cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map\[string\]string/);
  const vm = deployment('v3');
  vm.spec.template.spec.containers[0].volumeMounts = [{ name: 'heap', mountPath: '/heap' }];
  const r = await api('POST', D, vm);
  assert.strictEqual(r.status, 422);
  assert.deepStrictEqual(r.json.details.causes, [{ reason: 'FieldValueNotFound', message: 'Not found: "heap"', field: 'spec.template.spec.containers[0].volumeMounts[0].name' }]);
  const dup = deployment('v4');
  dup.spec.template.spec.containers.push({ name: 'app', image: 'x' });
  assert.strictEqual((await api('POST', D, dup)).json.details.causes[0].reason, 'FieldValueDuplicate');
  const badName = await api('POST', D, deployment('Bad_Name'));
  assert.strictEqual(badName.status, 422);
  assert.strictEqual(badName.json.details.causes[0].field, 'metadata.name');
  const patchBad = await merge(`${D}/st1`, { spec: { replicas: -2 } });
  assert.strictEqual(patchBad.status, 422);
});

test('CRDs: create makes the resource served (discovery, CRUD, status, schema), delete removes it', async () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } }, status: { type: 'object', properties: { ok: { type: 'boolean' } } } } } } }],
    },
  };
  assert.strictEqual((await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
  const got = await waitFor(async () => { const c = (await api('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).json; return (c.status.conditions || []).find(x => x.type === 'Established' && x.status === 'True') && c; });
  assert.strictEqual(got.status.acceptedNames.kind, 'Widget');
  const agg = (await api('GET', '/apis', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).json;
  assert.ok(agg.items.find(g => g.metadata.name === 'example.com'));
  const W = '/apis/example.com/v1/namespaces/shop/widgets';
  const w = await api('POST', W, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 2, extra: 1 }, status: { ok: true } });
  assert.strictEqual(w.status, 201);
  assert.deepStrictEqual(w.json.spec, { size: 2 }, 'unknown fields pruned');
  assert.ok(!w.json.status, 'status ignored on create');
  assert.deepStrictEqual([].concat(w.headers.warning || []), ['299 - "unknown field \\"spec.extra\\""']);
  const bad = await merge(`${W}/w`, { spec: { size: 0 } });
  assert.strictEqual(bad.status, 422);
  assert.strictEqual(bad.json.details.causes[0].message, 'Invalid value: 0: spec.size in body should be greater than or equal to 1');
  const s = await merge(`${W}/w/status`, { status: { ok: true } });
  assert.strictEqual(s.json.status.ok, true);
  const smp = await api('PATCH', `${W}/w`, { spec: { size: 3 } }, { 'Content-Type': 'application/strategic-merge-patch+json' });
  assert.strictEqual(smp.status, 415);
  assert.strictEqual((await api('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).status, 200);
  assert.strictEqual((await api('GET', W)).status, 404);
});

test('robustness: bad paths, bodies, methods and raw garbage get Status errors, never a crash', async () => {
  const cases = [
    ['GET', '/apis/nope/v1/things'], ['GET', '/api/v2/pods'], ['POST', D, '{not json'], ['POST', D, '[1,2]'], ['POST', D, '"str"'],
    ['PUT', D, '{}'], ['PATCH', `${D}/st1`, 'garbage'], ['DELETE', `${D}/st1`, '{bad'], ['GET', `${P}/x/log`], ['GET', `${P}?limit=abc&continue=%%%`],
    ['GET', `${P}?labelSelector=a%20in%20b%20c`], ['GET', `${P}?resourceVersion=notanumber&resourceVersionMatch=Exact`], ['GET', `${P}?watch=1&resourceVersion=xyz`],
    ['POST', '/api/v1/namespaces/shop/pods', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } })],
  ];
  for (const [m, p, body] of cases) {
    const r = await request(base, m, p, { body, headers: body ? { 'Content-Type': 'application/json' } : {} });
    assert.ok(r.status >= 400 || r.status === 200, `${m} ${p}: ${r.status}`);
    if (r.status >= 400) assert.strictEqual(r.json.kind, 'Status', `${m} ${p}: ${r.body}`);
  }
  for (const body of [Buffer.from('k8s\u0000\u00ff\u00ff\u00ff', 'latin1'), Buffer.from('nomagic'), Buffer.from([0x6b, 0x38, 0x73, 0, 0x0a, 0x05, 0x0a, 0x02, 0x76, 0x31])]) {
    const r = await api('POST', '/api/v1/namespaces', body, { 'Content-Type': 'application/vnd.kubernetes.protobuf' });
    assert.strictEqual(r.status, 415, r.body);
    assert.strictEqual(r.json.reason, 'UnsupportedMediaType');
  }
  const p = await api('PATCH', `${D}/st1`, '{"a":1}', { 'Content-Type': 'text/plain' });
  assert.strictEqual(p.status, 415);
  await new Promise((resolve) => {
    const u = new URL(base);
    const sock = net.connect(+u.port, u.hostname, () => { sock.write('GARBAGE\r\n\r\n'); });
    sock.on('data', () => {}); sock.on('close', resolve); sock.on('error', resolve);
  });
  assert.strictEqual((await api('GET', '/version')).status, 200, 'still serving');
});

test('secrets: stringData is merged into data; warnings are in the audit log', async () => {
  await api('DELETE', '/_emulator/requests');
  const r = await api('POST', '/api/v1/namespaces/shop/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok', labels: { 'app.kubernetes.io/managed-by': 'oomscope' } }, stringData: { token: 'abc' }, bogus: 1 });
  assert.strictEqual(r.status, 201);
  assert.deepStrictEqual(r.json.data, { token: 'YWJj' });
  assert.strictEqual(r.json.type, 'Opaque');
  assert.ok(!('stringData' in r.json));
  const log = (await api('GET', '/_emulator/requests')).json;
  assert.deepStrictEqual(log[0].warnings, ['unknown field "bogus"']);
});

test('watch with sendInitialEvents=true: ADDED events then the initial-events-end bookmark', async () => {
  const rv = (await api('GET', P)).json.metadata.resourceVersion;
  const res = await stream(base, `${P}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=tier`).done;
  const types = res.events.map(e => e.type);
  assert.deepStrictEqual(types.slice(0, 4), ['ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
  assert.deepStrictEqual(res.events[3].object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  assert.ok(+res.events[3].object.metadata.resourceVersion >= +rv);
});

test('events: one storage, two views (events.k8s.io/v1 and core/v1)', async () => {
  const w = stream(base, '/apis/events.k8s.io/v1/namespaces/shop/events?watch=1&timeoutSeconds=1');
  const e = await api('POST', '/apis/events.k8s.io/v1/namespaces/shop/events', {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e1' }, eventTime: '2026-11-27T00:00:00.000000Z',
    reportingController: 'oomscope.io/operator', reportingInstance: 'op-0', action: 'Detect', reason: 'OOMKillDetected', type: 'Warning',
    regarding: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'st1' }, note: 'container api was OOMKilled',
  });
  assert.strictEqual(e.status, 201);
  const core = await api('GET', '/api/v1/namespaces/shop/events/e1');
  assert.strictEqual(core.json.message, 'container api was OOMKilled');
  assert.strictEqual(core.json.involvedObject.name, 'st1');
  assert.strictEqual(core.json.reportingComponent, 'oomscope.io/operator');
  const sel = await api('GET', '/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dst1,involvedObject.kind%3DDeployment');
  assert.deepStrictEqual(sel.json.items.map(x => x.metadata.name), ['e1']);
  await api('POST', '/api/v1/namespaces/shop/events', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e2' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'shop' }, reason: 'R', message: 'm', type: 'Normal', count: 2 });
  const res = await w.done;
  assert.deepStrictEqual(res.events.map(x => [x.type, x.object.apiVersion, x.object.note]), [['ADDED', 'events.k8s.io/v1', 'container api was OOMKilled'], ['ADDED', 'events.k8s.io/v1', 'm']]);
  assert.strictEqual(res.events[1].object.deprecatedCount, 2);
  const byRegarding = await api('GET', '/apis/events.k8s.io/v1/namespaces/shop/events?fieldSelector=regarding.name%3Dp');
  assert.deepStrictEqual(byRegarding.json.items.map(x => x.metadata.name), ['e2']);
});

test('--latency-ms delays every API request (not the /_emulator hooks)', async () => {
  const slow = await startEmulator(['--latency-ms', '250']);
  try {
    const t0 = Date.now();
    assert.strictEqual((await request(slow.url, 'GET', '/api/v1/namespaces/default')).status, 200);
    assert.ok(Date.now() - t0 >= 250, 'API request delayed');
  } finally { await slow.stop(); }
});

test('--field-validation Strict makes unknown fields fail without ?fieldValidation', async () => {
  const strict = await startEmulator(['--field-validation', 'Strict']);
  try {
    const r = await request(strict.url, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: { bogus: true } } });
    assert.strictEqual(r.status, 400);
    assert.match(r.json.message, /strict decoding error: unknown field "spec.bogus"/);
  } finally { await strict.stop(); }
});

test('?fieldValidation per request: Strict refuses unknown fields on PUT and PATCH too; Warn answers with a Warning header', async () => {
  const created = (await api('POST', `${D}?fieldValidation=Strict`, deployment('fv1'))).json;
  const put = await api('PUT', `${D}/fv1?fieldValidation=Strict`, { ...created, spec: { ...created.spec, bogus: 1 } });
  assert.strictEqual(put.status, 400);
  assert.strictEqual(put.json.reason, 'BadRequest');
  assert.match(put.json.message, /strict decoding error: unknown field "spec.bogus"/);
  const patch = await api('PATCH', `${D}/fv1?fieldValidation=Strict`, { spec: { template: { spec: { containers: [{ name: 'app', bogus: 'x' }] } } } },
    { 'Content-Type': 'application/strategic-merge-patch+json' });
  assert.strictEqual(patch.status, 400);
  assert.match(patch.json.message, /strict decoding error: unknown field "spec.template.spec.containers\[0\].bogus"/);
  const warn = await merge(`${D}/fv1?fieldValidation=Warn`, { metadata: { bogus: 1 } });
  assert.strictEqual(warn.status, 200);
  assert.match(String(warn.headers.warning), /299 - "unknown field \\"metadata.bogus\\""/);
  const bad = await api('POST', `${D}?fieldValidation=Loose`, deployment('fv2'));
  assert.strictEqual(bad.status, 400);
});

test('/version: v1.32.13 by default (transcript 06), --server-version for an older server', async () => {
  const v = (await api('GET', '/version')).json;
  assert.deepStrictEqual([v.major, v.minor, v.gitVersion], ['1', '32', 'v1.32.13']);
  const old = await startEmulator(['--server-version', 'v1.28.4']);
  try {
    const o = (await request(old.url, 'GET', '/version')).json;
    assert.deepStrictEqual([o.major, o.minor, o.gitVersion], ['1', '28', 'v1.28.4']);
  } finally { await old.stop(); }
});

test('RBAC for --user-token users: Roles, ClusterRoles, bindings, resourceNames', async () => {
  const sec = await startEmulator(['--token', 'admin', '--user-token', 'op=system:serviceaccount:oomscope:operator', '--user-token', 'al=alice:readers']);
  const as = (tok) => (m, p, body) => request(sec.url, m, p, { body, headers: { Authorization: `Bearer ${tok}` } });
  const admin = as('admin'), op = as('op'), alice = as('al');
  try {
    const R = '/apis/rbac.authorization.k8s.io/v1';
    await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } });
    await admin('POST', `${R}/clusterroles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'op' }, rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'update', 'patch'] },
    ] });
    await admin('POST', `${R}/clusterrolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'op' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'op' }, subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: 'oomscope' }] });
    await admin('POST', `${R}/namespaces/app/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'tok' }, rules: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'update'], resourceNames: ['oomscope-upload-token'] },
    ] });
    await admin('POST', `${R}/namespaces/app/rolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'tok' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tok' }, subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: 'oomscope' }, { kind: 'Group', name: 'readers' }] });
    assert.strictEqual((await op('GET', '/api/v1/pods')).status, 200);
    assert.strictEqual((await op('GET', '/apis', undefined)).status, 200, 'discovery for authenticated users');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oomscope-upload-token' }, stringData: { token: 't' } };
    assert.strictEqual((await op('POST', '/api/v1/namespaces/app/secrets', secret)).status, 201);
    assert.strictEqual((await op('GET', '/api/v1/namespaces/app/secrets/oomscope-upload-token')).status, 200);
    const other = await op('GET', '/api/v1/namespaces/app/secrets/other');
    assert.strictEqual(other.status, 403);
    assert.strictEqual(other.json.message, 'secrets "other" is forbidden: User "system:serviceaccount:oomscope:operator" cannot get resource "secrets" in API group "" in the namespace "app"');
    assert.strictEqual((await op('GET', '/api/v1/namespaces/app/secrets')).status, 403, 'list is not granted');
    const st = await op('PATCH', '/api/v1/namespaces/app/pods/x/status', {});
    assert.strictEqual(st.status, 403);
    assert.match(st.json.message, /cannot patch resource "pods\/status"/);
    assert.strictEqual((await op('DELETE', '/apis/apps/v1/namespaces/app/deployments/x')).status, 403);
    assert.strictEqual((await op('GET', '/apis/apps/v1/namespaces/app/deployments/x')).status, 404, 'allowed, then not found');
    assert.strictEqual((await alice('POST', '/api/v1/namespaces/app/secrets', { ...secret, metadata: { name: 'by-alice' } })).status, 201, 'group subject');
    assert.strictEqual((await alice('GET', '/api/v1/pods')).status, 403);
    assert.strictEqual((await as('nope')('GET', '/api/v1/pods')).status, 401);
  } finally { await sec.stop(); }
});

test('--history: a watch from before the kept window gets 410, as from a watch cache', async () => {
  const small = await startEmulator(['--history', '10']);
  try {
    const cm = '/api/v1/namespaces/default/configmaps';
    const rv = (await request(small.url, 'GET', cm)).json.metadata.resourceVersion;
    for (let i = 0; i < 12; i++) await request(small.url, 'POST', cm, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `h${i}` } } });
    const w = await stream(small.url, `${cm}?watch=1&resourceVersion=${rv}`).done;
    assert.strictEqual(w.events.length, 1);
    assert.strictEqual(w.events[0].object.code, 410);
    const recent = (await request(small.url, 'GET', `${cm}/h11`)).json.metadata.resourceVersion;
    const ok = await stream(small.url, `${cm}?watch=1&resourceVersion=${recent}&timeoutSeconds=1`).done;
    assert.deepStrictEqual(ok.events, []);
  } finally { await small.stop(); }
});

test('namespace deletion removes its contents', async () => {
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tmp' } });
  await api('POST', '/api/v1/namespaces/tmp/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
  const d = await api('DELETE', '/api/v1/namespaces/tmp');
  assert.strictEqual(d.json.status.phase, 'Terminating');
  await waitFor(async () => (await api('GET', '/api/v1/namespaces/tmp')).status === 404, 5000, 'namespace gone');
  assert.strictEqual((await api('GET', '/api/v1/namespaces/tmp/configmaps/c')).status, 404);
});

async function main() {
  const emu = await startEmulator(['--bookmark-interval-ms', '300']);
  base = emu.url;
  await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  let failures = 0;
  for (const t of tests) {
    try { await t.fn(); console.log(`ok ${t.name}`); } catch (e) { failures++; console.log(`not ok ${t.name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`); }
  }
  await emu.stop();
  if (/internal error/.test(emu.stderr())) { failures++; console.log(`not ok emulator logged internal errors:\n${emu.stderr()}`); }
  console.log(failures ? `${failures} failure(s)` : `all ${tests.length} API tests passed`);
  process.exit(failures ? 1 : 0);
}

main().catch(e => { console.error(e); process.exit(1); });
