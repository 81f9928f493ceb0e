'use strict';
// Server-side defaulting of built-in kinds, as kube-apiserver v1.32 fills them
// in (see the 201 bodies in the golden transcripts).

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const setIfAbsent = (o, k, v) => { if (o[k] === undefined || o[k] === null) o[k] = v; };

function defaultProbe(p) {
  if (!isObj(p)) return;
  if (isObj(p.httpGet)) setIfAbsent(p.httpGet, 'scheme', 'HTTP');
  if (isObj(p.grpc)) setIfAbsent(p.grpc, 'service', '');
  setIfAbsent(p, 'timeoutSeconds', 1);
  setIfAbsent(p, 'periodSeconds', 10);
  setIfAbsent(p, 'successThreshold', 1);
  setIfAbsent(p, 'failureThreshold', 3);
}

function imagePullPolicy(image) {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop();
  const tag = last.includes(':') ? last.split(':').pop() : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c, isPod) {
  if (!isObj(c)) return;
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObj(p)) setIfAbsent(p, 'protocol', 'TCP');
  if (Array.isArray(c.env)) for (const e of c.env) {
    if (isObj(e) && isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef)) setIfAbsent(e.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  setIfAbsent(c, 'resources', {});
  if (isPod && isObj(c.resources) && isObj(c.resources.limits)) {
    // Pod defaulting: requests default to limits.
    c.resources.requests = Object.assign({}, c.resources.limits, c.resources.requests || {});
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  setIfAbsent(c, 'imagePullPolicy', imagePullPolicy(c.image));
}

function defaultPodSpec(spec, isPod) {
  if (!isObj(spec)) return;
  if (Array.isArray(spec.volumes)) for (const v of spec.volumes) {
    if (!isObj(v)) continue;
    if (isObj(v.configMap)) setIfAbsent(v.configMap, 'defaultMode', 420);
    if (isObj(v.secret)) setIfAbsent(v.secret, 'defaultMode', 420);
    if (isObj(v.downwardAPI)) setIfAbsent(v.downwardAPI, 'defaultMode', 420);
    if (isObj(v.projected)) setIfAbsent(v.projected, 'defaultMode', 420);
    if (isObj(v.hostPath)) setIfAbsent(v.hostPath, 'type', '');
  }
  for (const c of spec.initContainers || []) defaultContainer(c, isPod);
  for (const c of spec.containers || []) defaultContainer(c, isPod);
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'securityContext', {});
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
}

function defaultTemplate(tpl) {
  if (!isObj(tpl)) return;
  if (!isObj(tpl.metadata)) tpl.metadata = {};
  if (!('creationTimestamp' in tpl.metadata)) tpl.metadata = { creationTimestamp: null, ...tpl.metadata };
  defaultPodSpec(tpl.spec, false);
}

function qosClass(spec) {
  const cs = [...(spec.initContainers || []), ...(spec.containers || [])].filter(isObj);
  let anySet = false, guaranteed = cs.length > 0;
  for (const c of cs) {
    const r = c.resources || {};
    const req = r.requests || {}, lim = r.limits || {};
    if (Object.keys(req).length || Object.keys(lim).length) anySet = true;
    for (const res of ['cpu', 'memory']) {
      if (!lim[res] || (req[res] !== undefined && req[res] !== lim[res])) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const DEFAULTERS = {
  'v1/Namespace': (o) => {
    o.metadata.labels = Object.assign({}, o.metadata.labels, { 'kubernetes.io/metadata.name': o.metadata.name });
    if (!isObj(o.spec)) o.spec = {};
    setIfAbsent(o.spec, 'finalizers', ['kubernetes']);
    if (!isObj(o.status)) o.status = {};
    setIfAbsent(o.status, 'phase', 'Active');
  },
  'v1/Pod': (o, create) => {
    if (!isObj(o.spec)) o.spec = {};
    defaultPodSpec(o.spec, true);
    if (create) {
      const tol = Array.isArray(o.spec.tolerations) ? o.spec.tolerations : [];
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!tol.some(t => t && t.key === key)) tol.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
      }
      o.spec.tolerations = tol;
    }
    setIfAbsent(o.spec, 'priority', 0);
    setIfAbsent(o.spec, 'enableServiceLinks', true);
    setIfAbsent(o.spec, 'preemptionPolicy', 'PreemptLowerPriority');
    if (!isObj(o.status)) o.status = {};
    setIfAbsent(o.status, 'phase', 'Pending');
    setIfAbsent(o.status, 'qosClass', qosClass(o.spec));
  },
  'apps/v1/Deployment': (o) => {
    if (!isObj(o.spec)) o.spec = {};
    setIfAbsent(o.spec, 'replicas', 1);
    defaultTemplate(o.spec.template);
    if (!isObj(o.spec.strategy)) o.spec.strategy = {};
    setIfAbsent(o.spec.strategy, 'type', 'RollingUpdate');
    if (o.spec.strategy.type === 'RollingUpdate') {
      if (!isObj(o.spec.strategy.rollingUpdate)) o.spec.strategy.rollingUpdate = {};
      setIfAbsent(o.spec.strategy.rollingUpdate, 'maxUnavailable', '25%');
      setIfAbsent(o.spec.strategy.rollingUpdate, 'maxSurge', '25%');
    }
    setIfAbsent(o.spec, 'revisionHistoryLimit', 10);
    setIfAbsent(o.spec, 'progressDeadlineSeconds', 600);
    if (!isObj(o.status)) o.status = {};
  },
  'apps/v1/ReplicaSet': (o) => {
    if (!isObj(o.spec)) o.spec = {};
    setIfAbsent(o.spec, 'replicas', 1);
    defaultTemplate(o.spec.template);
    if (!isObj(o.status)) o.status = {};
    setIfAbsent(o.status, 'replicas', 0);
  },
  'apps/v1/StatefulSet': (o) => { if (isObj(o.spec)) { setIfAbsent(o.spec, 'replicas', 1); defaultTemplate(o.spec.template); } },
  'apps/v1/DaemonSet': (o) => { if (isObj(o.spec)) defaultTemplate(o.spec.template); },
  'batch/v1/Job': (o) => { if (isObj(o.spec)) defaultTemplate(o.spec.template); },
  'v1/Service': (o, create, ctx) => {
    if (!isObj(o.spec)) o.spec = {};
    const s = o.spec;
    setIfAbsent(s, 'type', 'ClusterIP');
    if (Array.isArray(s.ports)) for (const p of s.ports) if (isObj(p)) { setIfAbsent(p, 'protocol', 'TCP'); setIfAbsent(p, 'targetPort', p.port); }
    if (s.clusterIP !== 'None' && s.type !== 'ExternalName') {
      if (!s.clusterIP && ctx) s.clusterIP = ctx.allocateIp();
      s.clusterIPs = [s.clusterIP];
      setIfAbsent(s, 'ipFamilies', ['IPv4']);
      setIfAbsent(s, 'ipFamilyPolicy', 'SingleStack');
      setIfAbsent(s, 'internalTrafficPolicy', 'Cluster');
    }
    setIfAbsent(s, 'sessionAffinity', 'None');
    if (!isObj(o.status)) o.status = { loadBalancer: {} };
  },
  'v1/Secret': (o) => {
    setIfAbsent(o, 'type', 'Opaque');
    if (isObj(o.stringData)) { // write-only convenience field: merged into data
      o.data = Object.assign({}, o.data || {});
      for (const [k, v] of Object.entries(o.stringData)) o.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      delete o.stringData;
    }
  },
  'v1/Event': (o) => {
    setIfAbsent(o, 'source', {});
    if (!('firstTimestamp' in o)) o.firstTimestamp = null;
    if (!('lastTimestamp' in o)) o.lastTimestamp = null;
    if (!('eventTime' in o)) o.eventTime = null;
  },
  'events.k8s.io/v1/Event': (o) => {
    setIfAbsent(o, 'deprecatedSource', {});
    if (!('deprecatedFirstTimestamp' in o)) o.deprecatedFirstTimestamp = null;
    if (!('deprecatedLastTimestamp' in o)) o.deprecatedLastTimestamp = null;
  },
  'autoscaling/v2/HorizontalPodAutoscaler': (o, create) => {
    if (isObj(o.spec)) setIfAbsent(o.spec, 'minReplicas', 1);
    if (create) o.status = { desiredReplicas: 0, currentMetrics: null };
  },
  'autoscaling/v1/HorizontalPodAutoscaler': (o, create) => {
    if (isObj(o.spec)) setIfAbsent(o.spec, 'minReplicas', 1);
    if (create) o.status = { currentReplicas: 0, desiredReplicas: 0 };
  },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': (o) => {
    if (!isObj(o.spec)) return;
    if (!isObj(o.spec.conversion)) o.spec.conversion = { strategy: 'None' };
    if (isObj(o.spec.names)) {
      setIfAbsent(o.spec.names, 'singular', String(o.spec.names.kind || '').toLowerCase());
      setIfAbsent(o.spec.names, 'listKind', `${o.spec.names.kind}List`);
    }
  },
};

function applyDefaults(rt, obj, create, ctx) {
  const f = DEFAULTERS[`${rt.apiVersion}/${rt.kind}`];
  if (f) f(obj, create, ctx);
}

module.exports = { applyDefaults, qosClass };
