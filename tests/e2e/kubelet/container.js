'use strict';

// One container of a pod as a real process: started in its own process group, its output
// appended to a log file, its RSS (the whole process group's, from /proc) checked against the
// memory limit, SIGKILLed past it as the kernel's OOM killer would, and restarted with a
// kubelet-like backoff. Reports each state change to the pod worker through onChange().

const { spawn } = require('node:child_process');
const fs = require('node:fs');

const PAGE = 4096;

// pgid -> total RSS bytes of the processes in it (one pass over /proc).
function rssByProcessGroup() {
  const out = new Map();
  let entries;
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the command: state ppid pgrp ... ; rss is field 24 overall (index 21 here)
      const pgrp = Number(rest[2]);
      const rssPages = Number(rest[21]);
      out.set(pgrp, (out.get(pgrp) || 0) + rssPages * PAGE);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

function now() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

class Container {
  // spec: the container spec; proc: {file, args, cwd, env}; limit: bytes or null;
  // restart: 'Always' | 'OnFailure' | 'Never'; logFile: path.
  constructor({ spec, proc, limit, restart, logFile, onChange, log }) {
    this.spec = spec;
    this.name = spec.name;
    this.proc = proc;
    this.limit = limit;
    this.restartPolicy = restart;
    this.logFile = logFile;
    this.onChange = onChange;
    this.log = log;
    this.restartCount = 0;
    this.child = null;
    this.state = { waiting: { reason: 'ContainerCreating' } };
    this.lastState = {};
    this.startedAt = null;
    this.backoffMs = 0;
    this.timer = null;
    this.stopping = false;
    this.oomKilled = false;
    this.peakRss = 0;
    this.exited = null;  // Promise resolved when the current process exits
  }

  get running() {
    return !!this.child;
  }

  get pid() {
    return this.child ? this.child.pid : null;
  }

  start() {
    if (this.stopping || this.child) return;
    const out = fs.openSync(this.logFile, 'a');
    fs.writeSync(out, `--- ${now()} start #${this.restartCount}: ${this.proc.file} ${this.proc.args.join(' ')}\n`);
    let child;
    try {
      child = spawn(this.proc.file, this.proc.args, {
        cwd: this.proc.cwd,
        env: this.proc.env,
        stdio: ['ignore', out, out],
        detached: true,  // its own process group: RSS and kills cover its children too
      });
    } catch (err) {
      fs.closeSync(out);
      this.fail(`cannot start: ${err.message}`);
      return;
    }
    fs.closeSync(out);
    this.child = child;
    this.oomKilled = false;
    this.startedAt = now();
    this.containerID = `e2e://${child.pid}`;
    this.state = { running: { startedAt: this.startedAt } };
    let resolveExit;
    this.exited = new Promise((r) => { resolveExit = r; });
    child.on('error', (err) => {
      // spawn failure (ENOENT...): 'exit' may not follow
      if (this.child === child) {
        this.child = null;
        this.fail(`cannot start ${this.proc.file}: ${err.message}`);
      }
      resolveExit();
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.onExit(code, signal);
      resolveExit();
    });
    this.onChange();
  }

  fail(message) {
    this.state = { waiting: { reason: 'CreateContainerError', message } };
    this.log(`${this.name}: ${message}`);
    this.onChange();
    this.scheduleRestart();
  }

  onExit(code, signal) {
    const exitCode = this.oomKilled ? 137 : code !== null ? code : 128 + (require('node:os').constants.signals[signal] || 0);
    const reason = this.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const terminated = { exitCode, reason, startedAt: this.startedAt, finishedAt: now(), containerID: this.containerID };
    if (signal && !this.oomKilled) terminated.signal = require('node:os').constants.signals[signal];
    this.log(`${this.name}: exited ${reason} (${exitCode})`);
    if (this.stopping) {
      this.state = { terminated };
      this.onChange();
      return;
    }
    const restart = this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && exitCode !== 0);
    if (!restart) {
      this.state = { terminated };
      this.onChange();
      return;
    }
    this.lastState = { terminated };
    this.restartCount++;
    this.state = {
      waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container=${this.name}` },
    };
    this.onChange();
    this.scheduleRestart();
  }

  scheduleRestart() {
    if (this.stopping) return;
    // The kubelet backs off 10s doubling to 5 min; a test stand-in uses 0.5s doubling to 4s.
    this.backoffMs = this.backoffMs ? Math.min(this.backoffMs * 2, 4000) : 500;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.start(), this.backoffMs);
  }

  // Called by the kubelet's sampler with the RSS of this container's process group.
  checkMemory(rssBytes) {
    if (!this.child) return;
    this.peakRss = Math.max(this.peakRss, rssBytes);
    if (this.limit && rssBytes > this.limit && !this.oomKilled) {
      this.oomKilled = true;
      this.log(`${this.name}: RSS ${(rssBytes / 2 ** 20).toFixed(1)} MiB > limit ${(this.limit / 2 ** 20).toFixed(1)} MiB: OOM kill`);
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // A process that stayed up for a while resets the backoff, as the kubelet does after 10 min.
    if (this.startedAt && Date.now() - Date.parse(this.startedAt) > 10000) this.backoffMs = 0;
  }

  // SIGTERM, then SIGKILL after graceMs. Resolves when the process group's leader is gone.
  async stop(graceMs) {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    try {
      process.kill(-child.pid, 'SIGKILL');  // anything the leader left behind in its group
    } catch {
      // the group is empty
    }
  }

  // The containerStatuses entry, as the kubelet writes it.
  status() {
    const ready = !!this.child && !this.stopping;
    const s = {
      name: this.name,
      image: this.spec.image || '',
      imageID: '',
      ready,
      started: !!this.child,
      restartCount: this.restartCount,
      state: this.state,
      lastState: this.lastState,
    };
    if (this.containerID) s.containerID = this.containerID;
    return s;
  }
}

module.exports = { Container, rssByProcessGroup };
