'use strict';
// Discovery documents: legacy (/api, /apis, /apis/G, /apis/G/V) and the
// aggregated apidiscovery.k8s.io/v2 form kubectl 1.32 asks for.

function apiVersions(serverAddress) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function crdAggregatedResource(t) {
  const r = {
    resource: t.resource, responseKind: { group: '', version: '', kind: t.kind }, scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular, verbs: t.verbs,
  };
  if (t.shortNames && t.shortNames.length) r.shortNames = t.shortNames;
  if (t.categories && t.categories.length) r.categories = t.categories;
  if (t.subresources.length) {
    r.subresources = t.subresources.map(s => ({
      subresource: s,
      responseKind: s === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { group: '', version: '', kind: t.kind },
      verbs: ['get', 'patch', 'update'],
    }));
  }
  return r;
}

// Aggregated groups: the recorded built-in ones plus one item per CRD group.
function aggregatedGroups(reg) {
  const items = JSON.parse(JSON.stringify(reg.aggregated.items));
  const byGroup = new Map();
  for (const t of reg.crdTypes()) {
    if (!byGroup.has(t.group)) byGroup.set(t.group, new Map());
    const vs = byGroup.get(t.group);
    if (!vs.has(t.version)) vs.set(t.version, []);
    vs.get(t.version).push(crdAggregatedResource(t));
  }
  for (const [g, vs] of byGroup) {
    items.push({
      metadata: { name: g, creationTimestamp: null },
      versions: [...vs].sort((a, b) => (a[0] < b[0] ? 1 : -1)).map(([v, rs]) => ({ version: v, resources: rs.sort((a, b) => (a.resource < b.resource ? -1 : 1)), freshness: 'Current' })),
    });
  }
  return items;
}

function aggregatedApis(reg) {
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items: aggregatedGroups(reg) };
}

function aggregatedCore(reg) {
  const list = reg.coreList.resources;
  const resources = list.filter(r => !r.name.includes('/')).map(r => {
    const out = { resource: r.name, responseKind: { group: '', version: '', kind: r.kind }, scope: r.namespaced ? 'Namespaced' : 'Cluster', singularResource: r.singularName, verbs: r.verbs };
    if (r.shortNames) out.shortNames = r.shortNames;
    if (r.categories) out.categories = r.categories;
    const subs = list.filter(s => s.name.startsWith(r.name + '/'));
    if (subs.length) {
      out.subresources = subs.map(s => ({
        subresource: s.name.split('/')[1],
        responseKind: { group: s.group || '', version: s.version || '', kind: s.kind },
        verbs: s.verbs,
      }));
    }
    return out;
  });
  return {
    kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {},
    items: [{ metadata: { creationTimestamp: null }, versions: [{ version: 'v1', resources, freshness: 'Current' }] }],
  };
}

function apiGroup(item) {
  const versions = item.versions.map(v => ({ groupVersion: `${item.metadata.name}/${v.version}`, version: v.version }));
  return { name: item.metadata.name, versions, preferredVersion: versions[0] };
}

function apiGroupList(reg) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: aggregatedGroups(reg).map(apiGroup) };
}

function apiGroupDoc(reg, group) {
  const item = aggregatedGroups(reg).find(i => i.metadata.name === group);
  return item ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(item) } : null;
}

function apiResourceList(reg, group, version) {
  if (group === '') return version === 'v1' ? reg.coreList : null;
  const item = aggregatedGroups(reg).find(i => i.metadata.name === group);
  const v = item && item.versions.find(x => x.version === version);
  if (!v) return null;
  const resources = [];
  for (const r of v.resources) {
    const out = { name: r.resource, singularName: r.singularResource, namespaced: r.scope === 'Namespaced', kind: r.responseKind.kind, verbs: r.verbs };
    if (r.shortNames) out.shortNames = r.shortNames;
    if (r.categories) out.categories = r.categories;
    resources.push(out);
    for (const s of r.subresources || []) {
      const so = { name: `${r.resource}/${s.subresource}`, singularName: '', namespaced: out.namespaced };
      if (s.responseKind.group) so.group = s.responseKind.group;
      if (s.responseKind.version) so.version = s.responseKind.version;
      so.kind = s.responseKind.kind;
      so.verbs = s.verbs;
      resources.push(so);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group}/${version}`, resources };
}

module.exports = { apiVersions, aggregatedApis, aggregatedCore, apiGroupList, apiGroupDoc, apiResourceList };
