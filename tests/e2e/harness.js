'use strict';

// Helpers for the end-to-end tests: child processes that announce readiness with a line, are
// logged to files, and are all stopped (SIGTERM, then SIGKILL) by stopAll(); condition waits
// with a deadline; a bounded HTTP load driver; a tiny HTTP GET; Prometheus text lookups.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

class Processes {
  constructor(logDir) {
    this.logDir = logDir;
    this.list = [];
  }

  // Starts `file args`; resolves with {child, match} once a line of its stdout/stderr matches
  // `ready` (a RegExp; match is the RegExp result). Rejects if it exits first or after
  // `timeoutMs`.
  start(name, file, args, { ready, env, cwd, timeoutMs = 60000, stdin = 'ignore' } = {}) {
    const logFile = path.join(this.logDir, `${name}.log`);
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    const child = spawn(file, args, { env: { ...process.env, ...(env || {}) }, cwd, stdio: [stdin, 'pipe', 'pipe'] });
    const entry = { name, child, logFile, exited: false };
    this.list.push(entry);
    entry.exit = new Promise((resolve) => child.on('exit', (code, signal) => {
      entry.exited = true;
      entry.code = code;
      entry.signal = signal;
      resolve();
    }));
    return new Promise((resolve, reject) => {
      let done = !ready;
      let buf = '';
      const timer = ready && setTimeout(() => {
        if (done) return;
        done = true;
        reject(new Error(`${name} did not print ${ready} within ${timeoutMs} ms; log: ${logFile}\n${this.tail(logFile)}`));
      }, timeoutMs);
      const onData = (d) => {
        log.write(d);
        if (done) return;
        buf += d.toString('utf8');
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = ready.exec(line);
          if (m && !done) {
            done = true;
            clearTimeout(timer);
            resolve({ child, match: m, entry });
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(err);
      });
      child.on('exit', (code, signal) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        setTimeout(() => reject(new Error(`${name} exited (${code ?? signal}) before it was ready; log:\n${this.tail(logFile)}`)), 50);
      });
      if (!ready) resolve({ child, match: null, entry });
    });
  }

  tail(file, bytes = 3000) {
    try {
      const s = fs.readFileSync(file, 'utf8');
      return s.length > bytes ? s.slice(-bytes) : s;
    } catch {
      return '';
    }
  }

  // Stops everything, last started first.
  async stopAll(graceMs = 8000) {
    for (const e of [...this.list].reverse()) {
      if (e.exited) continue;
      e.child.kill('SIGTERM');
      const t = setTimeout(() => e.child.kill('SIGKILL'), graceMs);
      await e.exit;
      clearTimeout(t);
    }
  }
}

async function waitFor(what, fn, { timeoutMs = 60000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function httpGet(url, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function getJson(url) {
  const r = await httpGet(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
}

// Samples of `name` in Prometheus text whose labels include all of `labels`.
function metricSamples(text, name, labels = {}) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = {};
    for (const kv of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) l[kv[1]] = kv[2];
    if (Object.entries(labels).every(([k, v]) => l[k] === v)) out.push({ labels: l, value: Number(m[4]) });
  }
  return out;
}

// Keeps `concurrency` requests in flight against each target URL that targets() returns (it is
// asked again every refreshMs), until stop() or `maxRequests` in all. Errors (a pod restarting)
// are counted, not fatal.
class LoadDriver {
  constructor(targets, { concurrency = 8, maxRequests = 3000000, refreshMs = 300 } = {}) {
    this.targets = targets;
    this.concurrency = concurrency;
    this.maxRequests = maxRequests;
    this.refreshMs = refreshMs;
    this.rate = 0;  // requests per second over all targets; 0: as fast as they answer
    this.tokens = 0;
    this.refilled = Date.now();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.active = new Map();  // url -> in flight
    this.sent = 0;
    this.ok = 0;
    this.failed = 0;
    this.stopped = false;
  }

  start() {
    const refresh = async () => {
      if (this.stopped) return;
      let urls = [];
      try {
        urls = await this.targets();
      } catch {
        // the kubelet is busy; next round
      }
      for (const u of urls) if (!this.active.has(u)) this.active.set(u, 0);
      for (const u of [...this.active.keys()]) if (!urls.includes(u)) this.active.delete(u);
      for (const u of this.active.keys()) while (this.active.get(u) < this.concurrency && this.launch(u));
      this.timer = setTimeout(refresh, this.refreshMs);
    };
    refresh();
    return this;
  }

  // Caps the load at `rps` requests per second (0 lifts the cap). A production service sees
  // steady traffic; flat out, one pod of the leaky API serves ~10k requests a second and its leak
  // grows ~1 MB of heap a second, which no real pod does.
  setRate(rps) {
    this.rate = rps;
    this.tokens = 0;
    this.refilled = Date.now();
    clearInterval(this.pump);
    if (rps > 0) {
      // Requests that found no token wait here, not for the next refresh.
      this.pump = setInterval(() => {
        for (const u of this.active.keys()) while (this.active.get(u) < this.concurrency && this.launch(u));
      }, 20);
    }
    return this;
  }

  takeToken() {
    if (this.rate <= 0) return true;
    const now = Date.now();
    // A bucket of 50 ms worth of requests: short bursts, the rate on average.
    this.tokens = Math.min(this.rate / 20, this.tokens + ((now - this.refilled) / 1000) * this.rate);
    this.refilled = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  launch(url) {
    if (this.stopped || this.sent >= this.maxRequests || !this.takeToken()) return false;
    this.sent++;
    this.active.set(url, (this.active.get(url) || 0) + 1);
    const done = (ok) => {
      if (ok) this.ok++;
      else this.failed++;
      if (this.active.has(url)) {
        this.active.set(url, this.active.get(url) - 1);
        if (ok) this.launch(url);  // a failed target waits for the next refresh
      }
    };
    const req = http.get(url, { agent: this.agent, timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode < 500));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pump);
    this.agent.destroy();
  }
}

// Whether `pid` is a live process (a zombie counts as gone).
function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

module.exports = { Processes, waitFor, httpGet, getJson, metricSamples, LoadDriver, alive };
