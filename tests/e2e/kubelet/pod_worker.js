'use strict';

// One pod on the fake node: its host ports, its volumes as directories, its init containers
// (run to completion, or kept running when they are native sidecars), its containers, and its
// status written back through the pods/status subresource.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { Container } = require('./container');
const rt = require('./pod_runtime');

// Host ports handed out so far. The kernel may offer a port again as soon as the probe socket
// closes, before the pod that got it has bound it: two pods started together could then share
// one (seen once in CI). A port is never handed out twice by one kubelet.
const portsGiven = new Set();

function probePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function freePort() {
  for (;;) {
    const port = await probePort();
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
  }
}

function now() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class PodWorker {
  constructor(pod, kubelet) {
    this.pod = pod;
    this.kubelet = kubelet;
    this.key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.uid = pod.metadata.uid;
    this.dir = path.join(kubelet.workDir, `${pod.metadata.namespace}_${pod.metadata.name}_${(this.uid || '').slice(0, 8)}`);
    this.portMap = {};
    this.init = [];        // Container, in spec order
    this.containers = [];  // Container, in spec order
    this.initDone = false;
    this.stopped = false;
    this.startTime = now();
    this.waitingMessage = '';
    this.patchTimer = null;
    this.patching = Promise.resolve();
    this.transitions = {};
  }

  log(msg) {
    this.kubelet.log(`${this.key}: ${msg}`);
  }

  async prepare() {
    fs.mkdirSync(path.join(this.dir, 'volumes'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    for (const port of rt.podPorts(this.pod)) this.portMap[port] = await freePort();
    // Secrets and ConfigMaps named by volumes or env: wait for them, as the kubelet waits in
    // ContainerCreating (the operator may create the Secret just after the Deployment).
    const need = { secrets: new Set(), configMaps: new Set() };
    for (const v of this.pod.spec.volumes || []) {
      if (v.secret && !v.secret.optional) need.secrets.add(v.secret.secretName);
      if (v.configMap && !v.configMap.optional) need.configMaps.add(v.configMap.name);
    }
    for (const c of rt.allContainers(this.pod)) {
      for (const e of c.env || []) {
        const vf = e.valueFrom || {};
        if (vf.secretKeyRef && !vf.secretKeyRef.optional) need.secrets.add(vf.secretKeyRef.name);
        if (vf.configMapKeyRef && !vf.configMapKeyRef.optional) need.configMaps.add(vf.configMapKeyRef.name);
      }
      for (const f of c.envFrom || []) {
        if (f.secretRef && !f.secretRef.optional) need.secrets.add(f.secretRef.name);
        if (f.configMapRef && !f.configMapRef.optional) need.configMaps.add(f.configMapRef.name);
      }
    }
    this.lookups = { secrets: {}, configMaps: {} };
    const ns = this.pod.metadata.namespace;
    for (let attempt = 0; !this.stopped; attempt++) {
      const missing = [];
      for (const name of need.secrets) {
        if (this.lookups.secrets[name]) continue;
        try {
          const s = await this.kubelet.kube.getSecret(ns, name);
          const data = {};
          for (const [k, v] of Object.entries(s.data || {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
          for (const [k, v] of Object.entries(s.stringData || {})) data[k] = v;
          this.lookups.secrets[name] = data;
        } catch (err) {
          missing.push(`secret "${name}" (${err.status || err.message})`);
        }
      }
      for (const name of need.configMaps) {
        if (this.lookups.configMaps[name]) continue;
        try {
          const cm = await this.kubelet.kube.getConfigMap(ns, name);
          this.lookups.configMaps[name] = { ...(cm.data || {}) };
        } catch (err) {
          missing.push(`configmap "${name}" (${err.status || err.message})`);
        }
      }
      if (!missing.length) break;
      this.waitingMessage = `MountVolume.SetUp failed: ${missing.join(', ')} not found`;
      if (attempt === 0) {
        this.log(this.waitingMessage);
        this.schedulePatch();
      }
      await sleep(Math.min(250 * (attempt + 1), 1000));
    }
    this.waitingMessage = '';
    // Volumes as directories.
    this.volumeDirs = {};
    for (const v of this.pod.spec.volumes || []) {
      const dir = path.join(this.dir, 'volumes', v.name);
      fs.mkdirSync(dir, { recursive: true });
      this.volumeDirs[v.name] = dir;
      const files = v.secret ? this.lookups.secrets[v.secret.secretName] : v.configMap ? this.lookups.configMaps[v.configMap.name] : null;
      if (files) {
        const items = (v.secret || v.configMap).items;
        const list = items ? items.map((i) => [i.key, i.path]) : Object.keys(files).map((k) => [k, k]);
        for (const [key, rel] of list) {
          if (!(key in files)) continue;
          fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          fs.writeFileSync(path.join(dir, rel), files[key], { mode: 0o600 });
        }
      } else if (!v.emptyDir && !v.secret && !v.configMap && !v.projected) {
        this.log(`volume ${v.name}: only emptyDir, secret and configMap are backed by files; an empty dir stands for it`);
      }
    }
  }

  makeContainer(spec, restart) {
    const mounts = (spec.volumeMounts || [])
      .filter((m) => this.volumeDirs[m.name])
      .map((m) => ({ mountPath: m.mountPath, dir: m.subPath ? path.join(this.volumeDirs[m.name], m.subPath) : this.volumeDirs[m.name] }))
      .sort((a, b) => b.mountPath.length - a.mountPath.length);
    for (const m of mounts) fs.mkdirSync(m.dir, { recursive: true });
    const proc = rt.containerProcess(this.pod, spec, {
      portMap: this.portMap,
      mounts,
      imageTable: this.kubelet.imageTable,
      binaries: this.kubelet.binaries,
      lookups: this.lookups,
      hostEnv: process.env,
      defaultCwd: this.dir,
      extraEnv: this.kubelet.opts.containerEnv[spec.name] || {},
    });
    return new Container({
      spec,
      proc,
      limit: this.scaledLimit(spec),
      restart,
      logFile: path.join(this.dir, 'logs', `${spec.name}.log`),
      onChange: () => this.schedulePatch(),
      log: (m) => this.log(m),
    });
  }

  // The container's memory limit, times --limit-scale for its name (sanitized builds use several
  // times the memory of the production build they stand for).
  scaledLimit(spec) {
    const limit = rt.memoryLimit(spec);
    const scale = this.kubelet.opts.limitScale[spec.name];
    return limit && scale ? Math.round(limit * scale) : limit;
  }

  async run() {
    this.schedulePatch();
    try {
      await this.prepare();
      if (this.stopped) return;
      const policy = this.pod.spec.restartPolicy || 'Always';
      for (const spec of this.pod.spec.initContainers || []) {
        if (this.stopped) return;
        if (rt.isSidecar(spec)) {
          const c = this.makeContainer(spec, 'Always');
          this.init.push(c);
          c.start();
          continue;
        }
        const c = this.makeContainer(spec, 'Never');
        this.init.push(c);
        for (;;) {
          c.start();
          await c.exited;
          if (this.stopped) return;
          if (c.state.terminated && c.state.terminated.exitCode === 0) break;
          if (policy === 'Never') return;
          c.restartCount++;
          c.lastState = { terminated: c.state.terminated };
          c.state = { waiting: { reason: 'CrashLoopBackOff' } };
          await sleep(500);
        }
      }
      this.initDone = true;
      for (const spec of this.pod.spec.containers || []) {
        if (this.stopped) return;
        const c = this.makeContainer(spec, policy);
        this.containers.push(c);
        c.start();
      }
    } catch (err) {
      this.waitingMessage = `CreateContainerConfigError: ${err.message}`;
      this.log(this.waitingMessage);
    }
    this.schedulePatch();
  }

  checkMemory(rssByGroup) {
    for (const c of [...this.init, ...this.containers]) if (c.pid) c.checkMemory(rssByGroup.get(c.pid) || 0);
  }

  async stop(graceMs) {
    if (this.stopped && this.stopping) return this.stopping;
    this.stopped = true;
    clearTimeout(this.patchTimer);
    this.stopping = (async () => {
      // Containers first, then native sidecars in reverse order, as the kubelet terminates them.
      await Promise.all(this.containers.map((c) => c.stop(graceMs)));
      for (const c of [...this.init].reverse()) await c.stop(graceMs);
    })();
    return this.stopping;
  }

  cleanup() {
    // Logs stay in the work dir (the test prints them on failure); volumes go.
    fs.rmSync(path.join(this.dir, 'volumes'), { recursive: true, force: true });
  }

  condition(type, ok) {
    const status = ok ? 'True' : 'False';
    const prev = this.transitions[type];
    if (!prev || prev.status !== status) this.transitions[type] = { status, at: now() };
    return { type, status, lastTransitionTime: this.transitions[type].at };
  }

  statusDoc() {
    const specInit = this.pod.spec.initContainers || [];
    const specMain = this.pod.spec.containers || [];
    const waiting = (spec, reason) => ({
      name: spec.name, image: spec.image || '', imageID: '', ready: false, started: false, restartCount: 0,
      state: { waiting: this.waitingMessage ? { reason, message: this.waitingMessage } : { reason } },
    });
    const init = specInit.map((s) => {
      const c = this.init.find((x) => x.name === s.name);
      if (!c) return waiting(s, 'PodInitializing');
      const st = c.status();
      if (!rt.isSidecar(s)) st.ready = !!(c.state.terminated && c.state.terminated.exitCode === 0);
      return st;
    });
    const main = specMain.map((s) => {
      const c = this.containers.find((x) => x.name === s.name);
      return c ? c.status() : waiting(s, this.waitingMessage ? 'CreateContainerConfigError' : this.initDone ? 'ContainerCreating' : 'PodInitializing');
    });
    const containersReady = main.length > 0 && main.every((s) => s.ready);
    const sidecarsReady = init.every((s, i) => !rt.isSidecar(specInit[i]) || s.ready);
    const anyStarted = this.containers.length > 0;
    const status = {
      phase: anyStarted ? 'Running' : 'Pending',
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: '127.0.0.1',
      podIPs: [{ ip: '127.0.0.1' }],
      startTime: this.startTime,
      conditions: [
        this.condition('PodReadyToStartContainers', true),
        this.condition('Initialized', this.initDone),
        this.condition('Ready', containersReady && sidecarsReady),
        this.condition('ContainersReady', containersReady),
        this.condition('PodScheduled', true),
      ],
      containerStatuses: main,
    };
    if (specInit.length) status.initContainerStatuses = init;
    return status;
  }

  schedulePatch() {
    if (this.patchTimer || this.stopped) return;
    this.patchTimer = setTimeout(() => {
      this.patchTimer = null;
      if (this.stopped) return;
      const doc = this.statusDoc();
      this.patching = this.patching.then(() =>
        this.kubelet.kube.patchPodStatus(this.pod.metadata.namespace, this.pod.metadata.name, doc).catch((err) => {
          if (err.status === 404) return;  // deleted: the informer stops us
          this.log(`status update failed: ${err.message}; retrying`);
          setTimeout(() => this.schedulePatch(), 500);
        }));
    }, 50);
  }

  describe() {
    return {
      namespace: this.pod.metadata.namespace,
      name: this.pod.metadata.name,
      uid: this.uid,
      labels: this.pod.metadata.labels || {},
      dir: this.dir,
      ports: this.portMap,
      containers: [...this.init, ...this.containers].map((c) => ({
        name: c.name,
        pid: c.pid,
        running: c.running,
        restartCount: c.restartCount,
        limitBytes: c.limit,
        peakRssBytes: c.peakRss,
        state: c.state,
        lastState: c.lastState,
        logFile: c.logFile,
        command: [c.proc.file, ...c.proc.args],
        env: c.proc.env,
      })),
    };
  }
}

module.exports = { PodWorker };
