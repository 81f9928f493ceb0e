'use strict';
// --controllers: a minimal kube-controller-manager. The deployment controller
// (ReplicaSets named NAME-<pod-template-hash>, rolling update honouring
// maxSurge/maxUnavailable, revision annotations, Deployment status), the
// replicaset controller (Pods from the template, RS status) and the garbage
// collector (ownerReferences: background, foreground, orphan). It writes
// through the server's internal paths, so its writes are not in the audit log.
const { canon, clone } = require('./patch');
const { now } = require('./objects');

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
function fnv32a(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}
// rand.SafeEncodeString(fmt.Sprint(hash)), as the deployment controller names things.
function templateHash(template) {
  const s = String(fnv32a(JSON.stringify(canon(template))));
  let out = '';
  for (const ch of s) out += SAFE[ch.charCodeAt(0) % SAFE.length];
  return out;
}

function intOrPercent(v, total, roundUp) {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return parseInt(v, 10) || 0;
  const x = (parseInt(m[1], 10) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

const isActive = (p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p.status || {}).phase);
const isReady = (p) => ((p.status || {}).conditions || []).some(c => c.type === 'Ready' && c.status === 'True');
const controllerOf = (o) => (o.metadata.ownerReferences || []).find(r => r.controller);

class Controllers {
  constructor(server) {
    this.s = server;
    this.reg = server.registry;
    this.deployRt = this.reg.get('apps', 'v1', 'deployments');
    this.rsRt = this.reg.get('apps', 'v1', 'replicasets');
    this.podRt = this.reg.get('', 'v1', 'pods');
    this.queue = new Map();
    this.scheduled = false;
    this.stopped = false;
    // Objects by the uid of each of their owners (ownerReferences), kept from store events.
    this.byOwner = new Map();
    for (const t of this.reg.types.values()) {
      if (t.convert) continue;
      for (const [k, o] of server.store.list(t.storageKey, null)) this.index(t.storageKey, k, null, o);
    }
    this.listener = (ev) => { this.index(ev.sk, ev.key, ev.prev, ev.type === 'DELETED' ? null : ev.obj); this.onEvent(ev); };
    server.store.listeners.add(this.listener);
    // Resync: whatever exists when the controllers start.
    for (const [, d] of server.store.list(this.deployRt.storageKey, null)) this.enqueue('d', d.metadata.namespace, d.metadata.name);
    this.resync = setInterval(() => {
      for (const [, d] of server.store.list(this.deployRt.storageKey, null)) this.enqueue('d', d.metadata.namespace, d.metadata.name);
      for (const [, r] of server.store.list(this.rsRt.storageKey, null)) this.enqueue('rs', r.metadata.namespace, r.metadata.name);
    }, 5000);
    this.resync.unref();
  }

  stop() { this.stopped = true; clearInterval(this.resync); this.s.store.listeners.delete(this.listener); }

  ctx() { return { q: new URLSearchParams(), warnings: [] }; }

  onEvent(ev) {
    const o = ev.obj;
    const ns = o.metadata.namespace;
    if (ev.sk === this.deployRt.storageKey) this.enqueue('d', ns, o.metadata.name);
    else if (ev.sk === this.rsRt.storageKey) {
      this.enqueue('rs', ns, o.metadata.name);
      const owner = controllerOf(o);
      if (owner && owner.kind === 'Deployment') this.enqueue('d', ns, owner.name);
    } else if (ev.sk === this.podRt.storageKey) {
      // Only what the replicaset controller counts matters (not every kubelet status write).
      const p = ev.prev;
      if (ev.type === 'MODIFIED' && p && isActive(p) === isActive(o) && isReady(p) === isReady(o) &&
          (controllerOf(p) || {}).uid === (controllerOf(o) || {}).uid) return;
      const owner = controllerOf(o);
      if (owner && owner.kind === 'ReplicaSet') this.enqueue('rs', ns, owner.name);
    }
  }

  enqueue(kind, ns, name) {
    this.queue.set(`${kind}/${ns}/${name}`, { kind, ns, name });
    if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.drain()); }
  }

  drain() {
    this.scheduled = false;
    let budget = 200;
    while (this.queue.size && budget-- > 0 && !this.stopped) {
      const [key, item] = this.queue.entries().next().value;
      this.queue.delete(key);
      try {
        if (item.kind === 'd') this.syncDeployment(item.ns, item.name);
        else this.syncReplicaSet(item.ns, item.name);
      } catch (e) {
        // A conflict with a client's write: try again on the next turn.
        if (!this.s.opts.quiet && !(e && e.code === 409)) process.stderr.write(`emulator controllers: ${item.kind} ${item.ns}/${item.name}: ${e && e.message}\n`);
        setTimeout(() => this.enqueue(item.kind, item.ns, item.name), 100).unref();
      }
    }
    if (this.queue.size && !this.scheduled) { this.scheduled = true; setImmediate(() => this.drain()); }
  }

  get(rt, ns, name) { return this.s.store.get(rt.storageKey, ns, name); }
  index(sk, key, prev, obj) {
    const id = `${sk}|${key}`;
    for (const r of (prev && prev.metadata.ownerReferences) || []) {
      const m = this.byOwner.get(r.uid);
      if (m) { m.delete(id); if (!m.size) this.byOwner.delete(r.uid); }
    }
    for (const r of (obj && obj.metadata.ownerReferences) || []) {
      if (!this.byOwner.has(r.uid)) this.byOwner.set(r.uid, new Map());
      this.byOwner.get(r.uid).set(id, { sk, obj });
    }
  }

  owned(rt, ns, owner) {
    const out = [];
    for (const { sk, obj } of (this.byOwner.get(owner.metadata.uid) || new Map()).values()) {
      if (sk !== rt.storageKey) continue;
      const c = controllerOf(obj);
      if (c && c.uid === owner.metadata.uid) out.push(obj);
    }
    return out;
  }

  typeOf(sk) {
    for (const t of this.reg.types.values()) if (t.storageKey === sk && !t.convert) return t;
    return null;
  }

  update(rt, obj, sub) {
    const existing = this.get(rt, obj.metadata.namespace, obj.metadata.name);
    return this.s.updateObject(this.ctx(), rt, obj.metadata.namespace, obj.metadata.name, sub, clone(obj), existing);
  }

  // ---- deployment controller ----
  syncDeployment(ns, name) {
    const d = this.get(this.deployRt, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec;
    const hash = templateHash(spec.template);
    const rses = this.owned(this.rsRt, ns, d);
    let newRs = rses.find(r => (r.metadata.labels || {})['pod-template-hash'] === hash);
    const olds = rses.filter(r => r !== newRs);
    const maxRev = Math.max(0, ...rses.map(r => parseInt((r.metadata.annotations || {})['deployment.kubernetes.io/revision'] || '0', 10)));
    const desired = spec.replicas ?? 1;
    const ru = (spec.strategy || {}).rollingUpdate || {};
    const recreate = (spec.strategy || {}).type === 'Recreate';
    const surge = recreate ? 0 : intOrPercent(ru.maxSurge ?? '25%', desired, true);
    let unavailable = recreate ? 0 : intOrPercent(ru.maxUnavailable ?? '25%', desired, false);
    if (!recreate && surge === 0 && unavailable === 0) unavailable = 1;
    const annotations = (extra) => {
      const a = { ...(d.metadata.annotations || {}) };
      delete a['kubectl.kubernetes.io/last-applied-configuration'];
      delete a['deployment.kubernetes.io/revision'];
      return { ...a, ...extra };
    };
    if (!newRs && spec.paused) { this.deploymentStatus(ns, name, hash); return; } // paused: no rollout
    if (!newRs) {
      const labels = { ...(spec.template.metadata.labels || {}), 'pod-template-hash': hash };
      const tpl = clone(spec.template);
      tpl.metadata = { ...tpl.metadata, labels };
      // As NewRSNewReplicas: all at once without old pods, else what maxSurge allows.
      const oldTotal = olds.reduce((a, r) => a + (r.spec.replicas || 0), 0);
      const initial = recreate ? (oldTotal > 0 ? 0 : desired) : Math.max(0, Math.min(desired, oldTotal === 0 ? desired : desired + surge - oldTotal));
      newRs = this.s.createInternal(this.rsRt, {
        apiVersion: 'apps/v1', kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`, namespace: ns, labels,
          annotations: annotations({ 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + surge), 'deployment.kubernetes.io/revision': String(maxRev + 1) }),
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: { replicas: initial, selector: { matchLabels: { ...(spec.selector.matchLabels || {}), 'pod-template-hash': hash }, ...(spec.selector.matchExpressions ? { matchExpressions: spec.selector.matchExpressions } : {}) }, template: tpl },
      });
    } else {
      // Keep the new RS's annotations in step with the deployment.
      const rev = (newRs.metadata.annotations || {})['deployment.kubernetes.io/revision'];
      const want = annotations({ 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + surge), 'deployment.kubernetes.io/revision': olds.some(r => parseInt((r.metadata.annotations || {})['deployment.kubernetes.io/revision'] || '0', 10) > parseInt(rev || '0', 10)) ? String(maxRev + 1) : rev });
      if (JSON.stringify(canon(want)) !== JSON.stringify(canon(newRs.metadata.annotations || {}))) {
        const next = clone(newRs); next.metadata.annotations = want; newRs = this.update(this.rsRt, next);
      }
    }
    const podsOf = (rs) => this.owned(this.podRt, ns, rs);
    const availableOf = (rs) => podsOf(rs).filter(p => isActive(p) && isReady(p)).length;
    const fresh = (rs) => this.get(this.rsRt, ns, rs.metadata.name);
    const scaleRs = (rs, n) => {
      rs = fresh(rs);
      const ann = { ...rs.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + surge) };
      if (rs.spec.replicas === n && JSON.stringify(ann) === JSON.stringify(rs.metadata.annotations)) return rs;
      const next = clone(rs); next.spec.replicas = n; next.metadata.annotations = ann;
      return this.update(this.rsRt, next);
    };
    let activeOld = olds.filter(r => (r.spec.replicas || 0) > 0);
    const active = [...activeOld, ...(newRs.spec.replicas > 0 ? [newRs] : [])];
    // A scaling event (spec.replicas changed): resize the active ReplicaSets proportionally.
    const scaling = active.some(r => (r.metadata.annotations || {})['deployment.kubernetes.io/desired-replicas'] !== String(desired));
    if (scaling && active.length) {
      const allowed = active.length === 1 ? desired : desired + surge;
      const total = active.reduce((a, r) => a + r.spec.replicas, 0);
      let left = allowed;
      const ordered = active.sort((a, b) => (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? -1 : 1));
      ordered.forEach((r, i) => {
        const n = i === ordered.length - 1 ? Math.max(0, left) : Math.min(left, Math.floor((r.spec.replicas * allowed) / total));
        left -= n;
        scaleRs(r, n);
      });
      newRs = fresh(newRs);
      activeOld = olds.map(fresh).filter(r => (r.spec.replicas || 0) > 0);
    }
    if (recreate) {
      for (const r of activeOld) scaleRs(r, 0);
      if (!olds.some(r => podsOf(r).some(isActive))) newRs = scaleRs(newRs, desired);
    } else if (activeOld.length === 0) {
      newRs = scaleRs(newRs, desired);
    } else {
      // Scale up the new ReplicaSet within maxSurge.
      let total = newRs.spec.replicas + activeOld.reduce((a, r) => a + r.spec.replicas, 0);
      if (total < desired + surge && newRs.spec.replicas < desired) newRs = scaleRs(newRs, Math.min(desired, newRs.spec.replicas + (desired + surge - total)));
      // Scale down old ones within maxUnavailable: unhealthy replicas first, then by availability.
      total = newRs.spec.replicas + activeOld.reduce((a, r) => a + fresh(r).spec.replicas, 0);
      const minAvailable = desired - unavailable;
      const newUnavailable = Math.max(0, newRs.spec.replicas - availableOf(newRs));
      const maxScaledDown = total - minAvailable - newUnavailable;
      let done = 0;
      const oldSorted = activeOld.sort((a, b) => (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? -1 : 1));
      if (maxScaledDown > 0) {
        for (const r0 of oldSorted) {
          if (done >= maxScaledDown) break;
          const r = fresh(r0);
          const unhealthy = r.spec.replicas - availableOf(r);
          if (r.spec.replicas === 0 || unhealthy <= 0) continue;
          const n = Math.min(maxScaledDown - done, unhealthy);
          scaleRs(r, r.spec.replicas - n);
          done += n;
        }
        const availableAll = availableOf(newRs) + oldSorted.reduce((a, r) => a + availableOf(r), 0);
        let excess = availableAll - minAvailable;
        for (const r0 of oldSorted) {
          if (excess <= 0) break;
          const r = fresh(r0);
          const n = Math.min(r.spec.replicas, excess);
          if (n > 0) { scaleRs(r, r.spec.replicas - n); excess -= n; }
        }
      }
    }
    this.cleanupHistory(d, ns);
    this.deploymentStatus(ns, name, hash);
  }

  cleanupHistory(d, ns) {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const olds = this.owned(this.rsRt, ns, d).filter(r => (r.metadata.labels || {})['pod-template-hash'] !== templateHash(d.spec.template) && r.spec.replicas === 0 && (r.status || {}).replicas === 0);
    olds.sort((a, b) => parseInt(a.metadata.annotations['deployment.kubernetes.io/revision'] || '0', 10) - parseInt(b.metadata.annotations['deployment.kubernetes.io/revision'] || '0', 10));
    while (olds.length > limit) { const r = olds.shift(); this.s.deleteObject(this.rsRt, r, {}); }
  }

  deploymentStatus(ns, name, hash) {
    const d = this.get(this.deployRt, ns, name);
    if (!d) return;
    const rses = this.owned(this.rsRt, ns, d);
    const podsOf = (rs) => this.owned(this.podRt, ns, rs).filter(isActive);
    const newRs = rses.find(r => (r.metadata.labels || {})['pod-template-hash'] === hash);
    let replicas = 0, ready = 0;
    for (const r of rses) { const ps = podsOf(r); replicas += ps.length; ready += ps.filter(isReady).length; }
    const updated = newRs ? podsOf(newRs).length : 0;
    const desired = d.spec.replicas ?? 1;
    const ru = (d.spec.strategy || {}).rollingUpdate || {};
    const maxUnavailable = (d.spec.strategy || {}).type === 'Recreate' ? 0 : intOrPercent(ru.maxUnavailable ?? '25%', desired, false);
    const available = ready;
    const st = { observedGeneration: d.metadata.generation, replicas, updatedReplicas: updated };
    if (ready) st.readyReplicas = ready;
    if (available) st.availableReplicas = available;
    if (replicas - available > 0 || desired - available > 0) st.unavailableReplicas = Math.max(replicas - available, desired - available, 0);
    const old = d.status || {};
    const cond = (type, status, reason, message) => {
      const prev = (old.conditions || []).find(c => c.type === type);
      const t = now();
      if (prev && prev.status === status && prev.reason === reason && prev.message === message) return prev;
      return { type, status, lastUpdateTime: t, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : t, reason, message };
    };
    const isAvailable = available >= desired - maxUnavailable;
    const complete = newRs && updated === desired && replicas === desired && available === desired;
    st.conditions = [
      isAvailable ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.') : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      complete ? cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`)
        : cond('Progressing', 'True', newRs ? 'ReplicaSetUpdated' : 'NewReplicaSetCreated', `ReplicaSet "${newRs ? newRs.metadata.name : ''}" is progressing.`),
    ];
    const rev = newRs && (newRs.metadata.annotations || {})['deployment.kubernetes.io/revision'];
    if (rev && (d.metadata.annotations || {})['deployment.kubernetes.io/revision'] !== rev) {
      const next = clone(d);
      next.metadata.annotations = { ...(next.metadata.annotations || {}), 'deployment.kubernetes.io/revision': rev };
      this.update(this.deployRt, next);
    }
    const cur = this.get(this.deployRt, ns, name);
    if (JSON.stringify(canon(cur.status || {})) !== JSON.stringify(canon(st))) {
      const next = clone(cur); next.status = st;
      this.update(this.deployRt, next, 'status');
    }
  }

  // ---- replicaset controller ----
  syncReplicaSet(ns, name) {
    const rs = this.get(this.rsRt, ns, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const pods = this.owned(this.podRt, ns, rs);
    const active = pods.filter(isActive);
    const want = rs.spec.replicas ?? 1;
    if (active.length < want) {
      for (let i = active.length; i < want; i++) {
        const tpl = clone(rs.spec.template);
        this.s.createInternal(this.podRt, {
          apiVersion: 'v1', kind: 'Pod',
          metadata: {
            generateName: `${name}-`, namespace: ns, labels: (tpl.metadata || {}).labels, annotations: (tpl.metadata || {}).annotations,
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: tpl.spec,
        });
      }
    } else if (active.length > want) {
      // As the replicaset controller ranks them: unscheduled, pending, not ready, more restarts, newer first.
      const restarts = (p) => ((p.status || {}).containerStatuses || []).reduce((a, c) => a + (c.restartCount || 0), 0);
      const rank = (p) => (p.spec.nodeName ? 4 : 0) + ((p.status || {}).phase === 'Running' ? 2 : 0) + (isReady(p) ? 1 : 0);
      const victims = active.sort((a, b) => rank(a) - rank(b) || restarts(b) - restarts(a) ||
        (a.metadata.creationTimestamp > b.metadata.creationTimestamp ? -1 : 1)).slice(0, active.length - want);
      for (const p of victims) this.s.deleteObject(this.podRt, p, {});
    }
    const now2 = this.owned(this.podRt, ns, rs).filter(isActive);
    const ready = now2.filter(isReady).length;
    const st = { replicas: now2.length, fullyLabeledReplicas: now2.length };
    if (ready) { st.readyReplicas = ready; st.availableReplicas = ready; }
    st.observedGeneration = rs.metadata.generation;
    const cur = this.get(this.rsRt, ns, name);
    if (JSON.stringify(canon(cur.status || {})) !== JSON.stringify(canon(st))) {
      const next = clone(cur); next.status = st;
      this.update(this.rsRt, next, 'status');
    }
  }

  // ---- garbage collector ----
  dependents(owner) {
    const out = [];
    for (const { sk, obj } of (this.byOwner.get(owner.metadata.uid) || new Map()).values()) {
      const rt = this.typeOf(sk);
      if (rt) out.push({ rt, o: obj });
    }
    return out;
  }

  onDeleted(rt, obj) {
    if (this.stopped) return;
    setImmediate(() => {
      for (const { rt: drt, o } of this.dependents(obj)) {
        const cur = this.s.store.get(drt.storageKey, o.metadata.namespace || null, o.metadata.name);
        if (!cur) continue;
        const others = (cur.metadata.ownerReferences || []).filter(r => r.uid !== obj.metadata.uid);
        const alive = others.some(r => this.ownerExists(cur.metadata.namespace, r));
        if (alive) { const next = clone(cur); next.metadata.ownerReferences = others; this.update(drt, next); } else this.s.deleteObject(drt, cur, {});
      }
    });
  }

  ownerExists(ns, ref) {
    for (const t of this.reg.types.values()) {
      if (t.kind !== ref.kind || t.apiVersion !== ref.apiVersion) continue;
      const o = this.s.store.get(t.storageKey, t.namespaced ? ns : null, ref.name);
      return !!o && o.metadata.uid === ref.uid;
    }
    return false;
  }

  orphan(owner) {
    for (const { rt, o } of this.dependents(owner)) {
      const next = clone(o);
      next.metadata.ownerReferences = (o.metadata.ownerReferences || []).filter(r => r.uid !== owner.metadata.uid);
      if (!next.metadata.ownerReferences.length) delete next.metadata.ownerReferences;
      this.update(rt, next);
    }
  }

  // Foreground: dependents go first (recursively), then the owner's finalizer is removed.
  foreground(rt, owner) {
    setImmediate(() => {
      const tick = () => {
        const cur = this.s.store.get(rt.storageKey, owner.metadata.namespace || null, owner.metadata.name);
        if (!cur) return;
        const deps = this.dependents(cur);
        for (const { rt: drt, o } of deps) if (!o.metadata.deletionTimestamp) this.s.deleteObject(drt, o, { propagationPolicy: 'Foreground' });
        const blocking = this.dependents(cur).filter(({ o }) => (o.metadata.ownerReferences || []).some(r => r.uid === cur.metadata.uid && r.blockOwnerDeletion));
        if (blocking.length) { setTimeout(tick, 50).unref(); return; }
        const next = clone(cur);
        next.metadata.finalizers = (next.metadata.finalizers || []).filter(f => f !== 'foregroundDeletion');
        this.update(rt, next);
      };
      tick();
    });
  }
}

module.exports = { Controllers, templateHash };
