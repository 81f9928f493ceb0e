'use strict';
// Object presentation and server-owned metadata.
const crypto = require('crypto');

const META_ORDER = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') { const o = {}; for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]); return o; }
  return v;
}

function orderMeta(m) {
  const o = {};
  for (const k of META_ORDER) if (m[k] !== undefined) o[k] = m[k];
  for (const k of Object.keys(m)) if (!(k in o)) o[k] = m[k];
  return o;
}

// Built-in kinds serialize in Go struct order (kind, apiVersion, metadata, ...);
// custom resources come back with keys sorted (unstructured JSON).
function present(rt, obj) {
  if (rt.crdName) return sortKeys(obj);
  const o = { kind: obj.kind, apiVersion: obj.apiVersion, metadata: orderMeta(obj.metadata || {}) };
  for (const k of Object.keys(obj)) if (!(k in o)) o[k] = obj[k];
  return o;
}

const HAS_GENERATION = new Set(['apps', 'batch', 'apiextensions.k8s.io', 'policy', 'networking.k8s.io', 'autoscaling']);
function hasGeneration(rt) {
  if (rt.crdName) return true;
  if (rt.group === 'autoscaling') return false;
  return HAS_GENERATION.has(rt.group);
}

function now() { return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'); }
function uid() { return crypto.randomUUID(); }

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
function randSuffix(n = 5) {
  let s = '';
  const b = crypto.randomBytes(n);
  for (let i = 0; i < n; i++) s += ALNUM[b[i] % ALNUM.length];
  return s;
}

module.exports = { present, sortKeys, orderMeta, hasGeneration, now, uid, randSuffix };
