'use strict';

// The kubelet stand-in's rules (tests/e2e/kubelet/pod_runtime.js) and its OOM killer on a real
// process. Run: node --test tests/e2e/kubelet_unit.test.js

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const rt = require('./kubelet/pod_runtime');
const { Container, rssByProcessGroup } = require('./kubelet/container');
const { defaultImageTable } = require('./kubelet');

test('quantities', () => {
  assert.equal(rt.parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(rt.parseQuantity('1G'), 1e9);
  assert.equal(rt.parseQuantity('500m'), 0.5);
  assert.equal(rt.parseQuantity('1e3'), 1000);
  assert.equal(rt.parseQuantity(undefined), null);
  assert.throws(() => rt.parseQuantity('12Qi'));
});

test('ports: the inspector, host:port values and PORT map to the pod\'s host ports', () => {
  const map = { 3000: 41001, 9229: 41002, 9464: 41003 };
  assert.equal(rt.rewritePorts('--max-old-space-size=100 --inspect=127.0.0.1:9229', map),
    '--max-old-space-size=100 --inspect=127.0.0.1:41002');
  assert.equal(rt.rewritePorts('--inspect', map), '--inspect=127.0.0.1:41002');
  assert.equal(rt.rewritePorts('--inspect=9229 --x', map), '--inspect=127.0.0.1:41002 --x');
  assert.equal(rt.rewritePorts('--inspect-brk=0.0.0.0:9229', map), '--inspect-brk=127.0.0.1:41002');
  assert.equal(rt.rewritePorts('0.0.0.0:9464', map), '127.0.0.1:41003');
  assert.equal(rt.rewritePorts('http://localhost:3000/x', map), 'http://127.0.0.1:41001/x');
  assert.equal(rt.rewritePorts('http://analyzer.example:8080', map), 'http://analyzer.example:8080');
  assert.equal(rt.rewritePorts('127.0.0.1:5555', map), '127.0.0.1:5555');
});

test('paths under a mount map to the volume\'s directory', () => {
  const mounts = [{ mountPath: '/var/run/oomscope/token', dir: '/tmp/p/tok' }, { mountPath: '/var/lib/oomscope', dir: '/tmp/p/spool' }];
  assert.equal(rt.rewritePaths('/var/lib/oomscope/spool', mounts), '/tmp/p/spool/spool');
  assert.equal(rt.rewritePaths('/var/lib/oomscope', mounts), '/tmp/p/spool');
  assert.equal(rt.rewritePaths('--diagnostic-dir=/var/lib/oomscope/diag', mounts), '--diagnostic-dir=/tmp/p/spool/diag');
  assert.equal(rt.rewritePaths('/var/lib/oomscopex', mounts), '/var/lib/oomscopex');
  assert.equal(rt.rewritePaths('/var/run/oomscope/token/token', mounts), '/tmp/p/tok/token');
  // NODE_OPTIONS as the operator's recipe writes it: each word on its own.
  assert.equal(rt.rewritePaths('--inspect=127.0.0.1:9229 --heapsnapshot-near-heap-limit=1 --diagnostic-dir=/var/lib/oomscope --x', mounts),
    '--inspect=127.0.0.1:9229 --heapsnapshot-near-heap-limit=1 --diagnostic-dir=/tmp/p/spool --x');
});

function recipePod() {
  return {
    metadata: { name: 'leaky-api-abc-x1', namespace: 'shop', uid: 'u1', labels: { app: 'leaky-api' } },
    spec: {
      nodeName: 'e2e-node',
      volumes: [{ name: 'spool', emptyDir: {} }, { name: 'token', secret: { secretName: 'oomscope-upload-token' } }],
      initContainers: [{
        name: 'oomscope-sidecar',
        image: 'ghcr.io/oomscope/oomscope:0.1.0',
        restartPolicy: 'Always',
        command: ['/usr/local/bin/oomscope-sidecar'],
        args: ['--once'],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'APP_MEMORY_LIMIT', valueFrom: { resourceFieldRef: { containerName: 'api', resource: 'limits.memory' } } },
          { name: 'OOMSCOPE_INSPECTOR', value: '127.0.0.1:9229' },
          { name: 'OOMSCOPE_SPOOL_DIR', value: '/var/lib/oomscope/spool' },
          { name: 'OOMSCOPE_TOKEN_FILE', value: '/var/run/secrets/oomscope/token' },
          { name: 'WHO', value: '$(POD_NAMESPACE)/$(POD_NAME)' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'oomscope-upload-token', key: 'token' } } },
        ],
        volumeMounts: [{ name: 'spool', mountPath: '/var/lib/oomscope' }, { name: 'token', mountPath: '/var/run/secrets/oomscope', readOnly: true }],
      }],
      containers: [{
        name: 'api',
        image: 'oomscope/leaky-api:1.0',
        ports: [{ containerPort: 3000 }],
        env: [{ name: 'PORT', value: '3000' }, { name: 'HOST', value: '0.0.0.0' }, { name: 'NODE_OPTIONS', value: '--inspect=127.0.0.1:9229' }],
        resources: { limits: { memory: '96Mi' } },
      }],
    },
  };
}

test('a recipe pod: sidecar and app meet on one inspector port; downward API, secrets, mounts', () => {
  const pod = recipePod();
  assert.deepEqual(rt.podPorts(pod), [3000, 9229, 9464]);
  const portMap = { 3000: 41001, 9229: 41002, 9464: 41003 };
  const lookups = { secrets: { 'oomscope-upload-token': { token: 's3cret' } }, configMaps: {} };
  const ctx = {
    portMap, lookups, imageTable: defaultImageTable(), hostEnv: { PATH: '/usr/bin', ASAN_OPTIONS: 'detect_leaks=1', SECRET_OF_HOST: 'x' }, defaultCwd: '/tmp',
    binaries: { 'oomscope-sidecar': '/build/sidecar/oomscope-sidecar' },
  };
  const side = rt.containerProcess(pod, pod.spec.initContainers[0], {
    ...ctx,
    mounts: [{ mountPath: '/var/run/secrets/oomscope', dir: '/tmp/p/token' }, { mountPath: '/var/lib/oomscope', dir: '/tmp/p/spool' }],
  });
  assert.equal(side.file, '/build/sidecar/oomscope-sidecar');
  assert.deepEqual(side.args, ['--once']);
  assert.equal(side.env.POD_NAME, 'leaky-api-abc-x1');
  assert.equal(side.env.POD_NAMESPACE, 'shop');
  assert.equal(side.env.APP_MEMORY_LIMIT, String(96 * 2 ** 20));
  assert.equal(side.env.OOMSCOPE_INSPECTOR, '127.0.0.1:41002');
  assert.equal(side.env.OOMSCOPE_SPOOL_DIR, '/tmp/p/spool/spool');
  assert.equal(side.env.OOMSCOPE_TOKEN_FILE, '/tmp/p/token/token');
  assert.equal(side.env.WHO, 'shop/leaky-api-abc-x1');
  assert.equal(side.env.TOKEN, 's3cret');
  // The image's default listen address is made explicit, then mapped like any other.
  assert.equal(side.env.OOMSCOPE_LISTEN, '127.0.0.1:41003');
  // The node's sanitizer options reach the container; nothing else of the host's environment.
  assert.equal(side.env.ASAN_OPTIONS, 'detect_leaks=1');
  assert.equal(side.env.SECRET_OF_HOST, undefined);
  const app = rt.containerProcess(pod, pod.spec.containers[0], { ...ctx, mounts: [] });
  assert.equal(app.file, 'node');
  assert.deepEqual(app.args, ['server.js']);
  assert.match(app.cwd, /deploy\/examples\/leaky-api$/);
  assert.equal(app.env.PORT, '41001');
  assert.equal(app.env.HOST, '127.0.0.1');
  assert.equal(app.env.NODE_OPTIONS, '--inspect=127.0.0.1:41002');
  assert.equal(rt.memoryLimit(pod.spec.containers[0]), 96 * 2 ** 20);
  assert.ok(rt.isSidecar(pod.spec.initContainers[0]));
  // A missing Secret is an error the kubelet waits on, not an empty value.
  assert.throws(() => rt.containerProcess(pod, pod.spec.initContainers[0], { ...ctx, mounts: [], lookups: { secrets: {}, configMaps: {} } }), /not found/);
});

test('a process past its memory limit is OOM-killed (137, OOMKilled) and restarted', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-unit-'));
  const changes = [];
  let c;
  const limit = 80 * 2 ** 20;
  c = new Container({
    spec: { name: 'hog', image: 'node:20' },
    // Grows by 4 MiB every 20 ms and holds it.
    proc: { file: process.execPath, args: ['-e', 'const a=[];setInterval(()=>a.push(Buffer.alloc(4<<20,1)),20)'], cwd: dir, env: process.env },
    limit,
    restart: 'Always',
    logFile: path.join(dir, 'hog.log'),
    onChange: () => changes.push(JSON.parse(JSON.stringify(c.status()))),
    log: () => {},
  });
  c.start();
  const firstPid = c.pid;
  const sampler = setInterval(() => c.checkMemory(c.pid ? rssByProcessGroup().get(c.pid) || 0 : 0), 50);
  try {
    await c.exited;
    const st = c.status();
    assert.equal(st.restartCount, 1);
    assert.equal(st.lastState.terminated.reason, 'OOMKilled');
    assert.equal(st.lastState.terminated.exitCode, 137);
    assert.ok(c.peakRss > limit);
    assert.equal(st.state.waiting.reason, 'CrashLoopBackOff');
    // Restarted by the backoff timer, as a new process.
    while (!c.pid) await new Promise((r) => setTimeout(r, 50));
    assert.notEqual(c.pid, firstPid);
    assert.ok(changes.some((s) => s.state.running));
  } finally {
    clearInterval(sampler);
    await c.stop(1000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(c.pid, null);
});
