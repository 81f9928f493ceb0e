'use strict';
// The operator's RBAC is exactly the API calls it makes: the rules equal an expected list
// (contracts.md and issue 5), cluster-wide by default, a Role in the watched namespace when
// operator.watchNamespace is set, the Lease only in the release namespace. When the operator's
// integration tests have recorded the calls it made against the emulator
// (OOMSCOPE_OPERATOR_API_CALLS=<file>, the emulator's /_emulator/requests JSON), every call is
// allowed by these rules and every rule is used.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { CHART, render } = require('./lib/chart');
const { allows, rulesFor, describe } = require('./lib/rbac');

const EXPECTED = [
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  { apiGroups: [''], resources: ['secrets'], resourceNames: ['oomscope-upload-token'], verbs: ['get', 'update'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'update'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list', 'watch'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'watch', 'update'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  { apiGroups: ['oomscope.io'], resources: ['heapdiagnoses'], verbs: ['list', 'watch', 'create'] },
  { apiGroups: ['oomscope.io'], resources: ['heapdiagnoses/status'], verbs: ['patch'] },
];
const EXPECTED_LEASE = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['oomscope-operator'], verbs: ['get', 'update'] },
];

const ci = (f) => path.join(CHART, 'ci', f);
const rbac = (objs) => objs.filter((o) => o.apiVersion === 'rbac.authorization.k8s.io/v1');

test('cluster-wide: one ClusterRole with exactly the expected rules, bound to the operator', () => {
  const objs = render(ci('defaults-values.yaml'));
  const sa = objs.find((o) => o.kind === 'ServiceAccount');
  const roles = rbac(objs);
  const cr = roles.filter((o) => o.kind === 'ClusterRole');
  assert.equal(cr.length, 1);
  assert.deepEqual(cr[0].rules, EXPECTED);
  const crb = roles.find((o) => o.kind === 'ClusterRoleBinding');
  assert.deepEqual(crb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cr[0].metadata.name });
  assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'oomscope' }]);
  const lease = roles.filter((o) => o.kind === 'Role');
  assert.equal(lease.length, 1);
  assert.equal(lease[0].metadata.namespace, 'oomscope');
  assert.deepEqual(lease[0].rules, EXPECTED_LEASE);
  const op = objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator'));
  assert.equal(op.spec.template.spec.serviceAccountName, sa.metadata.name);
  // No wildcard anywhere, no escalation verbs.
  for (const r of roles.flatMap((o) => o.rules || [])) {
    for (const f of ['apiGroups', 'resources', 'verbs']) assert.ok(!r[f].includes('*'), JSON.stringify(r));
    assert.ok(!r.verbs.some((v) => ['escalate', 'bind', 'impersonate', 'deletecollection'].includes(v)));
  }
});

test('namespaced: a Role in the watched namespace, no ClusterRole; the Lease Role in the release namespace', () => {
  const objs = render(ci('namespaced-values.yaml'));
  const roles = rbac(objs);
  assert.ok(!roles.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
  const watched = roles.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'shop');
  assert.equal(watched.length, 1);
  assert.deepEqual(watched[0].rules, EXPECTED);
  const rb = roles.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'shop');
  assert.equal(rb.roleRef.name, watched[0].metadata.name);
  assert.equal(rb.subjects[0].namespace, 'oomscope');
  const lease = roles.filter((o) => o.kind === 'Role' && o.metadata.namespace === 'oomscope');
  assert.deepEqual(lease.map((r) => r.rules), [EXPECTED_LEASE]);
  const op = objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator'));
  assert.ok(op.spec.template.spec.containers[0].args.includes('--namespace=shop'));
});

test('without leader election there is no Lease Role', () => {
  const objs = render(ci('no-persistence-values.yaml'));
  assert.ok(!rbac(objs).some((o) => o.kind === 'Role'));
  const op = objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-operator'));
  assert.ok(!op.spec.template.spec.containers[0].args.some((a) => a.startsWith('--leader-election')));
});

test('evaluating audited calls against the rendered RBAC', () => {
  const objs = render(ci('defaults-values.yaml'));
  const call = (verb, group, resource, namespace, name, subresource = '') => ({ verb, group, resource, namespace, name, subresource });
  const ok = (c) => allows(rulesFor(objs, c.namespace), c);
  assert.ok(ok(call('watch', '', 'pods', 'shop', '')));
  assert.ok(ok(call('patch', 'oomscope.io', 'heapdiagnoses', 'shop', 'x', 'status')));
  assert.ok(!ok(call('update', 'oomscope.io', 'heapdiagnoses', 'shop', 'x')), 'only the status is patched');
  assert.ok(!ok(call('get', '', 'pods', 'shop', 'x')), 'pods come from the informer');
  assert.ok(ok(call('update', '', 'secrets', 'shop', 'oomscope-upload-token')));
  assert.ok(!ok(call('get', '', 'secrets', 'shop', 'db-password')), 'other Secrets stay unreadable');
  assert.ok(!ok(call('list', '', 'secrets', 'shop', '')));
  assert.ok(!ok(call('delete', 'apps', 'deployments', 'shop', 'x')));
  assert.ok(!ok(call('patch', 'apps', 'deployments', 'shop', 'x')));
  assert.ok(ok(call('update', 'coordination.k8s.io', 'leases', 'oomscope', 'oomscope-operator')));
  assert.ok(!ok(call('update', 'coordination.k8s.io', 'leases', 'shop', 'oomscope-operator')), 'the Lease only in the release namespace');
  assert.ok(!ok(call('update', 'coordination.k8s.io', 'leases', 'oomscope', 'other')));
  assert.equal(describe(call('get', '', 'secrets', 'shop', 'x')), 'get core/secrets in shop x');
});

// The calls the operator's integration test (tests/operator, operator.emulator) recorded from the
// emulator's audit log during a whole diagnosis: [{group, resource ("x/status" for a
// subresource), verb}] (or full audit entries). Every recorded call is allowed by the chart's
// rules, and every rule is used — except the ones that scenario cannot exercise, listed here
// with the reason.
const NOT_EXERCISED = {
  'update core/secrets': 'the mirrored token is updated only when it differs (token rotation)',
  'get coordination.k8s.io/leases': 'the scenario runs one replica without leader election',
  'create coordination.k8s.io/leases': 'the scenario runs one replica without leader election',
  'update coordination.k8s.io/leases': 'the scenario runs one replica without leader election',
};

function normalize(c) {
  const [resource, sub] = c.resource.split('/');
  return { verb: c.verb, group: c.group || '', resource, subresource: c.subresource || sub || '', name: c.name, namespace: c.namespace };
}

test('the rules are exactly what the operator calls (recorded by its integration test)', (t) => {
  const file = process.env.OOMSCOPE_OPERATOR_API_CALLS;
  if (!file || !fs.existsSync(file)) {
    t.skip(`no recorded operator calls (${file || 'OOMSCOPE_OPERATOR_API_CALLS unset'}): operator.emulator has not run in this tree`);
    return;
  }
  const calls = JSON.parse(fs.readFileSync(file, 'utf8'))
    .filter((c) => c.userAgent === undefined || /oomscope-operator/.test(c.userAgent))
    .filter((c) => !c.resource.startsWith('/')) // discovery: system:discovery allows it
    .map(normalize);
  assert.ok(calls.length > 0);
  // Recorded without names: the resourceNames restriction cannot be checked here (the
  // operator only names oomscope-upload-token and its Lease: contracts.md).
  const named = (c) => (c.name === undefined ? { ...c, name: '*' } : c);
  const all = [...EXPECTED, ...EXPECTED_LEASE].map((r) => (r.resourceNames ? { ...r, resourceNames: [...r.resourceNames, '*'] } : r));
  const denied = calls.map(named).filter((c) => !allows(all, c)).map(describe);
  assert.deepEqual([...new Set(denied)], [], 'calls the RBAC does not allow');
  const unused = [];
  for (const r of all) for (const verb of r.verbs) {
    const key = `${verb} ${r.apiGroups[0] || 'core'}/${r.resources[0]}`;
    if (!calls.map(named).some((c) => allows([{ ...r, verbs: [verb] }], c)) && !NOT_EXERCISED[key]) unused.push(key);
  }
  assert.deepEqual(unused, [], 'rules the operator never used');
});
