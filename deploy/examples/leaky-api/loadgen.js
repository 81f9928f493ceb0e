'use strict';

// Bounded HTTP load generator (no dependencies).
//
//   node loadgen.js URL [--requests N] [--concurrency C] [--method GET|POST]
//                       [--body JSON] [--timeout-ms T] [--allow-remote]
//
// Sends exactly N requests (default 1000) with at most C in flight (default 8)
// over keep-alive connections, prints a one-line JSON summary and exits.
// Exit status: 0 if every request got a non-5xx response, 1 otherwise,
// 2 on bad usage. Only loopback targets are accepted unless --allow-remote.

const http = require('node:http');

function parseArgs(argv) {
  const opts = {
    url: null,
    requests: 1000,
    concurrency: 8,
    method: 'GET',
    body: null,
    timeoutMs: 60000,
    allowRemote: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--requests' || arg === '-n') opts.requests = Number(next());
    else if (arg === '--concurrency' || arg === '-c') opts.concurrency = Number(next());
    else if (arg === '--method' || arg === '-X') opts.method = next().toUpperCase();
    else if (arg === '--body' || arg === '-d') opts.body = next();
    else if (arg === '--timeout-ms') opts.timeoutMs = Number(next());
    else if (arg === '--allow-remote') opts.allowRemote = true;
    else if (arg === '--help' || arg === '-h') opts.help = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else if (opts.url === null) opts.url = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (opts.help) return opts;
  if (!opts.url) throw new Error('URL is required');
  if (!Number.isInteger(opts.requests) || opts.requests < 0) throw new Error('--requests must be an integer >= 0');
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error('--concurrency must be an integer >= 1');
  if (!(opts.timeoutMs > 0)) throw new Error('--timeout-ms must be > 0');
  return opts;
}

function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

// Sends `requests` requests to `url`, at most `concurrency` at a time.
// Resolves with a summary; never rejects for per-request failures.
function run({ url, requests = 1000, concurrency = 8, method = 'GET', body = null, timeoutMs = 60000 }) {
  const target = new URL(url);
  if (target.protocol !== 'http:') return Promise.reject(new Error('only http:// URLs are supported'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const payload = body === null ? null : Buffer.from(body);
  const statuses = {};
  let ok = 0;
  let failed = 0;
  let started = 0;
  let finished = 0;
  let firstError = null;
  const t0 = process.hrtime.bigint();

  return new Promise((resolve) => {
    let done = false;
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      agent.destroy();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({
        url: target.href,
        requests,
        sent: started,
        completed: finished,
        ok,
        failed,
        statuses,
        timedOut,
        firstError,
        seconds: Number(seconds.toFixed(3)),
        rps: seconds > 0 ? Math.round(finished / seconds) : 0,
      });
    };
    const deadline = setTimeout(() => finish(true), timeoutMs);

    const launch = () => {
      if (done) return;
      if (started >= requests) {
        if (finished >= requests) finish(false);
        return;
      }
      started++;
      const headers = {};
      if (payload) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = payload.length;
      }
      const req = http.request(target, { method, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
          if (res.statusCode < 500) ok++;
          else failed++;
          finished++;
          launch();
        });
      });
      req.on('error', (err) => {
        failed++;
        finished++;
        if (!firstError) firstError = err.message;
        launch();
      });
      req.end(payload || undefined);
    };

    if (requests === 0) {
      finish(false);
      return;
    }
    for (let i = 0; i < Math.min(concurrency, requests); i++) launch();
  });
}

module.exports = { run, parseArgs, isLoopback };

if (require.main === module) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`loadgen: ${err.message}`);
    console.error('usage: node loadgen.js URL --requests N --concurrency C [--method M] [--body JSON] [--timeout-ms T]');
    process.exit(2);
  }
  if (opts.help) {
    console.log('usage: node loadgen.js URL --requests N --concurrency C [--method M] [--body JSON] [--timeout-ms T] [--allow-remote]');
    process.exit(0);
  }
  let hostname;
  try {
    hostname = new URL(opts.url).hostname;
  } catch {
    console.error(`loadgen: invalid URL ${opts.url}`);
    process.exit(2);
  }
  if (!opts.allowRemote && !isLoopback(hostname)) {
    console.error(`loadgen: refusing non-loopback target ${hostname} (pass --allow-remote to override)`);
    process.exit(2);
  }
  run(opts).then(
    (summary) => {
      console.log(JSON.stringify(summary));
      process.exit(summary.failed === 0 && !summary.timedOut ? 0 : 1);
    },
    (err) => {
      console.error(`loadgen: ${err.message}`);
      process.exit(2);
    },
  );
}
