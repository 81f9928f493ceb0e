'use strict';

// A kubelet stand-in for end-to-end tests: turns the pods of a Kubernetes API server (the
// emulator, tests/emulator/apiserver.js) into real processes on this machine.
//
//   node tests/e2e/kubelet.js --server http://127.0.0.1:PORT [--token T] [--node e2e-node]
//        [--bin-dir DIR] [--bin NAME=PATH ...] [--work-dir DIR] [--listen 127.0.0.1:0]
//        [--sample-ms 100] [--grace-ms 3000] [--verbose] [--exit-with-stdin]
//        [--container-env CONTAINER:KEY=VALUE ...] [--limit-scale CONTAINER=FACTOR ...]
//
// Prints `kubelet listening http://127.0.0.1:PORT` once it serves and has listed the pods.
// - Binds each Pending pod without a node to --node (pods/binding), then runs the pods bound
//   to it: init containers, native sidecars (init containers with restartPolicy Always), then
//   containers, each as a process with the pod's environment (downward API included).
// - Enforces each container's memory limit: RSS of its process group sampled from /proc every
//   --sample-ms; past the limit, SIGKILL and `lastState.terminated.reason: OOMKilled`, exit
//   code 137, restartCount + 1, as the kubelet reports a kernel OOM kill. Restarts containers
//   with a short backoff (0.5 s doubling to 4 s) and reports Running/Ready.
// - Stops the processes of deleted pods (SIGTERM, SIGKILL after --grace-ms); for a pod marked
//   with deletionTimestamp it then deletes it for good, as the kubelet does.
// - --container-env sets a default environment variable for containers of one name, applied
//   only where the pod does not set it: the e2e test shortens the sidecar's series interval with
//   it (OOMSCOPE_SERIES_INTERVAL_SECONDS), as a cluster admin's mutating webhook could.
// - --limit-scale oomscope-sidecar=4 enforces that container's limit times 4: the ASan+UBSan
//   test tree runs sanitized sidecars, which need several times the memory of the real one.
//   Sanitizer options (ASAN_OPTIONS, ...) pass from the kubelet's environment to containers.
// - GET /pods on its own port: each pod's host ports, processes, restarts, peak RSS, log files.
// How ports, paths and images map onto one machine: kubelet/pod_runtime.js.

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { KubeClient } = require('./kubelet/kube_client');
const { PodWorker } = require('./kubelet/pod_worker');
const { rssByProcessGroup } = require('./kubelet/container');

const REPO = path.resolve(__dirname, '..', '..');

// Image -> working directory and default command (the image's entrypoint).
function defaultImageTable() {
  const leaky = path.join(REPO, 'deploy', 'examples', 'leaky-api');
  return [
    { match: /(^|\/)leaky-api(:|@|$)/, cwd: leaky, command: ['node', 'server.js'] },
    {
      match: /(^|\/)oomscope(-sidecar)?(:|@|$)/,
      cwd: null,
      command: ['oomscope-sidecar'],
      env: { OOMSCOPE_LISTEN: '0.0.0.0:9464', OOMSCOPE_INSPECTOR: '127.0.0.1:9229' },
    },
    { match: /(^|\/)node(:|@|$)/, cwd: leaky, command: ['node'] },
  ];
}

function parseArgs(argv) {
  const o = {
    server: '', token: '', node: 'e2e-node', binDir: '', bins: {}, workDir: '', listen: '127.0.0.1:0',
    sampleMs: 100, graceMs: 3000, verbose: false, containerEnv: {}, limitScale: {},
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--server') o.server = next();
    else if (a === '--token') o.token = next();
    else if (a === '--node') o.node = next();
    else if (a === '--bin-dir') o.binDir = next();
    else if (a === '--bin') {
      const [k, ...v] = next().split('=');
      o.bins[k] = v.join('=');
    } else if (a === '--work-dir') o.workDir = next();
    else if (a === '--listen') o.listen = next();
    else if (a === '--sample-ms') o.sampleMs = Number(next());
    else if (a === '--grace-ms') o.graceMs = Number(next());
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--exit-with-stdin') o.exitWithStdin = true;
    else if (a === '--limit-scale') {
      // CONTAINER=FACTOR: enforce that container's memory limit times FACTOR
      const [k, f] = next().split('=');
      if (!(Number(f) > 0)) throw new Error(`--limit-scale takes CONTAINER=FACTOR, not ${k}=${f}`);
      o.limitScale[k] = Number(f);
    } else if (a === '--container-env') {
      // CONTAINER:KEY=VALUE, a default for containers of that name that do not set KEY
      const v = next();
      const m = /^([^:]+):([^=]+)=(.*)$/.exec(v);
      if (!m) throw new Error(`--container-env takes CONTAINER:KEY=VALUE, not ${v}`);
      (o.containerEnv[m[1]] = o.containerEnv[m[1]] || {})[m[2]] = m[3];
    }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.server) throw new Error('--server is required');
  return o;
}

class Kubelet {
  constructor(opts) {
    this.opts = opts;
    this.kube = new KubeClient(opts.server, { token: opts.token });
    this.workDir = opts.workDir || fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-kubelet-'));
    fs.mkdirSync(this.workDir, { recursive: true });
    this.imageTable = defaultImageTable();
    this.binaries = {};
    if (opts.binDir) {
      for (const name of ['oomscope', 'oomscope-sidecar', 'oomscope-analyzer', 'oomscope-operator']) {
        const p = path.join(opts.binDir, name);
        if (fs.existsSync(p)) this.binaries[name] = p;
      }
    }
    Object.assign(this.binaries, opts.bins);
    this.workers = new Map();  // uid -> PodWorker
    this.binding = new Set();  // uids with a binding in flight
    this.deleting = new Set();
    this.stopWatch = null;
    this.closed = false;
  }

  log(msg) {
    if (this.opts.verbose || /OOM kill|exited|failed|cannot/.test(msg)) {
      process.stderr.write(`kubelet ${new Date().toISOString()} ${msg}\n`);
    }
  }

  async start() {
    await this.relist();
    this.sampler = setInterval(() => {
      const rss = rssByProcessGroup();
      for (const w of this.workers.values()) w.checkMemory(rss);
    }, this.opts.sampleMs);
    this.server = http.createServer((req, res) => this.serve(req, res));
    const [host, port] = [this.opts.listen.slice(0, this.opts.listen.lastIndexOf(':')), Number(this.opts.listen.slice(this.opts.listen.lastIndexOf(':') + 1))];
    await new Promise((resolve) => this.server.listen(port, host, resolve));
    return this.server.address().port;
  }

  serve(req, res) {
    const send = (status, body) => {
      const text = JSON.stringify(body, null, 1);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url === '/pods') return send(200, { node: this.opts.node, workDir: this.workDir, pods: [...this.workers.values()].map((w) => w.describe()) });
    return send(404, { error: 'not found' });
  }

  async relist() {
    if (this.closed) return;
    let list;
    try {
      list = await this.kube.listPods();
    } catch (err) {
      this.log(`list pods failed: ${err.message}; retrying`);
      setTimeout(() => this.relist(), 500);
      return;
    }
    const seen = new Set();
    for (const pod of list.items || []) {
      seen.add(pod.metadata.uid);
      this.reconcile(pod);
    }
    for (const [uid, w] of this.workers) if (!seen.has(uid)) this.remove(uid, w);
    this.watch(list.metadata.resourceVersion);
  }

  watch(rv) {
    if (this.closed) return;
    let lastRv = rv;
    this.stopWatch = this.kube.watchPods(rv, (ev) => {
      if (ev.type === 'ERROR') {
        this.log(`watch error ${JSON.stringify(ev.object)}; relisting`);
        lastRv = null;
        return;
      }
      const pod = ev.object;
      if (pod && pod.metadata && pod.metadata.resourceVersion) lastRv = pod.metadata.resourceVersion;
      if (ev.type === 'BOOKMARK') return;
      if (ev.type === 'DELETED') {
        const w = this.workers.get(pod.metadata.uid);
        if (w) this.remove(pod.metadata.uid, w);
        return;
      }
      this.reconcile(pod);
    }, (err) => {
      if (this.closed) return;
      if (err) this.log(`watch ended: ${err.message}`);
      // Resume from the last version seen; after an ERROR (410 Gone) relist.
      setTimeout(() => (lastRv ? this.watch(lastRv) : this.relist()), err ? 300 : 0);
    });
  }

  reconcile(pod) {
    if (this.closed) return;
    const uid = pod.metadata.uid;
    if (!pod.spec.nodeName) {
      if (pod.metadata.deletionTimestamp || this.binding.has(uid)) return;
      this.binding.add(uid);
      const { namespace, name } = pod.metadata;
      const retry = (err) => {
        this.binding.delete(uid);
        if (err.status === 404 || err.status === 409) return;  // gone, or bound meanwhile
        this.log(`binding ${namespace}/${name} failed: ${err.message}`);
        setTimeout(() => this.kube.get(`/api/v1/namespaces/${namespace}/pods/${name}`).then((p) => this.reconcile(p), () => {}), 500);
      };
      this.kube.bind(pod, this.opts.node).then(
        () => this.log(`${namespace}/${name}: bound to ${this.opts.node}`),
        (err) => {
          if (err.status !== 405 && err.status !== 404) return retry(err);
          // No pods/binding on this server: set spec.nodeName instead.
          return this.kube.setNodeName(namespace, name, this.opts.node).then(
            () => this.log(`${namespace}/${name}: nodeName set to ${this.opts.node}`), retry);
        });
      return;
    }
    if (pod.spec.nodeName !== this.opts.node) return;
    const w = this.workers.get(uid);
    if (pod.metadata.deletionTimestamp) {
      if (w) this.remove(uid, w, pod);
      else this.finalize(pod);
      return;
    }
    if (w) {
      w.pod = pod;  // spec is immutable; keep the latest metadata
      return;
    }
    if (['Succeeded', 'Failed'].includes((pod.status || {}).phase) && !this.workers.has(uid)) return;
    const worker = new PodWorker(pod, this);
    this.workers.set(uid, worker);
    this.log(`${worker.key}: starting`);
    worker.run();
  }

  finalize(pod) {
    const uid = pod.metadata.uid;
    if (this.deleting.has(uid)) return;
    this.deleting.add(uid);
    this.kube.deletePodNow(pod.metadata.namespace, pod.metadata.name, uid).catch((err) => {
      if (err.status !== 404 && err.status !== 409) this.log(`final delete failed: ${err.message}`);
    });
  }

  remove(uid, w, pod) {
    if (w.removing) return;
    w.removing = true;
    const grace = pod && pod.spec.terminationGracePeriodSeconds !== undefined
      ? Math.min(pod.spec.terminationGracePeriodSeconds * 1000, this.opts.graceMs)
      : this.opts.graceMs;
    this.log(`${w.key}: stopping`);
    w.stop(grace).then(() => {
      w.cleanup();
      this.workers.delete(uid);
      if (pod) this.finalize(pod);
    });
  }

  async close() {
    this.closed = true;
    if (this.stopWatch) this.stopWatch();
    clearInterval(this.sampler);
    await Promise.all([...this.workers.values()].map((w) => w.stop(this.opts.graceMs).then(() => w.cleanup())));
    if (this.server) this.server.close();
  }

  // Last resort on an unexpected exit: no process of ours may outlive us.
  killAllNow() {
    for (const w of this.workers.values()) {
      for (const c of [...w.init, ...w.containers]) {
        if (c.pid) {
          try {
            process.kill(-c.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
    }
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kubelet: ${err.message}\n`);
    process.exit(2);
  }
  const kubelet = new Kubelet(opts);
  process.on('exit', () => kubelet.killAllNow());
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    kubelet.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), opts.graceMs + 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (opts.exitWithStdin) {
    // The test holds our stdin: if it dies, so do we and our pods.
    process.stdin.on('end', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
  const port = await kubelet.start();
  process.stdout.write(`kubelet listening http://127.0.0.1:${port}\n`);
}

if (require.main === module) main();

module.exports = { Kubelet, parseArgs, defaultImageTable };
