'use strict';
// The four PATCH content types: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902), strategic merge patch (built-in kinds, driven by the
// x-kubernetes-patch-* extensions of the schema) and apply patch (approximated).

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function mergePatch(target, patch) {
  if (!isObj(patch)) return clone(patch);
  const out = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

class JsonPatchError extends Error {}

function unescape(tok) { return tok.replace(/~1/g, '/').replace(/~0/g, '~'); }
function parsePointer(p) {
  if (typeof p !== 'string') throw new JsonPatchError('path must be a string');
  if (p === '') return [];
  if (p[0] !== '/') throw new JsonPatchError(`invalid path ${p}`);
  return p.slice(1).split('/').map(unescape);
}
function deepEqual(a, b) { return JSON.stringify(canon(a)) === JSON.stringify(canon(b)); }
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (isObj(v)) { const o = {}; for (const k of Object.keys(v).sort()) o[k] = canon(v[k]); return o; }
  return v;
}

function getAt(doc, toks) {
  let cur = doc;
  for (const t of toks) {
    if (Array.isArray(cur)) { const i = +t; if (!/^\d+$/.test(t) || i >= cur.length) throw new JsonPatchError('index out of range'); cur = cur[i]; }
    else if (isObj(cur)) { if (!(t in cur)) throw new JsonPatchError(`missing key ${t}`); cur = cur[t]; }
    else throw new JsonPatchError('path does not exist');
  }
  return cur;
}

function jsonPatch(doc, ops) {
  if (!Array.isArray(ops)) throw new JsonPatchError('json patch must be an array');
  doc = clone(doc);
  const root = { v: doc };
  for (const op of ops) {
    if (!isObj(op)) throw new JsonPatchError('bad operation');
    const toks = ['v', ...parsePointer(op.path)];
    const parentToks = toks.slice(0, -1);
    const last = toks[toks.length - 1];
    switch (op.op) {
      case 'test':
        if (!deepEqual(getAt(root, toks), op.value)) throw new JsonPatchError('test failed');
        break;
      case 'add': case 'replace': {
        if (!('value' in op)) throw new JsonPatchError('missing value');
        const parent = getAt(root, parentToks);
        if (Array.isArray(parent)) {
          if (last === '-' && op.op === 'add') parent.push(clone(op.value));
          else {
            const i = +last;
            if (!/^\d+$/.test(last) || i > parent.length || (op.op === 'replace' && i >= parent.length)) throw new JsonPatchError('index out of range');
            if (op.op === 'add') parent.splice(i, 0, clone(op.value)); else parent[i] = clone(op.value);
          }
        } else if (isObj(parent)) {
          if (op.op === 'replace' && !(last in parent)) throw new JsonPatchError(`replace of missing key ${last}`);
          parent[last] = clone(op.value);
        } else throw new JsonPatchError('parent is not a container');
        break;
      }
      case 'remove': {
        const parent = getAt(root, parentToks);
        if (Array.isArray(parent)) { const i = +last; if (!/^\d+$/.test(last) || i >= parent.length) throw new JsonPatchError('index out of range'); parent.splice(i, 1); }
        else if (isObj(parent)) { if (!(last in parent)) throw new JsonPatchError('missing key'); delete parent[last]; }
        else throw new JsonPatchError('parent is not a container');
        break;
      }
      case 'move': case 'copy': {
        const fromToks = ['v', ...parsePointer(op.from)];
        const val = clone(getAt(root, fromToks));
        if (op.op === 'move') jsonPatchInPlace(root, [{ op: 'remove', path: op.from }]);
        jsonPatchInPlace(root, [{ op: 'add', path: op.path, value: val }]);
        break;
      }
      default: throw new JsonPatchError(`unknown op ${op.op}`);
    }
  }
  return root.v;
}
function jsonPatchInPlace(root, ops) { root.v = jsonPatch(root.v, ops); }

// Strategic merge patch. `dec` is the SwaggerDecoder, `schema` the node for `orig`.
function strategicMerge(orig, patch, dec, schema) {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') { const p = { ...patch }; delete p.$patch; return stripDirectives(p); }
  if (patch.$patch === 'delete') return undefined;
  const out = isObj(orig) ? clone(orig) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = out[f].filter(x => !v.some(y => deepEqual(x, y)));
      continue;
    }
    if (v === null) { delete out[k]; continue; }
    const ps = schema ? dec.propSchema(schema, k) : null;
    const rs = ps ? dec.resolved(ps) : null;
    if (Array.isArray(v) && rs && rs.type === 'array') {
      out[k] = mergeList(out[k], v, dec, ps, rs);
      // a list emptied by delete directives disappears, as in the apiserver
      if (out[k] === undefined || (out[k].length === 0 && v.length > 0)) delete out[k];
    } else if (isObj(v)) {
      const m = strategicMerge(out[k], v, dec, ps);
      if (m === undefined) delete out[k]; else out[k] = m;
    } else {
      out[k] = clone(v);
    }
  }
  if (Array.isArray(patch.$retainKeys)) for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  return out;
}

function stripDirectives(v) {
  if (Array.isArray(v)) return v.filter(e => !(isObj(e) && e.$patch)).map(stripDirectives);
  if (isObj(v)) { const o = {}; for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) o[k] = stripDirectives(x); return o; }
  return v;
}

function mergeList(orig, patch, dec, ps, rs) {
  const strategy = rs['x-kubernetes-patch-strategy'] || ps['x-kubernetes-patch-strategy'] || '';
  const key = rs['x-kubernetes-patch-merge-key'] || ps['x-kubernetes-patch-merge-key'];
  if (patch.some(e => isObj(e) && e.$patch === 'replace')) return stripDirectives(patch.filter(e => !(isObj(e) && e.$patch === 'replace')));
  if (!strategy.split(',').includes('merge')) return stripDirectives(patch);
  const base = Array.isArray(orig) ? clone(orig) : [];
  const itemSchema = dec.itemsSchema(ps);
  if (!key) { // primitive list: union
    for (const e of patch) if (!base.some(b => deepEqual(b, e))) base.push(clone(e));
    return base;
  }
  for (const e of patch) {
    if (!isObj(e)) continue;
    const idx = base.findIndex(b => isObj(b) && b[key] === e[key]);
    if (e.$patch === 'delete') { if (idx >= 0) base.splice(idx, 1); continue; }
    if (idx >= 0) base[idx] = strategicMerge(base[idx], e, dec, itemSchema);
    else base.push(strategicMerge({}, e, dec, itemSchema));
  }
  return base;
}

module.exports = { mergePatch, jsonPatch, JsonPatchError, strategicMerge, deepEqual, canon, clone, isObj };
