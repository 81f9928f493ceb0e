'use strict';
// Upload-and-analyze throughput of oomscope-analyzer with several sidecars sending at once, and
// its peak RSS against its configured memory budget.
//
//   node bench/analyzer/bench.js --analyzer build/release/analyzer/oomscope-analyzer \
//        --snapshots bench/data/s30 --senders 4 --series 2 [--budget 1Gi] [--concurrency 2] [--gzip]
//
// Each sender plays one sidecar: it uploads `--series` series, each the snapshots of the
// directory in order (made distinct by trailing blanks, so every upload is stored and analyzed).
// Prints a markdown table; --out FILE also writes it.
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const args = { senders: 4, series: 2, budget: '1Gi', concurrency: 2, gzip: false };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  if (k === 'gzip') args.gzip = true;
  else args[k] = process.argv[++i];
}
const files = fs.readdirSync(args.snapshots).filter((f) => f.endsWith('.heapsnapshot')).sort().map((f) => path.join(args.snapshots, f));

function sha(file, pad) {
  return new Promise((resolve) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.update(' '.repeat(pad)).digest('hex')));
  });
}

function upload(port, file, pad, meta) {
  return sha(file, pad).then((hash) => new Promise((resolve, reject) => {
    const headers = {
      Authorization: 'Bearer bench', 'X-Oomscope-Sha256': hash, 'X-Oomscope-Metadata': JSON.stringify(meta),
      'Content-Type': 'application/octet-stream',
    };
    if (args.gzip) headers['Content-Encoding'] = 'gzip';
    else headers['Content-Length'] = fs.statSync(file).size + pad;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/snapshots', headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    const src = fs.createReadStream(file);
    const tail = ' '.repeat(pad);
    if (args.gzip) {
      const z = zlib.createGzip({ level: 1 });
      z.pipe(req);
      src.on('end', () => z.end(tail)).pipe(z, { end: false });
    } else {
      src.on('end', () => req.end(tail)).pipe(req, { end: false });
    }
  }));
}

function getJson(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

function getText(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

// "upload + analysis" parses from oomscope_analyzer_snapshot_parses_total ("-" for a build
// without it).
function parses(metrics) {
  const get = (stage) => {
    const m = new RegExp(`oomscope_analyzer_snapshot_parses_total\\{stage="${stage}"\\} (\\d+)`).exec(metrics);
    return m ? Number(m[1]) : null;
  };
  const u = get('upload'), a = get('analysis');
  return u === null ? '-' : `${u} + ${a}`;
}

function rssPeakKiB(pid) {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-bench-analyzer-'));
  fs.writeFileSync(path.join(dir, 'token'), 'bench\n');
  const child = spawn(args.analyzer, ['--listen', '127.0.0.1:0', '--store', path.join(dir, 'store'), '--token-file', path.join(dir, 'token'),
    '--memory-budget-bytes', args.budget, '--concurrency', String(args.concurrency), '--log-format', 'text'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((resolve) => {
    let seen = '';
    child.stderr.on('data', (d) => {
      seen += d;
      const m = /listening port=(\d+)/.exec(seen);
      if (m) resolve(Number(m[1]));
    });
  });
  child.stderr.resume();
  const start = process.hrtime.bigint();
  let bytes = 0, uploads = 0, pad = 0;
  const senders = [];
  for (let s = 0; s < Number(args.senders); s++) {
    senders.push((async () => {
      for (let k = 0; k < Number(args.series); k++) {
        const series = `bench-${s}-${k}`;
        for (let i = 0; i < files.length; i++) {
          const p = ++pad;
          await upload(port, files[i], p, { namespace: 'bench', workload: `w${s}`, pod: `p${s}`, series, sequence: i + 1, series_length: files.length, captured_at: 1795750000 + i * 60 });
          bytes += fs.statSync(files[i]).size + p;
          uploads++;
        }
      }
    })());
  }
  await Promise.all(senders);
  const uploaded = Number(process.hrtime.bigint() - start) / 1e9;
  for (;;) {
    const { series } = await getJson(port, '/v1/series');
    if (series.length === Number(args.senders) * Number(args.series) && series.every((x) => x.state === 'complete')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const done = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = rssPeakKiB(child.pid) * 1024;
  const parsed = parses(await getText(port, '/metrics'));
  child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  const budget = /Gi$/.test(args.budget) ? parseFloat(args.budget) * 2 ** 30 : /Mi$/.test(args.budget) ? parseFloat(args.budget) * 2 ** 20 : Number(args.budget);
  const mib = (b) => (b / 2 ** 20).toFixed(0);
  const cmd = `node bench/analyzer/bench.js ${process.argv.slice(2).join(' ')}`;
  const out = [
    `# oomscope-analyzer upload-and-analyze bench (${new Date().toISOString()})`, '',
    `\`${cmd}\``, '',
    `${os.cpus().length} CPUs; snapshots: ${files.map((f) => `${path.basename(f)} ${mib(fs.statSync(f).size)} MiB`).join(', ')}; ${args.gzip ? 'gzip' : 'raw'} uploads`, '',
    '| senders | series each | snapshots | MiB | all uploaded (s) | all analyzed (s) | snapshots/s | MiB/s | peak RSS MiB | memory budget MiB | RSS / budget | parses (upload + analysis) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${args.senders} | ${args.series} | ${uploads} | ${mib(bytes)} | ${uploaded.toFixed(1)} | ${done.toFixed(1)} | ${(uploads / done).toFixed(2)} | ${(bytes / 2 ** 20 / done).toFixed(1)} | ${mib(peak)} | ${mib(budget)} | ${(peak / budget).toFixed(2)} | ${parsed} |`,
    '',
  ].join('\n');
  process.stdout.write(out);
  if (args.out) fs.writeFileSync(args.out, out);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
