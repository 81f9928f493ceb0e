// A Node app for the sidecar's process tests, driven over a small HTTP control port (written to
// the file given by --control-file once it listens):
//   POST /grow?mb=N          retains about N MiB more of JS heap (objects and strings)
//   POST /grow?mb=N&shape=array   ... as one array of references to four strings: the story's
//                            leak, whose snapshot costs several times more memory per heap byte
//   POST /inspector/cycle?down_ms=M   closes the inspector (its sessions end), and reopens it
//                            on the same port M ms later, as an app restarting its inspector
//   GET  /memory             process.memoryUsage()
const http = require('node:http');
const inspector = require('node:inspector');
const fs = require('node:fs');

const args = process.argv.slice(2);
const controlFile = args[args.indexOf('--control-file') + 1];
const retained = [];
globalThis.retained = retained;
const refs = [];
globalThis.refs = refs;

function grow(mb) {
  const target = process.memoryUsage().heapUsed + mb * 1024 * 1024;
  while (process.memoryUsage().heapUsed < target) {
    const batch = [];
    for (let i = 0; i < 10000; i++) batch.push({ i, label: 'item-' + i + '-' + retained.length, tags: [i, i + 1] });
    retained.push(batch);
  }
}

function growArray(mb) {
  const target = process.memoryUsage().heapUsed + mb * 1024 * 1024;
  const exts = ['.pdf', '.png', '.jpg', '.docx'];
  while (process.memoryUsage().heapUsed < target) for (let i = 0; i < 10000; i++) refs.push(exts[i & 3]);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const reply = (code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (req.method === 'POST' && url.pathname === '/grow') {
    (url.searchParams.get('shape') === 'array' ? growArray : grow)(Number(url.searchParams.get('mb') || 10));
    return reply(200, process.memoryUsage());
  }
  if (req.method === 'POST' && url.pathname === '/inspector/cycle') {
    const port = Number(new URL(inspector.url()).port);
    inspector.close();
    reply(200, { closed: port });
    setTimeout(() => inspector.open(port, '127.0.0.1'), Number(url.searchParams.get('down_ms') || 1000));
    return;
  }
  if (url.pathname === '/memory') return reply(200, process.memoryUsage());
  reply(404, {});
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(controlFile + '.tmp', String(server.address().port));
  fs.renameSync(controlFile + '.tmp', controlFile);
});
