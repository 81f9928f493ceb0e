'use strict';
// Test helpers: start the emulator as a real child process, talk HTTP to it.
const { spawn } = require('child_process');
const http = require('http');
const https = require('https');
const path = require('path');
const fs = require('fs');

const APISERVER = path.join(__dirname, '..', 'apiserver.js');

function startEmulator(args = [], opts = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [APISERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`emulator did not start: ${err}`)); }, opts.timeoutMs || 15000);
    proc.stderr.on('data', d => { err += d; if (process.env.EMULATOR_DEBUG) process.stderr.write(d); });
    proc.stdout.on('data', d => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0 && timer) {
        clearTimeout(timer);
        const m = /^listening (https?:\/\/\S+)$/.exec(out.slice(0, nl));
        if (!m) { proc.kill('SIGKILL'); return reject(new Error(`bad ready line: ${out.slice(0, nl)}`)); }
        resolve({
          url: m[1], proc, stderr: () => err,
          stop: () => new Promise(r => { if (proc.exitCode !== null) return r(); proc.once('exit', () => r()); proc.kill('SIGTERM'); }),
        });
      }
    });
    proc.once('exit', code => { clearTimeout(timer); if (!out.includes('\n')) reject(new Error(`emulator exited ${code}: ${err}`)); });
  });
}

// One HTTP request; resolves {status, headers, rawHeaders, body, json}.
function request(base, method, p, { headers = {}, body, ca } = {}) {
  const u = new URL(p, base);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const h = { 'User-Agent': 'oomscope-emulator-test/1.0', Accept: 'application/json', ...headers };
    let data = body;
    if (data !== undefined && typeof data !== 'string' && !Buffer.isBuffer(data)) { data = JSON.stringify(data); if (!h['Content-Type']) h['Content-Type'] = 'application/json'; }
    if (data !== undefined) h['Content-Length'] = Buffer.byteLength(data);
    const req = lib.request(u, { method, headers: h, ca }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch (_) { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, rawHeaders: res.rawHeaders, body: text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// A streaming GET (watch); returns {events, done (promise), close()}.
function stream(base, p, { headers = {}, onEvent } = {}) {
  const u = new URL(p, base);
  const lib = u.protocol === 'https:' ? https : http;
  const events = [];
  let req;
  const done = new Promise((resolve, reject) => {
    req = lib.request(u, { method: 'GET', headers: { 'User-Agent': 'oomscope-emulator-test/1.0', Accept: 'application/json', ...headers } }, res => {
      let buf = '';
      res.on('data', c => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          events.push(ev);
          if (onEvent) onEvent(ev, events);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, events, rest: buf }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, events, rest: buf, aborted: true }));
      res.on('aborted', () => resolve({ status: res.statusCode, headers: res.headers, events, rest: buf, aborted: true }));
    });
    req.on('error', e => resolve({ error: e, events }));
    req.end();
  });
  return { events, done, close: () => req.destroy() };
}

// Resolves once pred(events) holds (checked on every event), or rejects after ms.
function waitFor(predicate, ms = 10000, what = 'condition') {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = async () => {
      try { const v = await predicate(); if (v) return resolve(v); } catch (e) { return reject(e); }
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

// Parses one golden transcript (see golden/README.md for the format).
function parseTranscript(file) {
  const t = fs.readFileSync(file, 'latin1');
  const headerEnd = t.indexOf('\n\n');
  const head = t.slice(0, headerEnd).split('\n');
  const [method, target] = head[0].split(' ');
  const reqHeaders = {};
  for (const l of head.slice(1)) { const k = l.indexOf(':'); reqHeaders[l.slice(0, k).toLowerCase()] = l.slice(k + 1).trim(); }
  let pos = headerEnd + 2;
  let reqBody;
  if (reqHeaders['content-length']) {
    const n = parseInt(reqHeaders['content-length'], 10);
    reqBody = Buffer.from(t.slice(pos, pos + n), 'latin1').toString('utf8');
    pos += n;
  }
  const respStart = t.indexOf('HTTP/1.1 ', pos);
  const resp = t.slice(respStart);
  const rEnd = resp.indexOf('\n\n');
  const rHead = resp.slice(0, rEnd).split('\n');
  const status = parseInt(rHead[0].split(' ')[1], 10);
  const headers = {};
  for (const l of rHead.slice(1)) {
    const k = l.indexOf(':');
    const name = l.slice(0, k).toLowerCase();
    const v = l.slice(k + 1).trim();
    if (headers[name]) headers[name] = [].concat(headers[name], v); else headers[name] = v;
  }
  const body = Buffer.from(resp.slice(rEnd + 2), 'latin1').toString('utf8');
  return { method, target, reqHeaders, reqBody, status, headers, body };
}

module.exports = { startEmulator, request, stream, waitFor, parseTranscript };
