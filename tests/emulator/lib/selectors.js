'use strict';
// labelSelector / fieldSelector query parameters, as the apiserver parses them.
const { errors } = require('./status');

function splitTop(s) {
  const out = []; let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out.map(x => x.trim()).filter(x => x);
}

function parseLabelSelector(s) {
  if (!s) return () => true;
  const reqs = splitTop(s).map(term => {
    let m;
    if ((m = /^([^\s!=<>]+)\s+(in|notin)\s+\((.*)\)$/.exec(term))) {
      const vals = m[3].split(',').map(v => v.trim());
      return m[2] === 'in' ? (l) => m[1] in l && vals.includes(l[m[1]]) : (l) => !(m[1] in l) || !vals.includes(l[m[1]]);
    }
    if ((m = /^([^\s!=<>]+)\s*(==|=|!=)\s*(.*)$/.exec(term))) {
      const [, k, op, v] = m;
      return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v;
    }
    if ((m = /^!([^\s!=<>]+)$/.exec(term))) return (l) => !(m[1] in l);
    if ((m = /^([^\s!=<>]+)$/.exec(term))) return (l) => m[1] in l;
    throw errors.badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (labels) => reqs.every(r => r(labels || {}));
}

const FIELD_GETTERS = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace || '',
  'spec.nodeName': (o) => (o.spec && o.spec.nodeName) || '',
  'status.phase': (o) => (o.status && o.status.phase) || '',
  'spec.restartPolicy': (o) => (o.spec && o.spec.restartPolicy) || '',
  'spec.schedulerName': (o) => (o.spec && o.spec.schedulerName) || '',
  'spec.serviceAccountName': (o) => (o.spec && o.spec.serviceAccountName) || '',
  'status.podIP': (o) => (o.status && o.status.podIP) || '',
  'type': (o) => o.type || '',
  'reason': (o) => o.reason || '',
  'involvedObject.kind': (o) => (o.involvedObject || {}).kind || '',
  'involvedObject.name': (o) => (o.involvedObject || {}).name || '',
  'involvedObject.namespace': (o) => (o.involvedObject || {}).namespace || '',
  'involvedObject.uid': (o) => (o.involvedObject || {}).uid || '',
  'regarding.name': (o) => (o.regarding || {}).name || '',
  'regarding.kind': (o) => (o.regarding || {}).kind || '',
  'spec.holderIdentity': (o) => (o.spec || {}).holderIdentity || '',
};

function parseFieldSelector(s, rt) {
  if (!s) return () => true;
  const reqs = splitTop(s).map(term => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const [, f, op, v] = m;
    const g = FIELD_GETTERS[f];
    if (!g || (rt && rt.crdName && f !== 'metadata.name' && f !== 'metadata.namespace')) {
      throw errors.badRequest(`field label not supported: ${f}`);
    }
    return op === '!=' ? (o) => g(o) !== v : (o) => g(o) === v;
  });
  return (obj) => reqs.every(r => r(obj));
}

module.exports = { parseLabelSelector, parseFieldSelector };
