#!/usr/bin/env node
// Generates a series of V8 heap snapshots from ONE Node process, so node ids
// are stable across the files, with a leak that grows between snapshots.
//
//   node --max-old-space-size=8192 bench/gen_series.js OUTDIR --mb 300 [--snapshots 3]
//
// The process builds a mixed "application" heap (plain objects with several
// properties, arrays, strings, Maps, Sets, closures, class instances, typed
// arrays) plus a leak: a module-level registry of request contexts that is
// never cleared. Between snapshots ~5% of the stable part is churned (freed
// and re-allocated, so ids change) and the leak grows.
//
// File sizes: snapshot i of N is about M * (1 + 0.1 * (i - (N-1)/2)) MB, so
// the middle file of a 3-series is ~M MB, the first ~0.9 M and the last ~1.1 M;
// a single snapshot (--snapshots 1) is ~M MB. The number of bytes of snapshot
// per unit of heap is measured in-process with small calibration snapshots
// (written next to the output and deleted), since it depends on the V8 version.
//
// Output files are OUTDIR/s1.heapsnapshot ... sN.heapsnapshot (memlab sorts
// 's<N>.heapsnapshot' numerically).
'use strict';

const fs = require('fs');
const path = require('path');
const v8 = require('v8');

function usage(msg) {
  if (msg) console.error(`gen_series: ${msg}`);
  console.error('usage: node [--max-old-space-size=MB] gen_series.js OUTDIR --mb M [--snapshots N] [--seed S] [--force]');
  process.exit(2);
}

function parseArgs(argv) {
  const opt = { outdir: null, mb: null, snapshots: 3, seed: 12345, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--mb') opt.mb = Number(val());
    else if (a.startsWith('--mb=')) opt.mb = Number(a.slice(5));
    else if (a === '--snapshots') opt.snapshots = Number(val());
    else if (a.startsWith('--snapshots=')) opt.snapshots = Number(a.slice(12));
    else if (a === '--seed') opt.seed = Number(val());
    else if (a === '--force') opt.force = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opt.outdir === null) opt.outdir = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!opt.outdir) usage('OUTDIR is required');
  if (!(opt.mb > 0)) usage('--mb must be a positive number');
  if (!Number.isInteger(opt.snapshots) || opt.snapshots < 1) usage('--snapshots must be an integer >= 1');
  return opt;
}

// Small deterministic PRNG (xorshift32) so runs are reproducible.
function makeRng(seed) {
  let x = (seed >>> 0) || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel',
  'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec',
  'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'xray', 'yankee', 'zulu'];
const STATUSES = ['new', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];

// ---- "application" types -------------------------------------------------

class Customer {
  constructor(id, rng) {
    this.id = id;
    this.email = `user${id}@example.${WORDS[id % WORDS.length]}.com`;
    this.displayName = `${WORDS[(id * 7) % WORDS.length]} ${WORDS[(id * 13) % WORDS.length]} #${id}`;
    this.createdAt = 1700000000000 + id * 1000;
    this.balance = Math.round(rng() * 1e6) / 100; // heap number
    this.flags = { vip: (id % 17) === 0, newsletter: (id % 3) === 0, locale: id % 2 ? 'en-US' : 'fr-FR' };
  }
}

class LineItem {
  constructor(sku, qty, price) {
    this.sku = sku;
    this.qty = qty;
    this.price = price;
  }
}

class Order {
  constructor(id, customer, rng) {
    this.id = id;
    this.customer = customer;
    this.status = STATUSES[id % STATUSES.length];
    const n = 1 + (id % 4);
    this.items = [];
    for (let k = 0; k < n; k++) {
      this.items.push(new LineItem(`SKU-${(id * 31 + k) % 50000}`, 1 + (k % 3), Math.round(rng() * 10000) / 100));
    }
    this.tags = [WORDS[id % WORDS.length], WORDS[(id >> 3) % WORDS.length]];
    this.note = (id % 8) === 0
      ? `Order ${id} for ${customer.displayName}: please deliver to the back door, ring twice, ${WORDS[id % 26]}`
      : null;
  }
  total() { return this.items.reduce((s, it) => s + it.qty * it.price, 0); }
}

// One "unit" of the stable part: a customer, an order, a plain record, a small
// array; every 4th unit a closure, every 16th a Map, every 32nd a Set and a
// typed array. Returns the objects to hold.
function makeUnit(i, rng) {
  const customer = new Customer(i, rng);
  const order = new Order(i, customer, rng);
  const record = {
    key: `rec:${i}`,
    version: i % 7,
    score: rng() * 100,
    payload: [i, i + 1, i * 2, `v${i % 1000}`],
    owner: customer,
    audit: { by: customer.email, at: customer.createdAt, reason: STATUSES[i % 3] },
  };
  const unit = { customer, order, record, handler: null, index: null, seen: null, samples: null };
  if ((i & 3) === 0) {
    const offset = i % 100;
    unit.handler = function onOrderUpdate(delta) { return order.total() + delta + offset; };
  }
  if ((i & 15) === 0) {
    const m = new Map();
    for (let k = 0; k < 8; k++) m.set(`field_${k}_${i}`, { k, w: WORDS[(i + k) % 26] });
    unit.index = m;
  }
  if ((i & 31) === 0) {
    unit.seen = new Set([i, i + 1, `s${i}`, customer.email]);
    unit.samples = new Float64Array(16).fill(i);
  }
  return unit;
}

// The leak: every handled "request" registers a context in a module-level Map
// and a listener closure in an array; neither is ever removed.
class RequestContext {
  constructor(reqId, rng) {
    this.reqId = reqId;
    this.url = `/api/v1/orders/${reqId}?expand=items,customer&trace=${(rng() * 1e9) | 0}`;
    this.headers = {
      'user-agent': 'bench-client/1.0',
      'x-request-id': `req-${reqId}`,
      accept: 'application/json',
    };
    this.startedAt = 1700000000000 + reqId;
    this.body = [reqId, `chunk-${reqId}`, { partial: true, size: reqId % 4096 }];
    this.state = { retries: reqId % 3, lastError: null };
  }
}

const leakRegistry = new Map(); // reqId -> RequestContext (never cleared)
const leakListeners = []; // closures capturing contexts (never removed)

function leakOne(reqId, rng) {
  const ctx = new RequestContext(reqId, rng);
  leakRegistry.set(reqId, ctx);
  if ((reqId & 1) === 0) leakListeners.push(() => ctx.state.retries + 1);
}

// ---- builder ------------------------------------------------------------

const app = {
  units: [],
  byKey: new Map(),
  nextUnit: 0,
  nextReq: 0,
};
globalThis.__benchApp = app; // reachable from the global object

function addUnits(n, rng) {
  for (let k = 0; k < n; k++) {
    const i = app.nextUnit++;
    const u = makeUnit(i, rng);
    app.units.push(u);
    if ((i & 7) === 0) app.byKey.set(u.record.key, u);
  }
}

function churn(fraction, rng) {
  const n = Math.floor(app.units.length * fraction);
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(rng() * app.units.length);
    const old = app.units[pos];
    app.byKey.delete(old.record.key);
    const i = app.nextUnit++;
    const u = makeUnit(i, rng);
    app.units[pos] = u;
    if ((i & 7) === 0) app.byKey.set(u.record.key, u);
  }
}

function addLeak(n, rng) {
  for (let k = 0; k < n; k++) leakOne(app.nextReq++, rng);
}

function snapshot(file) {
  const t0 = process.hrtime.bigint();
  v8.writeHeapSnapshot(file);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { size: fs.statSync(file).size, ms };
}

function fmtMB(bytes) { return (bytes / 1048576).toFixed(1); }

function main() {
  const opt = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opt.outdir, { recursive: true });
  const rng = makeRng(opt.seed);
  const MB = 1048576;
  const N = opt.snapshots;
  const targets = [];
  for (let i = 0; i < N; i++) targets.push(opt.mb * MB * (1 + 0.1 * (i - (N - 1) / 2)));
  const files = targets.map((_, i) => path.join(opt.outdir, `s${i + 1}.heapsnapshot`));
  if (!opt.force && files.every(f => fs.existsSync(f))) {
    console.log(`gen_series: all ${N} files exist in ${opt.outdir}, nothing to do (use --force)`);
    for (const f of files) console.log(`${f}\t${fmtMB(fs.statSync(f).size)} MB`);
    return;
  }
  const tStart = Date.now();

  // Calibration: measure snapshot bytes per stable unit and per leak item.
  const calib = path.join(opt.outdir, `.calib-${process.pid}.heapsnapshot`);
  const b0 = snapshot(calib).size;
  const CU = 3000;
  const CL = 1500;
  addUnits(CU, rng);
  const b1 = snapshot(calib).size;
  addLeak(CL, rng);
  const b2 = snapshot(calib).size;
  fs.unlinkSync(calib);
  const perUnit = (b1 - b0) / CU;
  const perLeak = (b2 - b1) / CL;
  console.log(`calibration: base ${fmtMB(b0)} MB, ${perUnit.toFixed(0)} B/unit, ${perLeak.toFixed(0)} B/leaked request`);

  // Plan: the leak holds ~0.1 M at the first snapshot (0.05 M for a single
  // one) and grows by ~0.1 M per step; the stable part fills the rest.
  const leakStep = 0.1 * opt.mb * MB;
  const leakFirst = N > 1 ? 0.1 * opt.mb * MB : 0.05 * opt.mb * MB;
  const stableBytes = Math.max(0, targets[0] - b0 - leakFirst);
  let wantUnits = Math.max(0, Math.round(stableBytes / perUnit));
  const wantLeak0 = Math.max(0, Math.round(leakFirst / perLeak));
  const leakPerStep = Math.max(1, Math.round(leakStep / perLeak));

  // Numbers get longer as ids grow, so the bytes per unit creep up with the
  // heap. For large targets, build ~30% first, measure the marginal cost of
  // those units with one more snapshot, and re-plan the rest from it.
  if (wantUnits > 20 * CU) {
    const mid = Math.round(wantUnits * 0.3);
    addUnits(mid - app.units.length, rng);
    const bm = snapshot(calib).size;
    fs.unlinkSync(calib);
    const marginal = (bm - b2) / (mid - CU);
    const bytesSoFar = bm + (wantLeak0 - app.nextReq) * perLeak;
    wantUnits = mid + Math.max(0, Math.round((targets[0] - bytesSoFar) / (marginal * 1.02)));
    console.log(`re-calibration at ${mid} units: ${marginal.toFixed(0)} B/unit, plan ${wantUnits} units`);
  }

  // Build in slices (keeps allocation bursts bounded for big sizes).
  const slice = 200000;
  while (app.units.length < wantUnits) {
    addUnits(Math.min(slice, wantUnits - app.units.length), rng);
  }
  if (app.nextReq < wantLeak0) addLeak(wantLeak0 - app.nextReq, rng);
  const mu = process.memoryUsage();
  console.log(`built ${app.units.length} units, ${app.nextReq} leaked requests; heapUsed ${fmtMB(mu.heapUsed)} MB, rss ${fmtMB(mu.rss)} MB`);

  for (let i = 0; i < N; i++) {
    if (i > 0) {
      churn(0.05, rng);
      addLeak(leakPerStep, rng);
    }
    const tmp = files[i] + '.tmp';
    const r = snapshot(tmp);
    fs.renameSync(tmp, files[i]);
    console.log(`${files[i]}\t${fmtMB(r.size)} MB\t(target ${fmtMB(targets[i])} MB, leaked requests ${app.nextReq}, write ${(r.ms / 1000).toFixed(1)} s)`);
  }
  console.log(`done in ${((Date.now() - tStart) / 1000).toFixed(1)} s, peak rss ${fmtMB(process.resourceUsage().maxRSS * 1024)} MB`);
}

main();
