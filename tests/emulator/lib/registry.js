'use strict';
// The served resource types: every built-in type the recorded v1.32 server
// advertised (data/discovery-*.json), plus the resources of created CRDs.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const DATA = path.join(__dirname, '..', 'data');

function loadSwagger() {
  const buf = zlib.gunzipSync(fs.readFileSync(path.join(DATA, 'swagger-v1.32.json.gz')));
  return { raw: buf, doc: JSON.parse(buf.toString('utf8')) };
}

class Registry {
  constructor(swaggerDoc) {
    this.swagger = swaggerDoc;
    this.coreList = JSON.parse(fs.readFileSync(path.join(DATA, 'discovery-core-v1.json'), 'utf8'));
    this.aggregated = JSON.parse(fs.readFileSync(path.join(DATA, 'discovery-apis-aggregated.json'), 'utf8'));
    this.gvkToDef = new Map();
    for (const [name, def] of Object.entries(swaggerDoc.definitions)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] || []) {
        this.gvkToDef.set(`${gvk.group}/${gvk.version}/${gvk.kind}`, name);
      }
    }
    this.types = new Map(); // "group/version/resource" -> type
    this.crdGroups = new Map(); // group -> { versions: [..], items: aggregated item }
    for (const r of this.coreList.resources) {
      if (r.name.includes('/')) continue;
      const subs = this.coreList.resources.filter(s => s.name.startsWith(r.name + '/')).map(s => s.name.split('/')[1]);
      this.addType({
        group: '', version: 'v1', resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs,
        shortNames: r.shortNames, categories: r.categories, singular: r.singularName, subresources: subs,
      });
    }
    for (const g of this.aggregated.items) {
      for (const v of g.versions) {
        for (const r of v.resources) {
          this.addType({
            group: g.metadata.name, version: v.version, resource: r.resource, kind: r.responseKind.kind,
            namespaced: r.scope === 'Namespaced', verbs: r.verbs, shortNames: r.shortNames, categories: r.categories,
            singular: r.singularResource, subresources: (r.subresources || []).map(s => s.subresource),
          });
        }
      }
    }
    this.shareStorage();
  }

  addType(t) {
    t.listKind = t.listKind || t.kind + 'List';
    t.apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
    t.defName = t.defName || this.gvkToDef.get(`${t.group}/${t.version}/${t.kind}`);
    // Types sharing storage across versions (autoscaling v1/v2) are kept apart here; see README.
    t.storageKey = `${t.group}/${t.version}/${t.resource}`;
    t.hasStatus = t.subresources.includes('status');
    t.hasScale = t.subresources.includes('scale');
    this.types.set(`${t.group}/${t.version}/${t.resource}`, t);
    return t;
  }

  // events.k8s.io/v1 Events live in the core/v1 Event storage (one object, two views).
  shareStorage() {
    const ev = this.get('events.k8s.io', 'v1', 'events');
    const core = this.get('', 'v1', 'events');
    if (ev && core) { ev.storageKey = core.storageKey; ev.convert = 'events'; }
  }

  get(group, version, resource) { return this.types.get(`${group}/${version}/${resource}`); }

  byKind(apiVersion, kind) {
    for (const t of this.types.values()) if (t.apiVersion === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  groupVersions(group) {
    if (group === '') return ['v1'];
    const vs = [];
    for (const t of this.types.values()) if (t.group === group && !vs.includes(t.version)) vs.push(t.version);
    return vs;
  }

  // A CRD (apiextensions.k8s.io/v1 object) becomes served resources.
  installCrd(crd) {
    const spec = crd.spec;
    const group = spec.group;
    this.removeCrd(crd.metadata.name);
    const served = [];
    for (const v of spec.versions || []) {
      if (!v.served) continue;
      const subs = [];
      if (v.subresources && v.subresources.status) subs.push('status');
      if (v.subresources && v.subresources.scale) subs.push('scale');
      const t = this.addType({
        group, version: v.name, resource: spec.names.plural, kind: spec.names.kind, listKind: spec.names.listKind,
        namespaced: spec.scope === 'Namespaced', verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        shortNames: spec.names.shortNames, categories: spec.names.categories, singular: spec.names.singular || spec.names.kind.toLowerCase(),
        subresources: subs, defName: null,
      });
      t.crdName = crd.metadata.name;
      t.schema = v.schema && v.schema.openAPIV3Schema;
      t.printerColumns = v.additionalPrinterColumns || [];
      t.scaleSpec = v.subresources && v.subresources.scale;
      // All served versions share one storage (the emulator does no conversion: same schema).
      t.storageKey = `${group}/*/${spec.names.plural}`;
      served.push(t);
    }
    return served;
  }

  removeCrd(crdName) {
    for (const [k, t] of this.types) if (t.crdName === crdName) this.types.delete(k);
  }

  crdTypes() { return [...this.types.values()].filter(t => t.crdName); }
}

module.exports = { Registry, loadSwagger };
