'use strict';

// `oomscope demo` end to end: real leaky API, real load, real sidecar, real analyzer.
//   OOMSCOPE_CLI=build/x/cli/oomscope node --test tests/e2e/demo.test.js
// Checks: exit 0, the verdict names supportedExtensions with its path, the HTML report exists,
// and no process the demo started is left; Ctrl-C midway also leaves none and exits 130.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { alive } = require('./harness');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const CLI = process.env.OOMSCOPE_CLI;
const TIMEOUT_S = Number(process.env.OOMSCOPE_DEMO_TIMEOUT || 110);

// Processes whose command line mentions `needle` (the demo's work dir is in the analyzer's and
// the sidecar's arguments).
function processesMentioning(needle) {
  const found = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && Number(e) !== process.pid) found.push(`${e}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

function workDirIn(stdout) {
  const m = /^work dir +(\S+)/m.exec(stdout);
  return m ? m[1] : null;
}

function pidsIn(stdout) {
  return [...stdout.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]));
}

function runDemo(args, { onStdout } = {}) {
  const child = spawn(CLI, ['demo', '--no-color', '--timeout', String(TIMEOUT_S), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (onStdout) onStdout(stdout, child);
  });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

test('oomscope demo names the leak, writes the report and leaves no process behind', { skip: !CLI && 'OOMSCOPE_CLI not set', timeout: (TIMEOUT_S + 30) * 1000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-test-'));
  try {
    const r = await runDemo(['--out', out]);
    const explain = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.equal(r.code, 0, explain);
    assert.match(r.stdout, /verdict: supportedExtensions \(Array\) leaks: \+/, explain);
    // The retainer path goes through the cached validator module's exports.
    assert.match(r.stdout, /held by: .*validators\/name\.js.*exports.*supportedExtensions/, explain);
    assert.match(r.stdout, /series \S+: 3\/3 snapshots, complete/, explain);
    assert.match(r.stdout, /oomscope_analyzer_suspect_retained_bytes\{[^}]*workload="leaky-api"/, explain);
    const report = path.join(out, 'report.html');
    assert.ok(r.stdout.includes(`HTML report: ${report}`), explain);
    assert.match(fs.readFileSync(report, 'utf8'), /supportedExtensions/);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.equal(json.snapshots.length, 3);
    const pids = pidsIn(r.stdout);
    assert.equal(pids.length, 4, explain);  // the app, the analyzer, the sidecar, the load
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is still running\n${explain}`);
    const work = workDirIn(r.stdout);
    assert.ok(work, explain);
    assert.deepEqual(processesMentioning(work), []);
    assert.ok(!fs.existsSync(work), 'the work dir is removed');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('Ctrl-C stops the demo and everything it started', { skip: !CLI && 'OOMSCOPE_CLI not set', timeout: (TIMEOUT_S + 30) * 1000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-test-'));
  let sent = false;
  try {
    const r = await runDemo(['--out', out, '--interval', '30'], {
      onStdout: (stdout, child) => {
        // Interrupt once all four processes run and the series has begun.
        if (!sent && /^series /m.test(stdout)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    const explain = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.ok(sent, explain);
    assert.equal(r.code, 130, explain);
    const pids = pidsIn(r.stdout);
    assert.equal(pids.length, 4, explain);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is still running\n${explain}`);
    const work = workDirIn(r.stdout);
    assert.ok(work, explain);
    assert.deepEqual(processesMentioning(work), []);
    assert.ok(!fs.existsSync(work), 'the work dir is removed');
    assert.ok(!fs.existsSync(path.join(out, 'report.html')));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
