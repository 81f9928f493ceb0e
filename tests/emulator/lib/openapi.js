'use strict';
// /openapi/v3: per group-version OpenAPI 3 documents derived from the v1.32
// swagger (v2), plus documents for the served CRDs.
const crypto = require('crypto');

function rewriteRefs(v) {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/definitions/', '#/components/schemas/') : rewriteRefs(x);
    return o;
  }
  return v;
}

function collectRefs(v, out) {
  if (Array.isArray(v)) { for (const x of v) collectRefs(x, out); return; }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push(x.replace('#/definitions/', '').replace('#/components/schemas/', ''));
      else collectRefs(x, out);
    }
  }
}

function convertParam(p) {
  const o = { name: p.name, in: p.in };
  if (p.description) o.description = p.description;
  if (p.required) o.required = true;
  const schema = {};
  for (const k of ['type', 'uniqueItems', 'items', 'format']) if (p[k] !== undefined) schema[k] = p[k];
  o.schema = schema;
  return o;
}

function convertOp(op, pathParams) {
  const o = {};
  for (const k of ['tags', 'description', 'operationId', 'x-kubernetes-action', 'x-kubernetes-group-version-kind']) if (op[k] !== undefined) o[k] = op[k];
  const params = [];
  for (const p of op.parameters || []) {
    if (p.in === 'body') o.requestBody = { content: Object.fromEntries((op.consumes || ['*/*']).map(c => [c, { schema: rewriteRefs(p.schema) }])), required: !!p.required };
    else params.push(convertParam(p));
  }
  if (params.length) o.parameters = params;
  o.responses = {};
  for (const [code, r] of Object.entries(op.responses || {})) {
    o.responses[code] = { description: r.description || '' };
    if (r.schema) o.responses[code].content = Object.fromEntries((op.produces || ['application/json']).map(c => [c, { schema: rewriteRefs(r.schema) }]));
  }
  return o;
}

class OpenApi {
  constructor(swagger, registry) {
    this.swagger = swagger;
    this.registry = registry;
    this.cache = new Map();
  }

  gvKeys() {
    const keys = new Set(['api/v1']);
    for (const t of this.registry.types.values()) if (t.group) keys.add(`apis/${t.group}/${t.version}`);
    return [...keys].sort();
  }

  hash(p) {
    const key = p.replace(/^\/openapi\/v3\/?/, '');
    if (!key) return crypto.createHash('sha512').update(this.gvKeys().join(',') + this.crdStamp()).digest('hex').toUpperCase();
    const doc = this.groupVersion(key);
    return crypto.createHash('sha512').update(JSON.stringify(doc || '')).digest('hex').toUpperCase();
  }

  crdStamp() { return this.registry.crdTypes().map(t => `${t.crdName}@${JSON.stringify(t.schema || {}).length}`).join(','); }

  index() {
    const paths = {};
    for (const k of this.gvKeys()) paths[k] = { serverRelativeURL: `/openapi/v3/${k}?hash=${this.hashOf(k)}` };
    return { paths };
  }

  hashOf(k) {
    const doc = this.groupVersion(k);
    return crypto.createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
  }

  groupVersion(key) {
    key = key.split('?')[0];
    if (!this.gvKeys().includes(key)) return null;
    const crdTypes = this.registry.crdTypes().filter(t => `apis/${t.group}/${t.version}` === key);
    const stamp = crdTypes.length ? this.crdStamp() : '';
    const c = this.cache.get(key);
    if (c && c.stamp === stamp) return c.doc;
    const doc = crdTypes.length ? this.crdDoc(crdTypes) : this.builtinDoc(key);
    this.cache.set(key, { stamp, doc });
    return doc;
  }

  closure(names) {
    const defs = this.swagger.definitions;
    const seen = new Set();
    const stack = [...names];
    while (stack.length) {
      const n = stack.pop();
      if (seen.has(n) || !defs[n]) continue;
      seen.add(n);
      const refs = [];
      collectRefs(defs[n], refs);
      stack.push(...refs);
    }
    const schemas = {};
    for (const n of [...seen].sort()) schemas[n] = rewriteRefs(defs[n]);
    return schemas;
  }

  builtinDoc(key) {
    const prefix = '/' + key + '/';
    const paths = {};
    const refs = [];
    for (const [p, item] of Object.entries(this.swagger.paths)) {
      if (!(p.startsWith(prefix) || p === '/' + key + '/')) continue;
      const out = {};
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') { out.parameters = op.map(convertParam); continue; }
        out[method] = convertOp(op);
      }
      collectRefs(item, refs);
      paths[p] = out;
    }
    return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.13' }, paths, components: { schemas: this.closure(refs) } };
  }

  crdDoc(types) {
    const schemas = this.closure(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch']);
    const paths = {};
    const qp = (name, type = 'string') => ({ name, in: 'query', schema: { type, uniqueItems: true } });
    for (const t of types) {
      const revGroup = t.group.split('.').reverse().join('.');
      const name = `${revGroup}.${t.version}.${t.kind}`;
      const gvk = [{ group: t.group, kind: t.kind, version: t.version }];
      const s = JSON.parse(JSON.stringify(t.schema || { type: 'object' }));
      s.properties = s.properties || {};
      s.properties.apiVersion = { type: 'string' };
      s.properties.kind = { type: 'string' };
      s.properties.metadata = { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] };
      s['x-kubernetes-group-version-kind'] = gvk;
      schemas[name] = s;
      schemas[`${name}List`] = {
        type: 'object', required: ['items'], 'x-kubernetes-group-version-kind': [{ group: t.group, kind: t.listKind, version: t.version }],
        properties: { apiVersion: { type: 'string' }, items: { type: 'array', items: { $ref: `#/components/schemas/${name}` } }, kind: { type: 'string' }, metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta' }] } },
      };
      const base = `/apis/${t.group}/${t.version}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.resource}`;
      const ref = { $ref: `#/components/schemas/${name}` };
      const body = { content: { 'application/json': { schema: ref } }, required: true };
      const resp = { 200: { description: 'OK', content: { 'application/json': { schema: ref } } } };
      const mk = (action, extra) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk[0], parameters: [qp('dryRun'), qp('fieldManager'), qp('fieldValidation')], ...extra });
      paths[base] = {
        get: { 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk[0], responses: { 200: { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}List` } } } } } },
        post: mk('post', { requestBody: body, responses: resp }),
      };
      paths[`${base}/{name}`] = {
        get: { 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk[0], responses: resp },
        put: mk('put', { requestBody: body, responses: resp }),
        patch: mk('patch', { requestBody: { content: { 'application/json-patch+json': { schema: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } }, 'application/merge-patch+json': { schema: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } }, 'application/apply-patch+yaml': { schema: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } } } }, responses: resp }),
        delete: { 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk[0], responses: { 200: { description: 'OK' } } },
      };
      for (const sub of t.subresources) {
        paths[`${base}/{name}/${sub}`] = { get: { 'x-kubernetes-action': 'get', responses: resp }, put: mk('put', { requestBody: body, responses: resp }), patch: mk('patch', { responses: resp }) };
      }
    }
    return { openapi: '3.0.0', info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' }, paths, components: { schemas } };
  }
}

module.exports = { OpenApi };
