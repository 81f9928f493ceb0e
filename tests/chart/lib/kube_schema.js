'use strict';
// Strict validation of rendered Kubernetes objects, as a v1.32 API server with
// fieldValidation=Strict would see them:
//  - built-in kinds against ../shared/kubernetes/swagger-v1.32.json (OpenAPI v2): unknown fields,
//    swagger `required`, JSON types and formats (int32/int64 ranges, int-or-string, Quantity,
//    date-time, byte), $ref resolved; plus the object-meta rules the server applies to every
//    object (name is a DNS subdomain, label keys and values);
//  - custom resources against an openAPIV3Schema (a CRD's own, or the minimal schemas in
//    ../schemas/ for the Prometheus Operator kinds, which are not in the swagger).
// Errors are returned as strings "<path>: <what>"; nothing is mutated.

const fs = require('node:fs');

const ANY_DEFS = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
]);
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const QUANTITY_RE = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v;
}

function isQualifiedName(key) {
  const slash = key.split('/');
  if (slash.length > 2) return false;
  const name = slash[slash.length - 1];
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  if (slash.length === 2) {
    const prefix = slash[0];
    return prefix.length > 0 && prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix);
  }
  return true;
}

class Swagger {
  constructor(swaggerPath) {
    this.defs = JSON.parse(fs.readFileSync(swaggerPath, 'utf8')).definitions;
    this.byGvk = new Map();
    for (const [name, def] of Object.entries(this.defs)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] || []) {
        const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
        // Prefer the definition in the group's own package (some kinds appear twice, e.g. as
        // meta/v1 WatchEvent).
        if (!this.byGvk.has(`${apiVersion}/${gvk.kind}`) || !name.includes('apimachinery')) {
          this.byGvk.set(`${apiVersion}/${gvk.kind}`, name);
        }
      }
    }
  }

  definitionFor(apiVersion, kind) { return this.byGvk.get(`${apiVersion}/${kind}`) || null; }

  // Validates a whole object of a built-in kind. Returns a list of error strings.
  validateObject(obj) {
    const errors = [];
    const def = this.definitionFor(obj.apiVersion, obj.kind);
    if (!def) return [`${obj.apiVersion}/${obj.kind}: no such kind in the v1.32 API`];
    this.walk(obj, { $ref: `#/definitions/${def}` }, '', errors);
    checkMeta(obj, errors);
    return errors;
  }

  // Validates a value against a named definition (e.g. ObjectMeta of a custom resource).
  validateAs(defName, value, path, errors) {
    this.walk(value, { $ref: `#/definitions/${defName}` }, path, errors);
  }

  walk(v, schema, path, errors) {
    let s = schema;
    let name = null;
    while (s && s.$ref) {
      name = s.$ref.replace('#/definitions/', '');
      s = this.defs[name];
      if (!s) { errors.push(`${path}: unresolvable $ref ${name}`); return; }
    }
    if (!s || (name && ANY_DEFS.has(name))) return;
    const at = path || '<root>';
    const t = jsonType(v);
    if (t === 'null') { errors.push(`${at}: null (a template rendered an empty value)`); return; }
    if (name === QUANTITY) {
      if (t === 'string' ? !QUANTITY_RE.test(v) : !(t === 'integer' || t === 'number')) {
        errors.push(`${at}: ${JSON.stringify(v)} is not a quantity`);
      }
      return;
    }
    if (s.format === 'int-or-string') {
      if (t !== 'string' && t !== 'integer') errors.push(`${at}: must be an integer or a string, got ${t}`);
      else if (t === 'integer' && (v > 2147483647 || v < -2147483648)) errors.push(`${at}: ${v} out of int32 range`);
      return;
    }
    const type = s.type || (s.properties ? 'object' : undefined);
    switch (type) {
      case 'object': {
        if (t !== 'object') { errors.push(`${at}: must be an object, got ${t}`); return; }
        for (const k of Object.keys(v)) {
          const p = path ? `${path}.${k}` : k;
          if (s.properties && s.properties[k]) this.walk(v[k], s.properties[k], p, errors);
          else if (s.additionalProperties) this.walk(v[k], s.additionalProperties, `${path}[${k}]`, errors);
          else if (s.properties) errors.push(`${p}: unknown field`);
          // An object schema with neither: free-form (map[string]interface{}).
        }
        for (const r of s.required || []) {
          if (!(r in v)) errors.push(`${path ? `${path}.` : ''}${r}: required field missing`);
        }
        return;
      }
      case 'array':
        if (t !== 'array') { errors.push(`${at}: must be an array, got ${t}`); return; }
        v.forEach((item, i) => this.walk(item, s.items, `${path}[${i}]`, errors));
        return;
      case 'integer':
        if (t !== 'integer') { errors.push(`${at}: must be an integer, got ${t} ${JSON.stringify(v)}`); return; }
        if (s.format === 'int32' && (v > 2147483647 || v < -2147483648)) errors.push(`${at}: ${v} out of int32 range`);
        return;
      case 'number':
        if (t !== 'integer' && t !== 'number') errors.push(`${at}: must be a number, got ${t}`);
        return;
      case 'boolean':
        if (t !== 'boolean') errors.push(`${at}: must be a boolean, got ${t} ${JSON.stringify(v)}`);
        return;
      case 'string':
        if (t !== 'string') { errors.push(`${at}: must be a string, got ${t} ${JSON.stringify(v)}`); return; }
        if (s.format === 'date-time' && !DATE_TIME_RE.test(v)) errors.push(`${at}: not an RFC 3339 date-time`);
        if (s.format === 'byte' && !BASE64_RE.test(v)) errors.push(`${at}: not base64`);
        return;
      default:
        return; // untyped: any JSON value
    }
  }
}

// What the API server checks on every object's metadata.
function checkMeta(obj, errors) {
  const m = obj.metadata;
  if (!m || typeof m !== 'object') { errors.push('metadata: required'); return; }
  if (!m.name) errors.push('metadata.name: required');
  else if (m.name.length > 253 || !DNS1123_SUBDOMAIN.test(m.name)) errors.push(`metadata.name: ${JSON.stringify(m.name)} is not a DNS-1123 subdomain`);
  if (m.namespace !== undefined && (m.namespace.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(m.namespace))) {
    errors.push(`metadata.namespace: ${JSON.stringify(m.namespace)} is not a DNS-1123 label`);
  }
  for (const [k, v] of Object.entries(m.labels || {})) {
    if (!isQualifiedName(k)) errors.push(`metadata.labels: key ${JSON.stringify(k)} is not a qualified name`);
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) errors.push(`metadata.labels[${k}]: invalid label value ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(m.annotations || {})) {
    if (!isQualifiedName(k)) errors.push(`metadata.annotations: key ${JSON.stringify(k)} is not a qualified name`);
  }
}

// Structural (openAPIV3Schema) validation, strict: fields the schema does not declare are errors
// (a real server prunes them silently, or rejects them with fieldValidation=Strict).
function validateStructural(schema, v, path, errors) {
  const at = path || '<root>';
  const t = jsonType(v);
  if (t === 'null') {
    if (!schema.nullable) errors.push(`${at}: null`);
    return;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') errors.push(`${at}: must be an integer or a string`);
    return;
  }
  if (schema.anyOf) {
    const ok = schema.anyOf.some((alt) => { const e = []; validateStructural({ ...alt }, v, path, e); return e.length === 0; });
    if (!ok) errors.push(`${at}: matches none of anyOf`);
  }
  if (schema.type) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) { errors.push(`${at}: must be of type ${schema.type}, got ${t}`); return; }
  }
  if (schema.enum && !schema.enum.some((e) => e === v)) errors.push(`${at}: ${JSON.stringify(v)} not one of ${JSON.stringify(schema.enum)}`);
  if (t === 'integer' || t === 'number') {
    if (schema.minimum !== undefined && v < schema.minimum) errors.push(`${at}: below minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && v > schema.maximum) errors.push(`${at}: above maximum ${schema.maximum}`);
    if (schema.format === 'int32' && (v > 2147483647 || v < -2147483648)) errors.push(`${at}: out of int32 range`);
  }
  if (t === 'string') {
    if (schema.minLength !== undefined && v.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && v.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern).test(v)) errors.push(`${at}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && !DATE_TIME_RE.test(v)) errors.push(`${at}: not an RFC 3339 date-time`);
  }
  if (t === 'object') {
    const props = schema.properties || {};
    for (const k of Object.keys(v)) {
      const p = path ? `${path}.${k}` : k;
      if (props[k]) validateStructural(props[k], v[k], p, errors);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        validateStructural(schema.additionalProperties, v[k], `${path}[${k}]`, errors);
      } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
        errors.push(`${p}: unknown field`);
      }
    }
    for (const r of schema.required || []) if (!(r in v)) errors.push(`${path ? `${path}.` : ''}${r}: required field missing`);
  }
  if (t === 'array') {
    if (schema.minItems !== undefined && v.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && v.length > schema.maxItems) errors.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items) v.forEach((item, i) => validateStructural(schema.items, item, `${path}[${i}]`, errors));
  }
}

// A custom resource: its openAPIV3Schema for everything but metadata, ObjectMeta (swagger) for
// metadata, plus the server's metadata rules.
function validateCustom(swagger, schema, obj) {
  const errors = [];
  const { metadata, ...rest } = obj;
  const top = { ...schema, properties: { ...(schema.properties || {}) } };
  delete top.properties.metadata;
  validateStructural(top, rest, '', errors);
  swagger.validateAs('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', metadata, 'metadata', errors);
  checkMeta(obj, errors);
  return errors;
}

// The served version's schema of a CRD object for obj's apiVersion, or null.
function crdSchemaFor(crds, obj) {
  for (const crd of crds) {
    const group = crd.spec.group;
    for (const ver of crd.spec.versions) {
      if (obj.apiVersion === `${group}/${ver.name}` && obj.kind === crd.spec.names.kind && ver.served) {
        return ver.schema.openAPIV3Schema;
      }
    }
  }
  return null;
}

module.exports = { Swagger, validateStructural, validateCustom, crdSchemaFor, checkMeta };
