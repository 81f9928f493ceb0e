'use strict';
// Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown), for the
// kinds kubectl's typed `create` generators send that way: Namespace,
// ConfigMap, Secret, ServiceAccount, Deployment. Field numbers as in the
// kinds' generated.proto (checked against bodies kubectl 1.32 sent). Other
// kinds answer 415, as before. Responses are always JSON.

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

// Per message: field number -> [json name, type, flags]. Types: s string, b bytes,
// i int, bool, t Time, m:<Msg>, map:<valueType>; flags: r repeated, z keep zero.
const S = {
  Unknown: { 1: ['typeMeta', 'm:TypeMeta'], 2: ['raw', 'b'], 3: ['contentEncoding', 's'], 4: ['contentType', 's'] },
  TypeMeta: { 1: ['apiVersion', 's'], 2: ['kind', 's'] },
  ObjectMeta: {
    1: ['name', 's'], 2: ['generateName', 's'], 3: ['namespace', 's'], 5: ['uid', 's'], 6: ['resourceVersion', 's'],
    7: ['generation', 'i'], 8: ['creationTimestamp', 't'], 11: ['labels', 'map:s'], 12: ['annotations', 'map:s'],
    13: ['ownerReferences', 'm:OwnerReference', 'r'], 14: ['finalizers', 's', 'r'],
  },
  OwnerReference: { 1: ['kind', 's'], 3: ['name', 's'], 4: ['uid', 's'], 5: ['apiVersion', 's'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] },
  Namespace: { 1: ['metadata', 'm:ObjectMeta'], 2: ['spec', 'm:NamespaceSpec'], 3: ['status', 'm:NamespaceStatus'] },
  NamespaceSpec: { 1: ['finalizers', 's', 'r'] },
  NamespaceStatus: { 1: ['phase', 's'] },
  ConfigMap: { 1: ['metadata', 'm:ObjectMeta'], 2: ['data', 'map:s'], 3: ['binaryData', 'map:b'], 4: ['immutable', 'bool', 'z'] },
  Secret: { 1: ['metadata', 'm:ObjectMeta'], 2: ['data', 'map:b'], 3: ['type', 's'], 4: ['stringData', 'map:s'], 5: ['immutable', 'bool', 'z'] },
  ServiceAccount: { 1: ['metadata', 'm:ObjectMeta'], 4: ['automountServiceAccountToken', 'bool', 'z'] },
  Deployment: { 1: ['metadata', 'm:ObjectMeta'], 2: ['spec', 'm:DeploymentSpec'] },
  DeploymentSpec: {
    1: ['replicas', 'i', 'z'], 2: ['selector', 'm:LabelSelector'], 3: ['template', 'm:PodTemplateSpec'], 4: ['strategy', 'm:DeploymentStrategy'],
    5: ['minReadySeconds', 'i'], 6: ['revisionHistoryLimit', 'i', 'z'], 7: ['paused', 'bool'], 9: ['progressDeadlineSeconds', 'i', 'z'],
  },
  LabelSelector: { 1: ['matchLabels', 'map:s'], 2: ['matchExpressions', 'm:LabelSelectorRequirement', 'r'] },
  LabelSelectorRequirement: { 1: ['key', 's'], 2: ['operator', 's'], 3: ['values', 's', 'r'] },
  DeploymentStrategy: { 1: ['type', 's'], 2: ['rollingUpdate', 'm:RollingUpdateDeployment'] },
  RollingUpdateDeployment: { 1: ['maxUnavailable', 'm:IntOrString'], 2: ['maxSurge', 'm:IntOrString'] },
  IntOrString: { 1: ['type', 'i', 'z'], 2: ['intVal', 'i', 'z'], 3: ['strVal', 's', 'z'] },
  PodTemplateSpec: { 1: ['metadata', 'm:ObjectMeta'], 2: ['spec', 'm:PodSpec'] },
  PodSpec: {
    2: ['containers', 'm:Container', 'r'], 3: ['restartPolicy', 's'], 4: ['terminationGracePeriodSeconds', 'i', 'z'], 6: ['dnsPolicy', 's'],
    7: ['nodeSelector', 'map:s'], 8: ['serviceAccountName', 's'], 10: ['nodeName', 's'], 19: ['schedulerName', 's'], 20: ['initContainers', 'm:Container', 'r'],
  },
  Container: {
    1: ['name', 's'], 2: ['image', 's'], 3: ['command', 's', 'r'], 4: ['args', 's', 'r'], 5: ['workingDir', 's'], 6: ['ports', 'm:ContainerPort', 'r'],
    7: ['env', 'm:EnvVar', 'r'], 8: ['resources', 'm:ResourceRequirements'], 13: ['terminationMessagePath', 's'], 14: ['imagePullPolicy', 's'], 20: ['terminationMessagePolicy', 's'],
  },
  ContainerPort: { 1: ['name', 's'], 2: ['hostPort', 'i'], 3: ['containerPort', 'i'], 4: ['protocol', 's'], 5: ['hostIP', 's'] },
  EnvVar: { 1: ['name', 's'], 2: ['value', 's'] },
  ResourceRequirements: { 1: ['limits', 'map:q'], 2: ['requests', 'map:q'] },
  Time: { 1: ['seconds', 'i'], 2: ['nanos', 'i'] },
  Quantity: { 1: ['string', 's'] },
};
const TOP = { Namespace: 1, ConfigMap: 1, Secret: 1, ServiceAccount: 1, Deployment: 1 };

class ProtobufError extends Error {}

function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let r = 0, mul = 1;
    for (;;) {
      if (i >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[i++];
      r += (b & 0x7f) * mul;
      if (!(b & 0x80)) return r;
      mul *= 128;
      if (mul > 2 ** 63) throw new ProtobufError('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const num = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) out.push([num, varint()]);
    else if (wire === 2) { const n = varint(); if (i + n > buf.length) throw new ProtobufError('truncated field'); out.push([num, buf.subarray(i, i + n)]); i += n; }
    else if (wire === 5) { i += 4; } else if (wire === 1) { i += 8; } else throw new ProtobufError(`wire type ${wire}`);
  }
  return out;
}

function scalar(type, v) {
  switch (type) {
    case 's': return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    case 'b': return Buffer.isBuffer(v) ? v.toString('base64') : '';
    case 'i': return typeof v === 'number' ? (v > 2 ** 63 ? v - 2 ** 64 : v) : 0;
    case 'bool': return v === 1;
    case 'q': return decode(v, 'Quantity').string;
    case 't': {
      const t = decode(v, 'Time');
      return t.seconds ? new Date(t.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
    }
  }
  if (type.startsWith('m:')) return decode(v, type.slice(2));
  throw new ProtobufError(`type ${type}`);
}

const isZero = (v) => v === '' || v === 0 || v === false || v === null || (Array.isArray(v) && !v.length) ||
  (v && typeof v === 'object' && !Array.isArray(v) && !Object.keys(v).length && false);

function decode(buf, msg) {
  const schema = S[msg];
  const out = {};
  for (const [num, raw] of fields(buf)) {
    const f = schema[num];
    if (!f) continue; // a field the generators leave at its zero value
    const [name, type, flags = ''] = f;
    if (type.startsWith('map:')) {
      const entry = {};
      for (const [n, x] of fields(raw)) entry[n] = x;
      out[name] = out[name] || {};
      out[name][entry[1] ? entry[1].toString('utf8') : ''] = scalar(type.slice(4), entry[2] === undefined ? Buffer.alloc(0) : entry[2]);
      continue;
    }
    const v = scalar(type, raw);
    if (flags.includes('r')) { (out[name] = out[name] || []).push(v); continue; }
    if (isZero(v) && !flags.includes('z')) continue;
    out[name] = v;
  }
  if (msg === 'IntOrString') return out.type === 1 ? (out.strVal || '') : (out.intVal || 0);
  return out;
}

// Returns the object (JSON form) of a protobuf request body; throws ProtobufError.
function decodeObject(body) {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('missing k8s protobuf magic');
  const u = decode(body.subarray(4), 'Unknown');
  const tm = u.typeMeta || {};
  if (!TOP[tm.kind]) throw new ProtobufError(`kind ${tm.kind || '?'} is not decoded from protobuf by the emulator`);
  const obj = { apiVersion: tm.apiVersion, kind: tm.kind, ...decode(Buffer.from(u.raw || '', 'base64'), tm.kind) };
  return obj;
}

module.exports = { decodeObject, ProtobufError };
