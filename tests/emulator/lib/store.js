'use strict';
// Versioned object storage: one global resourceVersion counter (like etcd's
// revision), per-resource maps, an event history for watches and
// resourceVersionMatch=Exact lists, and compaction.
const { errors } = require('./status');

function objKey(obj) {
  const m = obj.metadata;
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

class Store {
  constructor(opts = {}) {
    this.rv = opts.startRv || 1;
    this.data = new Map(); // storageKey -> Map(objKey -> obj)
    this.history = []; // {rv, sk, type, key, obj, prev}
    this.compactedRv = 0; // watch-cache window: watches from older rvs get 410
    this.listCompactedRv = 0; // etcd compaction: Exact lists / continue tokens from older rvs get 410
    this.maxHistory = opts.maxHistory || 20000; // like the watch cache's window: older rvs then get 410
    this.watchers = new Set();
    this.listeners = new Set(); // every event (controllers)
    this.latestRv = new Map(); // storageKey -> rv of its latest event
  }

  bucket(sk) {
    let b = this.data.get(sk);
    if (!b) { b = new Map(); this.data.set(sk, b); }
    return b;
  }

  nextRv() { return ++this.rv; }
  currentRv() { return this.rv; }

  get(sk, ns, name) { return this.bucket(sk).get(ns ? `${ns}/${name}` : name); }

  list(sk, ns) {
    const out = [];
    for (const [k, o] of this.bucket(sk)) if (!ns || o.metadata.namespace === ns) out.push([k, o]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }

  // State of one resource as it was at rv (resourceVersionMatch=Exact, continue tokens).
  listAt(sk, ns, rv, tooOld) {
    if (rv > this.rv) throw errors.tooLargeRv();
    if (rv < Math.max(this.compactedRv, this.listCompactedRv)) throw (tooOld || errors.listTooOld)();
    const state = new Map(this.bucket(sk));
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const ev = this.history[i];
      if (ev.sk !== sk) continue;
      if (ev.prev) state.set(ev.key, ev.prev); else state.delete(ev.key);
    }
    const out = [];
    for (const [k, o] of state) if (!ns || o.metadata.namespace === ns) out.push([k, o]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  }

  // Writes obj (already carrying its new metadata.resourceVersion = String(rv)).
  commit(sk, type, obj, rv) {
    const key = objKey(obj);
    const b = this.bucket(sk);
    const prev = b.get(key);
    if (type === 'DELETED') b.delete(key); else b.set(key, obj);
    const ev = { rv, sk, type, key, obj, prev };
    this.history.push(ev);
    this.latestRv.set(sk, rv);
    if (this.history.length > this.maxHistory) {
      const drop = Math.floor(this.maxHistory / 2);
      this.compactedRv = this.history[drop - 1].rv;
      this.history.splice(0, drop);
    }
    for (const w of [...this.watchers]) if (w.sk === sk) w.onEvent(ev);
    for (const l of this.listeners) l(ev);
    return obj;
  }

  // etcdOnly: like `etcdctl compact` (the apiserver's watch cache still serves
  // old watches, transcript 18); otherwise the watch window is gone too (20).
  compact(etcdOnly) {
    this.listCompactedRv = this.rv;
    if (!etcdOnly) { this.compactedRv = this.rv; this.history = []; }
  }

  // Events after rv for one resource; throws a 410 error when rv is compacted away.
  eventsSince(sk, rv) {
    if (rv < this.compactedRv) throw errors.gone(`too old resource version: ${rv} (${this.compactedRv + 1})`);
    let lo = 0, hi = this.history.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.history[mid].rv <= rv) lo = mid + 1; else hi = mid; }
    return this.history.slice(lo).filter(e => e.sk === sk);
  }

  addWatcher(w) { this.watchers.add(w); }
  removeWatcher(w) { this.watchers.delete(w); }
}

module.exports = { Store, objKey };
