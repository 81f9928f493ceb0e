// A stand-in for the analyzer's upload endpoint (POST /v1/snapshots, docs/api.md), for the
// sidecar's tests: checks the bearer token and the content hash, stores each snapshot once by
// hash, and can misbehave on purpose.
//   node receiver.js --dir DIR --token T [--port P] [--fail-first N] [--reset-first N] [--max-bytes B]
// Prints "listening PORT" on stdout. GET /stats returns {"stored", "duplicates", "requests", "gzip"}.
// A body with Content-Encoding: gzip is inflated while stored; the hash is checked against the
// inflated bytes and Content-Length against the compressed ones (docs/api.md). Each stored
// snapshot's metadata file also records how it arrived ("received": {encoding, body_bytes}).
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dir = opt('dir');
const token = opt('token', 't0ken');
let failFirst = Number(opt('fail-first', 0));
let resetFirst = Number(opt('reset-first', 0));
const maxBytes = Number(opt('max-bytes', 1 << 30));
fs.mkdirSync(dir, { recursive: true });
const stats = { stored: 0, duplicates: 0, requests: 0, gzip: 0 };

const send = (res, code, body) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return send(res, 200, stats);
  if (req.method !== 'POST' || req.url !== '/v1/snapshots') return send(res, 404, { code: 'NotFound', message: 'no such endpoint' });
  stats.requests++;
  if (req.headers.authorization !== 'Bearer ' + token) return send(res, 401, { code: 'Unauthenticated', message: 'bad token' });
  if (failFirst > 0) {
    failFirst--;
    req.resume();
    return send(res, 503, { code: 'Unavailable', message: 'starting up' });
  }
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > maxBytes) {
    req.resume();
    return send(res, 413, { code: 'ResourceExhausted', message: 'snapshot larger than ' + maxBytes + ' bytes' });
  }
  const cut = resetFirst > 0;
  if (cut) resetFirst--;
  const tmp = path.join(dir, 'tmp-' + process.hrtime.bigint());
  const out = fs.createWriteStream(tmp);
  out.on('error', () => {});  // writes queued before a deliberate cut fail: expected
  req.on('error', () => {});
  const hash = crypto.createHash('sha256');
  const encoding = req.headers['content-encoding'] || 'identity';
  if (encoding !== 'identity' && encoding !== 'gzip') {
    req.resume();
    return send(res, 415, { code: 'InvalidArgument', message: 'unsupported Content-Encoding ' + encoding });
  }
  let received = 0;
  let failed = false;
  req.on('data', (chunk) => {
    received += chunk.length;
    if (cut && received > declared / 2) {
      failed = true;
      req.socket.destroy();  // the network cut mid-upload
      out.destroy();
      fs.rmSync(tmp, { force: true });
    }
  });
  const body = encoding === 'gzip' ? req.pipe(zlib.createGunzip()) : req;
  body.on('data', (chunk) => {
    if (failed) return;
    hash.update(chunk);
    out.write(chunk);
  });
  body.on('error', (e) => {
    if (failed) return;
    failed = true;
    out.destroy();
    fs.rmSync(tmp, { force: true });
    send(res, 400, { code: 'InvalidArgument', message: 'bad gzip body: ' + e.message });
  });
  body.on('end', () => {
    if (failed) return;
    if (received !== declared) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      return send(res, 400, { code: 'InvalidArgument', message: 'body of ' + received + ' bytes, Content-Length ' + declared });
    }
    out.end(() => {
      const sha = hash.digest('hex');
      if (sha !== req.headers['x-oomscope-sha256']) {
        fs.rmSync(tmp, { force: true });
        return send(res, 400, { code: 'InvalidArgument', message: 'content hash mismatch' });
      }
      let meta = {};
      try { meta = JSON.parse(req.headers['x-oomscope-metadata'] || '{}'); } catch (e) {}
      const final = path.join(dir, sha + '.heapsnapshot');
      if (fs.existsSync(final)) {
        fs.rmSync(tmp, { force: true });
        stats.duplicates++;
        return send(res, 200, { id: sha.slice(0, 16), series: meta.series || '', duplicate: true });
      }
      fs.renameSync(tmp, final);
      meta.received = { encoding, body_bytes: received };
      fs.writeFileSync(final + '.meta.json', JSON.stringify(meta));
      stats.stored++;
      if (encoding === 'gzip') stats.gzip++;
      send(res, 201, { id: sha.slice(0, 16), series: meta.series || '' });
    });
  });
}).listen(Number(opt('port', 0)), '127.0.0.1', function () {
  console.log('listening ' + this.address().port);
});
