'use strict';
// A subset of kube-apiserver's semantic validation (422 Invalid), worded as
// v1.32 words it: enough to catch what a buggy operator could write.

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const SUFFIX = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
function parseQuantity(q) {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return NaN;
  const m = /^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/.exec(q.trim());
  if (!m) return NaN;
  const num = parseFloat(m[1]);
  const suf = m[2] || '';
  if (/^[eE]/.test(suf)) return num * Math.pow(10, parseInt(suf.slice(1), 10));
  return num * SUFFIX[suf];
}

function goMap(m) {
  const keys = Object.keys(m || {}).sort();
  return `map[string]string{${keys.map(k => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ')}}`;
}
const quote = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const req = (field) => ({ reason: 'FieldValueRequired', message: 'Required value', field });
const inv = (field, value, detail) => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field });

function validateMeta(obj, namespaced, causes) {
  const m = obj.metadata || {};
  if (!m.name) causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  else if (!DNS1123_SUBDOMAIN.test(m.name) || m.name.length > 253) causes.push(inv('metadata.name', quote(m.name), SUBDOMAIN_MSG));
  for (const [k, v] of Object.entries(m.labels || {})) {
    if (typeof v === 'string' && v.length > 63) causes.push(inv('metadata.labels', quote(v), 'must be no more than 63 characters'));
    if (typeof k === 'string' && k.length === 0) causes.push(inv('metadata.labels', '""', 'name part must be non-empty'));
  }
}

function validateContainers(list, path, volumes, causes, required) {
  if (!Array.isArray(list) || list.length === 0) { if (required) causes.push(req(path)); return; }
  const seen = new Set();
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(c)) return;
    if (!c.name) causes.push(req(`${p}.name`));
    else {
      if (!DNS1123_LABEL.test(c.name)) causes.push(inv(`${p}.name`, quote(c.name), LABEL_MSG));
      if (seen.has(c.name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${quote(c.name)}`, field: `${p}.name` });
      seen.add(c.name);
    }
    if (!c.image) causes.push(req(`${p}.image`));
    (c.env || []).forEach((e, j) => { if (isObj(e) && !e.name) causes.push(req(`${p}.env[${j}].name`)); });
    (c.volumeMounts || []).forEach((vm, j) => {
      if (!isObj(vm)) return;
      if (!vm.name) causes.push(req(`${p}.volumeMounts[${j}].name`));
      else if (!volumes.has(vm.name)) causes.push({ reason: 'FieldValueNotFound', message: `Not found: ${quote(vm.name)}`, field: `${p}.volumeMounts[${j}].name` });
      if (!vm.mountPath) causes.push(req(`${p}.volumeMounts[${j}].mountPath`));
    });
    const r = c.resources || {};
    for (const res of Object.keys(r.requests || {})) {
      const lim = (r.limits || {})[res];
      if (lim === undefined) continue;
      if (parseQuantity(r.requests[res]) > parseQuantity(lim)) {
        causes.push(inv(`${p}.resources.requests`, quote(r.requests[res]), `must be less than or equal to ${res} limit of ${lim}`));
      }
    }
  });
}

function validatePodSpec(spec, path, causes) {
  if (!isObj(spec)) { causes.push(req(path)); return; }
  const volumes = new Set();
  (spec.volumes || []).forEach((v, i) => {
    if (!isObj(v)) return;
    if (!v.name) causes.push(req(`${path}.volumes[${i}].name`));
    else if (volumes.has(v.name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${quote(v.name)}`, field: `${path}.volumes[${i}].name` });
    volumes.add(v.name);
  });
  validateContainers(spec.initContainers, `${path}.initContainers`, volumes, causes, false);
  validateContainers(spec.containers, `${path}.containers`, volumes, causes, true);
}

function selectorMatches(sel, labels) {
  if (!isObj(sel)) return false;
  labels = labels || {};
  for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const has = e.key in labels;
    if (e.operator === 'In' && !(has && (e.values || []).includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && (e.values || []).includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function validateWorkload(o, causes, old) {
  const s = o.spec || {};
  if (typeof s.replicas === 'number' && s.replicas < 0) causes.push(inv('spec.replicas', s.replicas, 'must be greater than or equal to 0'));
  if (!isObj(s.selector)) causes.push(req('spec.selector'));
  else if (Object.keys(s.selector.matchLabels || {}).length === 0 && (s.selector.matchExpressions || []).length === 0) {
    causes.push(inv('spec.selector', 'v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}', 'empty selector is invalid for deployment'));
  }
  if (old && old.spec && JSON.stringify(old.spec.selector) !== JSON.stringify(s.selector)) {
    causes.push(inv('spec.selector', 'v1.LabelSelector{...}', 'field is immutable'));
  }
  const tpl = s.template;
  if (!isObj(tpl)) { causes.push(req('spec.template')); return; }
  const labels = (tpl.metadata || {}).labels;
  if (isObj(s.selector) && !selectorMatches(s.selector, labels)) {
    causes.push(inv('spec.template.metadata.labels', goMap(labels), '`selector` does not match template `labels`'));
  }
  validatePodSpec(tpl.spec, 'spec.template.spec', causes);
  if (isObj(tpl.spec) && tpl.spec.restartPolicy && tpl.spec.restartPolicy !== 'Always') {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${quote(tpl.spec.restartPolicy)}: supported values: "Always"`, field: 'spec.template.spec.restartPolicy' });
  }
}

const RULES = {
  'apps/v1/Deployment': validateWorkload,
  'apps/v1/ReplicaSet': validateWorkload,
  'v1/Pod': (o, causes) => validatePodSpec(o.spec, 'spec', causes),
  'coordination.k8s.io/v1/Lease': (o, causes) => {
    const s = o.spec || {};
    if (typeof s.leaseDurationSeconds === 'number' && s.leaseDurationSeconds <= 0) causes.push(inv('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  },
  'events.k8s.io/v1/Event': (o, causes) => {
    if (!o.eventTime) causes.push(req('eventTime'));
    if (!o.reportingController) causes.push(req('reportingController'));
    if (!o.reportingInstance) causes.push(req('reportingInstance'));
    if (!o.action) causes.push(req('action'));
    if (!o.reason) causes.push(req('reason'));
    if (o.type && o.type !== 'Normal' && o.type !== 'Warning') causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${quote(o.type)}: has invalid value: ${o.type}`, field: 'type' });
  },
  'v1/Event': (o, causes) => {
    const io = o.involvedObject || {};
    if ((io.namespace || '') !== (o.metadata.namespace || '') && io.namespace) causes.push(inv('involvedObject.namespace', quote(io.namespace), 'does not match event.namespace'));
  },
  'autoscaling/v2/HorizontalPodAutoscaler': (o, causes) => {
    const s = o.spec || {};
    if (typeof s.minReplicas === 'number' && s.minReplicas < 1) causes.push(inv('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
    if (typeof s.maxReplicas === 'number' && typeof s.minReplicas === 'number' && s.maxReplicas < s.minReplicas) causes.push(inv('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  },
  'v1/Secret': (o, causes) => {
    for (const [k, v] of Object.entries(o.data || {})) {
      if (typeof v === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push(inv(`data[${k}]`, '"<secret contents redacted>"', 'illegal base64 data'));
    }
  },
};

function validate(rt, obj, old) {
  const causes = [];
  validateMeta(obj, rt.namespaced, causes);
  const f = RULES[`${rt.apiVersion}/${rt.kind}`];
  if (f) f(obj, causes, old);
  return causes;
}

module.exports = { validate, parseQuantity, selectorMatches, goMap };
