// What writing a heap snapshot costs a Node process: builds a heap of about --mb MiB (V8 heap
// used), then writes one snapshot, either itself (v8.writeHeapSnapshot) or through its inspector
// from outside (--capture-cmd: e.g. `oomscope capture`, what the sidecar does), and prints one
// JSON line: heap used, file bytes, RSS before, peak RSS during (VmHWM after resetting it through
// /proc/self/clear_refs), seconds.
// --shape array: the heap is instead mostly one array of references to four strings (the story's
// leak), whose snapshot costs several times more per heap byte.
//   node --expose-gc --max-old-space-size=8192 [--inspect=127.0.0.1:0] snapshot_cost.js \
//        --mb 300 --out DIR [--shape mixed|array] [--capture-cmd 'oomscope capture --count 1 --interval 0 --out DIR --inspector']
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const inspector = require('node:inspector');
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const targetBytes = Number(opt('mb', 35)) * 1024 * 1024;
const outDir = opt('out', '.');
const captureCmd = opt('capture-cmd', '');
const shape = opt('shape', 'mixed');

function status(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm'));
  return Number(m[1]) * 1024;
}

// A mixed heap, like an application's: objects with several properties, class instances,
// strings, arrays, Maps and closures, all reachable from one root.
class Session { constructor(i) { this.id = i; this.user = 'user-' + (i % 5000); this.tags = ['a', 'b', String(i)]; this.at = Date.now(); } }
const root = { objects: [], maps: [], fns: [] };
globalThis.snapshotCostRoot = root;
let i = 0;
const exts = ['.pdf', '.png', '.jpg', '.docx'];
while (shape === 'array') {
  for (let k = 0; k < 40000; k++) root.objects.push(exts[k & 3]);
  if (process.memoryUsage().heapUsed >= targetBytes) break;
}
while (shape === 'mixed') {
  for (let k = 0; k < 10000; k++, i++) {
    root.objects.push(new Session(i));
    root.objects.push({ n: i, s: 'payload-' + i + '-' + 'x'.repeat(i % 40), list: [i, i + 1, i + 2] });
    if (i % 10 === 0) { const m = new Map(); m.set('k' + i, root.objects[root.objects.length - 1]); root.maps.push(m); }
    if (i % 20 === 0) { const captured = i; root.fns.push(() => captured); }
  }
  if (process.memoryUsage().heapUsed >= targetBytes) break;
}
global.gc();
const heapUsed = process.memoryUsage().heapUsed;
const rssBefore = status('VmRSS');
fs.writeFileSync('/proc/self/clear_refs', '5');  // VmHWM := VmRSS
const start = process.hrtime.bigint();

function report(file, how) {
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = status('VmHWM');
  const fileBytes = fs.statSync(file).size;
  console.log(JSON.stringify({
    how, shape, mb: Number(opt('mb', 35)), heap_used: heapUsed, file_bytes: fileBytes, rss_before: rssBefore, peak_rss: peak,
    peak_growth: peak - rssBefore, seconds: Number(seconds.toFixed(2)),
    file_per_heap: Number((fileBytes / heapUsed).toFixed(3)),
    growth_per_file: Number(((peak - rssBefore) / fileBytes).toFixed(3)),
    growth_per_heap: Number(((peak - rssBefore) / heapUsed).toFixed(3)),
  }));
  fs.rmSync(file, { force: true });
}

if (!captureCmd) {
  const file = v8.writeHeapSnapshot(path.join(outDir, 'cost-' + process.pid + '.heapsnapshot'));
  report(file, 'v8.writeHeapSnapshot');
} else {
  const port = new URL(inspector.url()).port;
  const dir = path.join(outDir, 'cost-' + process.pid);
  const argv = captureCmd.split(' ').concat(['127.0.0.1:' + port, '--out', dir, '--count', '1', '--interval', '0', '--quiet']);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.on('exit', (code) => {
    if (code !== 0) { console.error('capture failed: exit ' + code); process.exit(1); }
    report(out.trim().split('\n').pop(), 'inspector (HeapProfiler.takeHeapSnapshot)');
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}
