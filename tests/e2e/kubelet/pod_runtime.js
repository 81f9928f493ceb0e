'use strict';

// How a pod's container becomes a process on this machine: pure functions from the pod spec
// (and what the kubelet looked up: Secrets, ConfigMaps, host ports, temp dirs) to a command
// line, an environment and a memory limit. No I/O here, so tests/e2e/kubelet_unit.test.js can
// check every rule.
//
// The tricks, because every pod shares this machine's loopback and filesystem:
// - Ports. Each pod gets its own host port for every port its containers use: the declared
//   containerPorts, the inspector's 9229 and the sidecar's 9464. In env values and args,
//   `HOST:PORT` (HOST one of 127.0.0.1, 0.0.0.0, localhost) and `--inspect[=...]` are rewritten
//   to 127.0.0.1:<host port>, and an env var whose whole value is such a port number (PORT=8080)
//   becomes the host port. The mapping holds for the pod's life, for all of its containers, so
//   the app's `NODE_OPTIONS=--inspect=127.0.0.1:9229` and the sidecar's
//   `OOMSCOPE_INSPECTOR=127.0.0.1:9229` meet on the same host port. The pod IP is 127.0.0.1.
// - Paths. Each volume is a directory under the pod's temp dir (emptyDir: empty; secret and
//   configMap: one file per key). A value in env or args that starts with a container's
//   mountPath (at a path boundary) is rewritten to the volume's directory.
// - Images. A table maps an image to a working directory and a default command; commands that
//   name an oomscope program (`/usr/local/bin/oomscope-sidecar`, `oomscope-sidecar`) run the
//   binary from the build tree.

const path = require('node:path');

const WELL_KNOWN_PORTS = [9229, 9464];

// Kubernetes resource.Quantity to a number (bytes for memory).
function parseQuantity(q) {
  if (q === undefined || q === null) return null;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(String(q).trim());
  if (!m) throw new Error(`bad quantity ${q}`);
  const units = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  if (!(m[2] in units)) throw new Error(`bad quantity suffix in ${q}`);
  return Number(m[1]) * units[m[2]];
}

function allContainers(pod) {
  return [...(pod.spec.initContainers || []), ...(pod.spec.containers || [])];
}

// The ports a pod's containers use, each to be mapped to a free host port.
function podPorts(pod) {
  const ports = new Set(WELL_KNOWN_PORTS);
  for (const c of allContainers(pod)) {
    for (const p of c.ports || []) if (p.containerPort) ports.add(p.containerPort);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      const port = probe && (probe.httpGet || probe.tcpSocket || {}).port;
      if (typeof port === 'number') ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

// Rewrites pod-local addresses in one string to their host ports (see the header).
function rewritePorts(s, portMap) {
  const mapped = (port) => portMap[port] || port;
  s = s.replace(/--inspect(-brk|-wait)?(?:=(\S+))?(?=\s|$)/g, (_, kind, addr) => {
    let host = '127.0.0.1';
    let port = 9229;
    if (addr) {
      const i = addr.lastIndexOf(':');
      if (i >= 0) {
        host = addr.slice(0, i) || host;
        port = Number(addr.slice(i + 1));
      } else if (/^\d+$/.test(addr)) {
        port = Number(addr);
      } else {
        host = addr;
      }
    }
    if (host === '0.0.0.0' || host === 'localhost') host = '127.0.0.1';
    return `--inspect${kind || ''}=${host}:${mapped(port)}`;
  });
  return s.replace(/\b(127\.0\.0\.1|0\.0\.0\.0|localhost):(\d+)\b/g, (all, host, port) =>
    portMap[Number(port)] ? `127.0.0.1:${portMap[Number(port)]}` : all);
}

// mounts: [{mountPath, dir}] for one container, longest first. Rewrites each whitespace-separated
// word that is a mounted path, a path under one, or `--flag=` one of those, to the directory
// that stands for it.
function rewritePaths(s, mounts) {
  const word = (w) => {
    for (const { mountPath, dir } of mounts) {
      const mp = mountPath.replace(/\/+$/, '');
      if (w === mp) return dir;
      if (w.startsWith(mp + '/')) return dir + w.slice(mp.length);
      const eq = w.indexOf('=' + mp);
      if (eq >= 0) {
        const rest = w.slice(eq + 1 + mp.length);
        if (rest === '' || rest.startsWith('/')) return w.slice(0, eq + 1) + dir + rest;
      }
    }
    return w;
  };
  return s.split(/(\s+)/).map((w) => (/^\s+$/.test(w) ? w : word(w))).join('');
}

// $(VAR) references in command, args and env values, as the kubelet expands them; $$ escapes.
function expandRefs(s, env) {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name) => {
    if (all === '$$') return '$';
    return Object.prototype.hasOwnProperty.call(env, name) ? env[name] : all;
  });
}

function fieldRef(pod, fieldPath) {
  const md = pod.metadata;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return (md.labels || {})[label[1]] || '';
  const ann = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (ann) return (md.annotations || {})[ann[1]] || '';
  switch (fieldPath) {
    case 'metadata.name': return md.name;
    case 'metadata.namespace': return md.namespace;
    case 'metadata.uid': return md.uid || '';
    case 'spec.nodeName': return pod.spec.nodeName || '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName || 'default';
    case 'status.podIP': case 'status.hostIP': return '127.0.0.1';
    default: throw new Error(`unsupported fieldRef ${fieldPath}`);
  }
}

function resourceFieldRef(pod, container, ref) {
  const target = ref.containerName
    ? allContainers(pod).find((c) => c.name === ref.containerName)
    : container;
  if (!target) throw new Error(`resourceFieldRef: no container ${ref.containerName}`);
  const [kind, res] = ref.resource.split('.');
  const resources = target.resources || {};
  let value = parseQuantity((resources[kind] || {})[res]);
  if (value === null && kind === 'requests') value = parseQuantity((resources.limits || {})[res]);
  if (value === null) value = res === 'memory' ? 24 * 2 ** 30 : 2;  // node allocatable, as the kubelet does
  const divisor = parseQuantity(ref.divisor || (res === 'cpu' ? '1' : '1'));
  return String(Math.ceil(value / divisor));
}

// The container's environment: the host's PATH and HOME, then envFrom, then env in order (later
// entries may refer to earlier ones with $(VAR)). `lookups` holds what the kubelet fetched:
// secrets[name] and configMaps[name] as {key: string value}.
function containerEnv(pod, container, lookups, hostEnv = {}) {
  const env = {};
  // The node's own settings: PATH, HOME, and the sanitizer runtimes' options, so that a program
  // built with ASan+UBSan behaves in a pod as it does in the test that runs the node.
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (hostEnv[k]) env[k] = hostEnv[k];
  }
  env.HOSTNAME = pod.metadata.name;
  const source = (kind, name, optional) => {
    const table = kind === 'secret' ? lookups.secrets : lookups.configMaps;
    const data = table[name];
    if (!data && !optional) throw new Error(`${kind} ${name} not found`);
    return data || {};
  };
  for (const from of container.envFrom || []) {
    const ref = from.secretRef || from.configMapRef;
    const data = source(from.secretRef ? 'secret' : 'configMap', ref.name, ref.optional);
    for (const [k, v] of Object.entries(data)) env[(from.prefix || '') + k] = v;
  }
  for (const e of container.env || []) {
    if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) env[e.name] = fieldRef(pod, vf.fieldRef.fieldPath);
      else if (vf.resourceFieldRef) env[e.name] = resourceFieldRef(pod, container, vf.resourceFieldRef);
      else if (vf.secretKeyRef || vf.configMapKeyRef) {
        const ref = vf.secretKeyRef || vf.configMapKeyRef;
        const data = source(vf.secretKeyRef ? 'secret' : 'configMap', ref.name, ref.optional);
        if (ref.key in data) env[e.name] = data[ref.key];
        else if (!ref.optional) throw new Error(`key ${ref.key} not in ${ref.name}`);
      }
    } else {
      env[e.name] = expandRefs(e.value || '', env);
    }
  }
  return env;
}

// Finds the image's entry in the table: [{match: RegExp, cwd, command: [...]}].
function imageEntry(image, table) {
  return table.find((e) => e.match.test(image)) || null;
}

// The process to run for a container: {file, args, cwd, env}. `ctx` = {portMap, mounts,
// imageTable, binaries: {name: path}, lookups, hostEnv, defaultCwd}.
function containerProcess(pod, container, ctx) {
  const entry = imageEntry(container.image || '', ctx.imageTable);
  const env = containerEnv(pod, container, ctx.lookups, ctx.hostEnv);
  // The image's own defaults (its Dockerfile ENV), made explicit so that the port rewrite
  // applies to them too: a sidecar that keeps its default listen address must not take the
  // host's 9464 for every pod.
  for (const [k, v] of Object.entries({ ...((entry && entry.env) || {}), ...(ctx.extraEnv || {}) })) {
    if (!(k in env)) env[k] = v;
  }
  const rewrite = (s) => rewritePaths(rewritePorts(s, ctx.portMap), ctx.mounts);
  for (const k of Object.keys(env)) {
    if (ctx.hostEnv[k] === env[k] && (k === 'PATH' || k === 'HOME')) continue;
    let v = rewrite(env[k]);
    const n = Number(v);
    if (/^\d+$/.test(v) && ctx.portMap[n] && /PORT$/.test(k)) v = String(ctx.portMap[n]);
    if (k === 'HOST' && v === '0.0.0.0') v = '127.0.0.1';
    env[k] = v;
  }
  const expand = (s) => rewrite(expandRefs(s, env));
  let argv;
  if (container.command && container.command.length) {
    argv = [...container.command, ...(container.args || [])];
  } else {
    if (!entry) throw new Error(`no command and image ${container.image} is not in the image table`);
    argv = [...entry.command, ...(container.args || [])];
  }
  argv = argv.map(expand);
  const prog = path.basename(argv[0]);
  if (ctx.binaries[prog] && (argv[0] === prog || argv[0].startsWith('/usr/local/bin/') || argv[0].startsWith('/'))) {
    argv[0] = ctx.binaries[prog];
  }
  const cwd = container.workingDir ? rewrite(container.workingDir) : (entry && entry.cwd) || ctx.defaultCwd;
  return { file: argv[0], args: argv.slice(1), cwd, env };
}

// Memory limit in bytes, or null.
function memoryLimit(container) {
  return parseQuantity(((container.resources || {}).limits || {}).memory);
}

// A native sidecar: an init container that keeps running (KEP-753).
function isSidecar(initContainer) {
  return initContainer.restartPolicy === 'Always';
}

module.exports = {
  parseQuantity,
  podPorts,
  rewritePorts,
  rewritePaths,
  expandRefs,
  containerEnv,
  containerProcess,
  memoryLimit,
  isSidecar,
  imageEntry,
  allContainers,
};
