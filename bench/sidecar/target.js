// The app for the capture benchmark: builds a heap of about --mb MiB (V8 heap used), then waits
// on a control port (printed as "control PORT" on stdout):
//   POST /write   writes a snapshot itself with v8.writeHeapSnapshot() into --out and answers
//                 {"seconds", "bytes", "file"} (the time measured around the call);
//   GET /memory   process.memoryUsage().
//   POST /hwm-reset  resets the process's peak RSS (VmHWM, through /proc/self/clear_refs);
//   GET /hwm      {"rss_at_reset", "peak"}: how much the process grew while a client captured.
// Start it with --inspect=127.0.0.1:0 so the clients can capture the same heap.
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf('--' + name); return i >= 0 ? args[i + 1] : dflt; };
const target = Number(opt('mb', 300)) * 1024 * 1024;
const out = opt('out', '/tmp');

// A mixed heap like an application's (the same shape as bench/snapshot_cost.js).
class Session { constructor(i) { this.id = i; this.user = 'user-' + (i % 5000); this.tags = ['a', 'b', String(i)]; this.at = Date.now(); } }
const root = { objects: [], maps: [], fns: [] };
globalThis.benchRoot = root;
for (let i = 0; process.memoryUsage().heapUsed < target;) {
  for (let k = 0; k < 10000; k++, i++) {
    root.objects.push(new Session(i));
    root.objects.push({ n: i, s: 'payload-' + i + '-' + 'x'.repeat(i % 40), list: [i, i + 1, i + 2] });
    if (i % 10 === 0) { const m = new Map(); m.set('k' + i, root.objects[root.objects.length - 1]); root.maps.push(m); }
    if (i % 20 === 0) { const c = i; root.fns.push(() => c); }
  }
}

const status = (field) => Number(fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm'))[1]) * 1024;
let rssAtReset = 0;
const resetPeak = () => { rssAtReset = status('VmRSS'); fs.writeFileSync('/proc/self/clear_refs', '5'); };
let n = 0;
const server = http.createServer((req, res) => {
  const reply = (body) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (req.method === 'POST' && req.url === '/write') {
    const file = path.join(out, `self-${process.pid}-${++n}.heapsnapshot`);
    resetPeak();
    const t0 = process.hrtime.bigint();
    v8.writeHeapSnapshot(file);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return reply({ seconds, bytes: fs.statSync(file).size, file, peak_growth: status('VmHWM') - rssAtReset });
  }
  if (req.method === 'POST' && req.url === '/hwm-reset') { resetPeak(); return reply({ rss: rssAtReset }); }
  if (req.url === '/hwm') return reply({ rss_at_reset: rssAtReset, peak_growth: status('VmHWM') - rssAtReset });
  if (req.url === '/memory') return reply(process.memoryUsage());
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => console.log('control ' + server.address().port));
