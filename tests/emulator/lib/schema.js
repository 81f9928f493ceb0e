'use strict';
// Decoding checks against the v1.32 OpenAPI v2 schema (built-in kinds) and
// structural-schema validation of custom resources (CRD openAPIV3Schema).

const ANY_DEFS = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
]);

function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, object
}

class SwaggerDecoder {
  constructor(doc) { this.defs = doc.definitions; }

  resolve(s) {
    let name = null;
    while (s && s.$ref) { name = s.$ref.replace('#/definitions/', ''); s = this.defs[name]; }
    return { s, name };
  }

  goTypeName(schema) {
    const { s, name } = this.resolve(schema);
    if (name) {
      if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') return 'intstr.IntOrString';
      if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return 'resource.Quantity';
      if (name.endsWith('.Time') || name.endsWith('.MicroTime')) return 'v1.' + name.split('.').pop();
      const parts = name.split('.');
      return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
    }
    if (!s) return 'interface {}';
    switch (s.type) {
      case 'integer': return s.format === 'int64' ? 'int64' : 'int32';
      case 'number': return 'float64';
      case 'boolean': return 'bool';
      case 'string': return s.format === 'byte' ? '[]uint8' : 'string';
      case 'array': return '[]' + this.goTypeName(s.items);
      case 'object': return s.additionalProperties ? `map[string]${this.goTypeName(s.additionalProperties)}` : 'map[string]interface {}';
    }
    return 'interface {}';
  }

  // Walks obj (mutating: unknown fields are dropped). Returns {typeError, unknown[]}.
  decode(defName, obj) {
    const res = { typeError: null, unknown: [] };
    this.walk(obj, { $ref: '#/definitions/' + defName }, '', '', defName.split('.').pop(), res, null, null);
    return res;
  }

  walk(v, schema, path, goPath, structName, res, parent, key) {
    if (res.typeError) return;
    const { s, name } = this.resolve(schema);
    if (!s || (name && ANY_DEFS.has(name))) return;
    if (v === null) return; // null decodes to the zero value
    const fail = () => {
      const jt = jsonType(v);
      const what = jt === 'number' && s.type === 'integer' && !Number.isInteger(v) ? `number ${v}` : jt;
      const target = goPath ? `Go struct field ${structName}.${goPath}` : 'Go value';
      res.typeError = `json: cannot unmarshal ${what} into ${target} of type ${this.goTypeName(schema)}`;
    };
    if (s.format === 'int-or-string') { if (typeof v !== 'string' && !Number.isInteger(v)) fail(); return; }
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
      if (typeof v !== 'string' && typeof v !== 'number') {
        res.typeError = `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
      }
      return;
    }
    if (s.properties) {
      if (jsonType(v) !== 'object') return fail();
      const sn = name ? name.split('.').pop() : structName;
      for (const k of Object.keys(v)) {
        const ps = s.properties[k];
        const p = path ? `${path}.${k}` : k;
        if (!ps) { res.unknown.push(p); delete v[k]; continue; }
        this.walk(v[k], ps, p, goPath ? `${goPath}.${k}` : k, sn, res, v, k);
        if (res.typeError) return;
      }
      return;
    }
    switch (s.type) {
      case 'object':
        if (jsonType(v) !== 'object') return fail();
        if (s.additionalProperties) {
          for (const k of Object.keys(v)) {
            this.walk(v[k], s.additionalProperties, `${path}[${k}]`, goPath, structName, res, v, k);
            if (res.typeError) return;
          }
        }
        return;
      case 'array':
        if (!Array.isArray(v)) return fail();
        for (let i = 0; i < v.length; i++) {
          this.walk(v[i], s.items, `${path}[${i}]`, goPath, structName, res, v, i);
          if (res.typeError) return;
        }
        return;
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) return fail();
        if (s.format === 'int32' && (v > 2147483647 || v < -2147483648)) {
          res.typeError = `json: cannot unmarshal number ${v} into Go struct field ${structName}.${goPath} of type int32`;
        }
        return;
      case 'number': if (typeof v !== 'number') fail(); return;
      case 'boolean': if (typeof v !== 'boolean') fail(); return;
      case 'string': if (typeof v !== 'string') fail(); return;
    }
  }

  // Schema node for a path of property names (used by strategic merge patch).
  propSchema(schema, key) {
    const { s } = this.resolve(schema);
    if (!s) return null;
    if (s.properties) return s.properties[key] || null;
    if (s.additionalProperties) return s.additionalProperties;
    return null;
  }
  itemsSchema(schema) { const { s } = this.resolve(schema); return s && s.items ? s.items : null; }
  resolved(schema) { return this.resolve(schema).s; }
}

// ---- Custom resources: structural schema validation (apiextensions-apiserver wording) ----

function crType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v;
}

function goQuote(v) { return typeof v === 'string' ? JSON.stringify(v) : String(v); }

// Validates and prunes obj in place. Returns {causes[], unknown[]}.
function validateCr(schema, obj, opts = {}) {
  const out = { causes: [], unknown: [] };
  if (!schema) return out;
  const top = schema.properties || {};
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    if (!top[k] && !schema['x-kubernetes-preserve-unknown-fields']) { out.unknown.push(k); delete obj[k]; continue; }
    if (top[k]) crWalk(obj[k], top[k], k, out, obj, k);
  }
  for (const r of schema.required || []) {
    if (r === 'apiVersion' || r === 'kind' || r === 'metadata') continue;
    if (!(r in obj)) out.causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: r });
  }
  return out;
}

function crWalk(v, s, path, out, parent, key) {
  if (!s) return;
  const t = crType(v);
  if (v === null) {
    if (s.nullable) return;
    // apiextensions drops nulls for non-nullable fields (pruning/defaulting) before validation.
    delete parent[key];
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') {
      out.causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: "${t}": ${path} in body must be of type integer,string: "${t}"`, field: path });
    }
    return;
  }
  if (s.type) {
    const ok = s.type === t || (s.type === 'number' && t === 'integer');
    if (!ok) {
      out.causes.push({ reason: 'FieldValueTypeInvalid', message: `Invalid value: "${t}": ${path} in body must be of type ${s.type}: "${t}"`, field: path });
      return;
    }
  }
  if (s.enum && !s.enum.some(e => e === v)) {
    out.causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${goQuote(v)}: supported values: ${s.enum.map(goQuote).join(', ')}`, field: path });
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (v < s.minimum || (s.exclusiveMinimum && v === s.minimum))) {
      out.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${v}: ${path} in body should be greater than or equal to ${s.minimum}`, field: path });
    }
    if (s.maximum !== undefined && (v > s.maximum || (s.exclusiveMaximum && v === s.maximum))) {
      out.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${v}: ${path} in body should be less than or equal to ${s.maximum}`, field: path });
    }
  }
  if (typeof v === 'string') {
    if (s.maxLength !== undefined && v.length > s.maxLength) {
      out.causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${s.maxLength} bytes`, field: path });
    }
    if (s.minLength !== undefined && v.length < s.minLength) {
      out.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${goQuote(v)}: ${path} in body should be at least ${s.minLength} chars long`, field: path });
    }
    if (s.pattern && !new RegExp(s.pattern).test(v)) {
      out.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${goQuote(v)}: ${path} in body should match '${s.pattern}'`, field: path });
    }
    if (s.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
      out.causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${goQuote(v)}: ${path} in body must be of type date-time: ${goQuote(v)}`, field: path });
    }
  }
  if (t === 'object') {
    const props = s.properties;
    if (props) {
      for (const k of Object.keys(v)) {
        if (props[k]) crWalk(v[k], props[k], `${path}.${k}`, out, v, k);
        else if (!s['x-kubernetes-preserve-unknown-fields'] && !s.additionalProperties) { out.unknown.push(`${path}.${k}`); delete v[k]; }
      }
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      for (const k of Object.keys(v)) crWalk(v[k], s.additionalProperties, `${path}[${k}]`, out, v, k);
    }
    for (const r of s.required || []) {
      if (!(r in v)) out.causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `${path}.${r}` });
    }
  } else if (t === 'array') {
    if (s.maxItems !== undefined && v.length > s.maxItems) {
      out.causes.push({ reason: 'FieldValueTooMany', message: `Too many: ${v.length}: must have at most ${s.maxItems} items`, field: path });
    }
    if (s.items) for (let i = 0; i < v.length; i++) crWalk(v[i], s.items, `${path}[${i}]`, out, v, i);
  }
}

module.exports = { SwaggerDecoder, validateCr, crType };
