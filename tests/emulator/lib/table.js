'use strict';
// meta.k8s.io/v1 Table rendering (kubectl get asks for it): printer columns of
// CRDs, and the key columns of the built-in kinds kubectl users know.

const NAME_DESC = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATED_DESC = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

function humanDuration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
}
function age(ts) { return ts ? humanDuration(Date.now() - Date.parse(ts)) : '<unknown>'; }

const col = (name, type, priority = 0, format = '', description = '') => ({ name, type, format, description, priority });
const nameCol = () => col('Name', 'string', 0, 'name', NAME_DESC);

function containers(o) { return ((((o.spec || {}).template || {}).spec || {}).containers || []); }
function selStr(sel) {
  if (!sel) return '<none>';
  const parts = Object.entries(sel.matchLabels || {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions || []) parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values || []).join(',')})`);
  return parts.join(',') || '<none>';
}

function podStatus(p) {
  const st = p.status || {};
  let reason = st.reason || st.phase || 'Unknown';
  for (const c of st.containerStatuses || []) {
    if (c.state && c.state.waiting && c.state.waiting.reason) reason = c.state.waiting.reason;
    else if (c.state && c.state.terminated && c.state.terminated.reason) reason = c.state.terminated.reason;
  }
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

const BUILTIN = {
  Pod: {
    columns: [nameCol(), col('Ready', 'string'), col('Status', 'string'), col('Restarts', 'string'), col('Age', 'string'),
      col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    cells: (p) => {
      const cs = (p.status || {}).containerStatuses || [];
      const total = ((p.spec || {}).containers || []).length;
      const ready = cs.filter(c => c.ready).length;
      const restarts = cs.reduce((a, c) => a + (c.restartCount || 0), 0);
      return [p.metadata.name, `${ready}/${total}`, podStatus(p), String(restarts), age(p.metadata.creationTimestamp),
        (p.status || {}).podIP || '<none>', (p.spec || {}).nodeName || '<none>', (p.status || {}).nominatedNodeName || '<none>', '<none>'];
    },
  },
  Deployment: {
    columns: [nameCol(), col('Ready', 'string'), col('Up-to-date', 'string'), col('Available', 'string'), col('Age', 'string'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (d) => {
      const s = d.status || {};
      return [d.metadata.name, `${s.readyReplicas || 0}/${(d.spec || {}).replicas ?? 0}`, s.updatedReplicas || 0, s.availableReplicas || 0,
        age(d.metadata.creationTimestamp), containers(d).map(c => c.name).join(','), containers(d).map(c => c.image).join(','), selStr((d.spec || {}).selector)];
    },
  },
  ReplicaSet: {
    columns: [nameCol(), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age', 'string'),
      col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (r) => [r.metadata.name, (r.spec || {}).replicas ?? 0, (r.status || {}).replicas || 0, (r.status || {}).readyReplicas || 0,
      age(r.metadata.creationTimestamp), containers(r).map(c => c.name).join(','), containers(r).map(c => c.image).join(','), selStr((r.spec || {}).selector)],
  },
  Namespace: {
    columns: [nameCol(), col('Status', 'string'), col('Age', 'string')],
    cells: (n) => [n.metadata.name, (n.status || {}).phase || '', age(n.metadata.creationTimestamp)],
  },
  Lease: {
    columns: [nameCol(), col('Holder', 'string'), col('Age', 'string')],
    cells: (l) => [l.metadata.name, (l.spec || {}).holderIdentity || '', age(l.metadata.creationTimestamp)],
  },
  Secret: {
    columns: [nameCol(), col('Type', 'string'), col('Data', 'string'), col('Age', 'string')],
    cells: (s) => [s.metadata.name, s.type || '', String(Object.keys(s.data || {}).length), age(s.metadata.creationTimestamp)],
  },
  ConfigMap: {
    columns: [nameCol(), col('Data', 'string'), col('Age', 'string')],
    cells: (c) => [c.metadata.name, Object.keys(c.data || {}).length + Object.keys(c.binaryData || {}).length, age(c.metadata.creationTimestamp)],
  },
  Service: {
    columns: [nameCol(), col('Type', 'string'), col('Cluster-IP', 'string'), col('External-IP', 'string'), col('Port(s)', 'string'), col('Age', 'string'), col('Selector', 'string', 1)],
    cells: (s) => {
      const sp = s.spec || {};
      return [s.metadata.name, sp.type || '', sp.clusterIP || '<none>', '<none>', (sp.ports || []).map(p => `${p.port}/${p.protocol || 'TCP'}`).join(',') || '<none>',
        age(s.metadata.creationTimestamp), Object.entries(sp.selector || {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [nameCol(), col('Reference', 'string'), col('Targets', 'string'), col('MinPods', 'string'), col('MaxPods', 'string'), col('Replicas', 'string'), col('Age', 'string')],
    cells: (h) => {
      const sp = h.spec || {};
      const ref = sp.scaleTargetRef || {};
      return [h.metadata.name, `${ref.kind}/${ref.name}`, '<unknown>', String(sp.minReplicas ?? 1), String(sp.maxReplicas ?? ''), String((h.status || {}).currentReplicas || 0), age(h.metadata.creationTimestamp)];
    },
  },
  Event: {
    columns: [col('Last Seen', 'string'), col('Type', 'string'), col('Reason', 'string'), col('Object', 'string'), col('Message', 'string'), nameCol()],
    cells: (e) => {
      const obj = e.involvedObject || e.regarding || {};
      const last = e.lastTimestamp || e.deprecatedLastTimestamp || e.eventTime || e.metadata.creationTimestamp;
      return [age(last), e.type || '', e.reason || '', `${String(obj.kind || '').toLowerCase()}/${obj.name || ''}`, e.message || e.note || '', e.metadata.name];
    },
  },
};

// Evaluates the simple JSONPath forms CRD printer columns use.
function jsonPath(obj, expr) {
  let cur = obj;
  const re = /\.([A-Za-z0-9_\-$]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/g;
  let m, pos = 0;
  expr = expr.trim().replace(/^\{(.*)\}$/, '$1');
  while ((m = re.exec(expr))) {
    if (m.index !== pos) return undefined;
    pos = re.lastIndex;
    if (cur === undefined || cur === null) return undefined;
    if (m[1] !== undefined) cur = cur[m[1]];
    else if (m[2] !== undefined) cur = Array.isArray(cur) ? cur[+m[2]] : undefined;
    else if (m[3] !== undefined) {
      if (!Array.isArray(cur)) return undefined;
      const path = m[3].split('.');
      cur = cur.find(e => path.reduce((a, k) => (a == null ? a : a[k]), e) === m[4]);
    } else if (m[5] !== undefined) cur = cur[m[5]];
  }
  return pos === expr.length ? cur : undefined;
}

function crCell(pc, obj) {
  const v = jsonPath(obj, pc.jsonPath);
  if (v === undefined || v === null) return null;
  if (pc.type === 'date') return typeof v === 'string' ? age(v) : null;
  if (pc.type === 'integer' || pc.type === 'number') return typeof v === 'number' ? v : null;
  if (pc.type === 'boolean') return typeof v === 'boolean' ? v : null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function tableFor(rt) {
  if (rt.crdName) {
    const pcs = rt.printerColumns && rt.printerColumns.length ? rt.printerColumns
      : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
    return {
      columns: [nameCol(), ...pcs.map(pc => col(pc.name, pc.type, pc.priority || 0, pc.format || '', pc.description || `Custom resource definition column (in JSONPath format): ${pc.jsonPath}`))],
      cells: (o) => [o.metadata.name, ...pcs.map(pc => crCell(pc, o))],
    };
  }
  return BUILTIN[rt.kind] || {
    columns: [nameCol(), col('Created At', 'date', 0, '', CREATED_DESC)],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
  };
}

function rowObject(o, includeObject) {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

function toTable(rt, objs, listMeta, includeObject, withColumns = true) {
  const t = tableFor(rt);
  const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta || {} };
  table.columnDefinitions = withColumns ? t.columns : null;
  table.rows = objs.map(o => {
    const r = { cells: t.cells(o) };
    const ob = rowObject(o, includeObject);
    if (ob !== undefined) r.object = ob;
    return r;
  });
  return table;
}

module.exports = { toTable, humanDuration, jsonPath };
